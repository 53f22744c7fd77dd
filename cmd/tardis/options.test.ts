// The tardis options the round-trip and fault suites do not already exercise: --create,
// --full, --compress-data, --crossdevice, --stats and --progress (on a real pseudo-terminal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PASSWORD, BIN, mustRun, runTool, tempDir } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';

const MiB = 1 << 20;

test('--create makes the repository on the first backup and refuses an existing one', async (t) => {
  const { dir, cleanup } = tempDir('tardis-options-create-');
  t.after(cleanup);
  const src = path.join(dir, 'src');
  write(path.join(src, 'f'), 'hello\n');
  const repo = path.join(dir, 'repo', 'laptop');
  const first = await backup(repo, ['--create', src]);
  assert.equal(first.stats.files, 1);
  assert.ok(fs.existsSync(path.join(repo, 'config')));
  const again = await runTool('tardis', ['-R', repo, '--create', src]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists/);
  assert.equal(again.stderr.trim().split('\n').length, 1, 'one clear line');
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
});

test('--full reads every file again but stores nothing new', async (t) => {
  const { repo, src } = await setupRepo(t, 'tardis-options-full-');
  for (let i = 0; i < 20; i++) write(path.join(src, `d${i % 4}`, `f${i}`), seededBytes(5000 + i, `full${i}`));
  const first = await backup(repo, [src]);
  const normal = await backup(repo, [src]);
  assert.equal(normal.stats.filesRead, 0);
  const full = await backup(repo, ['--full', src]);
  assert.equal(full.stats.filesRead, 20);
  assert.equal(full.stats.bytesRead, first.stats.bytesRead);
  assert.equal(full.stats.chunksNew, 0, 'the content is already stored');
});

test('--compress-data zstd, gzip and none store compressible data accordingly, all restore exactly', async (t) => {
  const { dir, src } = await setupRepo(t, 'tardis-options-compress-');
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(50_000)); // ~2 MiB
  write(path.join(src, 'text'), text);
  write(path.join(src, 'random'), seededBytes(MiB, 'random'));
  const stored: Record<string, number> = {};
  for (const alg of ['zstd', 'gzip', 'none']) {
    const repo = path.join(dir, 'repo', alg);
    await mustRun('sonic', ['create', '-R', repo]);
    const b = await backup(repo, ['--compress-data', alg, src]);
    stored[alg] = b.stats.bytesStored;
    const out = path.join(dir, `out-${alg}`);
    await restore(repo, ['-o', out, src]);
    await assertSameTree(src, out);
  }
  const plain = text.length + MiB;
  assert.ok(stored.none! >= plain, `none stores at least the plaintext (${stored.none} vs ${plain})`);
  assert.ok(stored.zstd! < MiB + text.length / 10, `zstd compresses the text (${stored.zstd})`);
  assert.ok(stored.gzip! < MiB + text.length / 10, `gzip compresses the text (${stored.gzip})`);
  const bad = await runTool('tardis', ['-R', path.join(dir, 'repo', 'zstd'), '--compress-data', 'lz4', src]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--compress-data: 'lz4' is not one of zstd, gzip, zlib, none/);
});

test('--crossdevice: another file system below a root is recorded empty unless asked for', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-options-xdev-');
  write(path.join(src, 'here'), 'on the root file system\n');
  const mnt = path.join(src, 'mnt');
  fs.mkdirSync(mnt);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status === 0;
  if (!mounted) {
    t.skip('cannot mount a tmpfs here');
    return;
  }
  // Unmounted here, not in t.after: the temp dir's own cleanup would run first and fail.
  try {
    write(path.join(mnt, 'there'), 'on the other file system\n');

    const same = await backup(repo, [src]);
    const outSame = path.join(dir, 'same');
    await restore(repo, ['-b', String(same.id), '-o', outSame, src]);
    assert.ok(fs.statSync(path.join(outSame, 'mnt')).isDirectory());
    assert.deepEqual(fs.readdirSync(path.join(outSame, 'mnt')), [], 'the mount point is kept, empty');

    const cross = await backup(repo, ['--crossdevice', src]);
    const outCross = path.join(dir, 'cross');
    await restore(repo, ['-b', String(cross.id), '-o', outCross, src]);
    assert.equal(fs.readFileSync(path.join(outCross, 'mnt', 'there'), 'utf8'), 'on the other file system\n');
  } finally {
    spawnSync('umount', ['-l', mnt]);
  }
});

test('--stats prints a summary; without a terminal and without --progress stderr stays empty', async (t) => {
  const { repo, src } = await setupRepo(t, 'tardis-options-stats-');
  write(path.join(src, 'a'), 'a\n');
  const quiet = await mustRun('tardis', ['-R', repo, src]);
  assert.equal(quiet.stdout, '');
  assert.equal(quiet.stderr, '', 'silent under cron');
  const stats = await mustRun('tardis', ['-R', repo, '--stats', src]);
  for (const label of ['Set:', 'Runtime:', 'Dirs:', 'Files:', 'Read:', 'New data:']) assert.match(stats.stdout, new RegExp(`^${label}`, 'm'));
});

test('--progress draws a live line on a terminal and clears it at the end', async (t) => {
  const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
  if (!script) {
    t.skip('script(1) is not installed: no pseudo-terminal to test with');
    return;
  }
  const { dir, repo, src } = await setupRepo(t, 'tardis-options-progress-');
  for (let i = 0; i < 300; i++) write(path.join(src, `d${i % 10}`, `f${i}`), seededBytes(20_000, `p${i}`));
  const log = path.join(dir, 'tty.log');
  const cmd = `${path.join(BIN, 'tardis')} -R '${repo}' '${src}'`;
  // script(1) gives the command a pseudo-terminal: progress is on by default there.
  execFileSync(script, ['-qfec', cmd, log], { env: { ...process.env, TARDIS_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  const tty = fs.readFileSync(log, 'latin1');
  const frames = tty.split('\r').filter((f) => /\d+ files +\d+ dirs/.test(f));
  assert.ok(frames.length >= 1, `progress frames on the terminal:\n${JSON.stringify(tty.slice(0, 400))}`);
  assert.match(tty, /\r\x1b\[K/, 'the line is cleared at the end');
  const piped = await mustRun('tardis', ['-R', repo, '--progress', src]);
  assert.match(piped.stderr, /files +\d+ dirs/, '--progress forces it on without a terminal');
});

test('a repository inside the backed-up tree is left out (its .tardis-skip)', async (t) => {
  const { dir, cleanup } = tempDir('tardis-options-self-');
  t.after(cleanup);
  const src = path.join(dir, 'src');
  write(path.join(src, 'keep'), 'kept\n');
  const repo = path.join(src, 'backups', 'me');
  await mustRun('sonic', ['create', '-R', repo]);
  assert.ok(fs.existsSync(path.join(repo, '.tardis-skip')));
  const b = await backup(repo, [src]);
  assert.equal(b.stats.files, 1, 'only src/keep: the repository itself is not read');
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  assert.equal(fs.readFileSync(path.join(out, 'keep'), 'utf8'), 'kept\n');
  assert.equal(fs.existsSync(path.join(out, 'backups', 'me', 'config')), false);
});
