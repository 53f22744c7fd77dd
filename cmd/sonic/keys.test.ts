// sonic setpass, chpass and keys, locally and through tardisd: the old password stops working,
// nothing is re-encrypted, and a repository whose keys were moved out needs --keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun, runTool, tempDir } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';
import { serveTemp } from '../../internal/testkit/tardisd.ts';

const packsOf = (repo: string) => fs.readdirSync(path.join(repo, 'packs'), { recursive: true }).map(String).sort();
const withPw = (pw: string) => ({ env: { TARDIS_PASSWORD: pw } });

test('chpass re-wraps the keys: old password refused, new one opens, the data untouched', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-chpass-');
  write(path.join(src, 'f'), seededBytes(300_000, 'chpass'));
  await backup(repo, [src]);
  const packs = packsOf(repo);
  const auth = fs.readFileSync(path.join(repo, 'auth'), 'utf8');

  const noNew = await runTool('sonic', ['chpass', '-R', repo]);
  assert.equal(noNew.code, 1);
  assert.match(noNew.stderr, /--newpassword/);
  const r = await mustRun('sonic', ['chpass', '-R', repo, '--newpassword', 'second secret']);
  assert.match(r.stdout, /old password no longer opens it/);
  const old = await runTool('sonic', ['list', '-R', repo]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /wrong password/);
  await mustRun('sonic', ['list', '-R', repo], withPw('second secret'));
  assert.deepEqual(packsOf(repo), packs, 'no data rewritten');
  assert.notEqual(fs.readFileSync(path.join(repo, 'auth'), 'utf8'), auth, 'the tardisd login changed too');
  assert.equal(fs.readdirSync(path.join(repo, 'keys')).length, 1);

  // New password from a file; then a restore with it verifies.
  const pwFile = path.join(dir, 'pw');
  fs.writeFileSync(pwFile, 'third secret\n');
  await mustRun('sonic', ['chpass', '-R', repo, '--newpassword-file', pwFile], withPw('second secret'));
  await restore(repo, ['-o', path.join(dir, 'out'), src], withPw('third secret'));
  await assertSameTree(src, path.join(dir, 'out'));
});

test('setpass protects a repository created without a password', async (t) => {
  const { dir, cleanup } = tempDir('sonic-setpass-');
  t.after(cleanup);
  const repo = path.join(dir, 'repo');
  const src = path.join(dir, 'src');
  write(path.join(src, 'a'), 'open data\n');
  await mustRun('sonic', ['create', '-R', repo, '--no-password']);
  await backup(repo, [src], { env: { TARDIS_PASSWORD: '' } });
  const set = await mustRun('sonic', ['setpass', '-R', repo, '-P', 'now protected'], { env: { TARDIS_PASSWORD: '' } });
  assert.match(set.stdout, /now needs its password/);
  const none = await runTool('sonic', ['list', '-R', repo], { env: { TARDIS_PASSWORD: '' } });
  assert.equal(none.code, 255, 'no password to be had: 255, as in Tardis');
  assert.match(none.stderr, /no password given/);
  await restore(repo, ['-o', path.join(dir, 'out'), src], withPw('now protected'));
  await assertSameTree(src, path.join(dir, 'out'));
  const again = await runTool('sonic', ['setpass', '-R', repo, '--newpassword', 'x'], withPw('now protected'));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /sonic chpass/);
});

test('keys --extract --delete moves the keys out (the repository alone no longer opens), --insert brings them back', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-keys-');
  write(path.join(src, 'f'), 'secret\n');
  await backup(repo, [src]);
  const keyFile = path.join(dir, 'client.keys');
  const noFile = await runTool('sonic', ['keys', '-R', repo, '--extract']);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /--keys FILE/);

  await mustRun('sonic', ['keys', '-R', repo, '--keys', keyFile, '--extract', '--delete']);
  assert.equal((fs.statSync(keyFile).mode & 0o777).toString(8), '600');
  assert.deepEqual(fs.readdirSync(path.join(repo, 'keys')), []);
  const without = await runTool('regenerate', ['-R', repo, '-o', path.join(dir, 'x'), src]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /give --keys FILE/);
  await restore(repo, ['--keys', keyFile, '-o', path.join(dir, 'out'), src]);
  await assertSameTree(src, path.join(dir, 'out'));
  await backup(repo, [src], { env: { TARDIS_KEYFILE: keyFile } });
  // A second extract must not clobber the only copy.
  const clobber = await runTool('sonic', ['keys', '-R', repo, '--keys', keyFile, '--extract']);
  assert.equal(clobber.code, 1);

  // chpass rewrites the key file the keys came from.
  await mustRun('sonic', ['chpass', '-R', repo, '--keys', keyFile, '--newpassword', 'moved and changed']);
  assert.equal((await runTool('sonic', ['list', '-R', repo, '--keys', keyFile])).code, 1);
  await mustRun('sonic', ['list', '-R', repo, '--keys', keyFile], withPw('moved and changed'));

  await mustRun('sonic', ['keys', '-R', repo, '--keys', keyFile, '--insert', '--delete'], withPw('moved and changed'));
  assert.equal(fs.existsSync(keyFile), false);
  await mustRun('sonic', ['list', '-R', repo], withPw('moved and changed'));

  // A key file of another repository is refused by name.
  const other = await setupRepo(t, 'sonic-keys-other-');
  const otherKeys = path.join(dir, 'other.keys');
  await mustRun('sonic', ['keys', '-R', other.repo, '--keys', otherKeys, '--extract']);
  const wrong = await runTool('sonic', ['list', '-R', repo, '--keys', otherKeys], withPw('moved and changed'));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /keys of another repository/);
});

test('chpass through tardisd changes the login: the old password is refused at login', async (t) => {
  const { dir, src, daemon, url } = await serveTemp(t, 'sonic-chpass-remote-');
  write(path.join(src, 'f'), 'remote\n');
  await backup(url(), ['--create', src]);
  await mustRun('sonic', ['chpass', '-R', url(), '--newpassword', 'remote two']);
  const old = await runTool('sonic', ['list', '-R', url()]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /wrong password/);
  await restore(url(), ['-o', path.join(dir, 'out'), src], withPw('remote two'));
  await assertSameTree(src, path.join(dir, 'out'));
  assert.equal((await daemon.stop()).code, 0);
});
