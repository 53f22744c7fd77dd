// kill -9 mid-backup through a real tardisd: of the client (bin/tardis with a tardis:// URL, its
// whole process group), and of tardisd itself, which is then started again. Either way the next
// run resumes the interrupted set and completes, and the restore verifies.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { assertSameTree, backup, restore, seededBytes, write } from '../../internal/testkit/fixtures.ts';
import { backupKilled } from '../../internal/testkit/kill.ts';
import { startTardisd, waitFor } from '../../internal/testkit/tardisd.ts';
import { mustRun, tempDir } from '../../internal/testkit/testkit.ts';

const MiB = 1 << 20;

/** ~24 MiB in eight files (random: every chunk is new) and a few small ones. */
function setup(t: TestContext, prefix: string): { dir: string; basedir: string; src: string } {
  const { dir, cleanup } = tempDir(prefix);
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const src = path.join(dir, 'src');
  for (let i = 0; i < 8; i++) write(path.join(src, `d${i % 2}`, `big${i}`), seededBytes(3 * MiB + i, `${prefix}${i}`));
  for (let i = 0; i < 10; i++) write(path.join(src, 'small', `f${i}`), `small file ${i}\n`);
  return { dir, basedir, src };
}

const DAEMON = ['--address', '127.0.0.1', '--port', '0', '--allow-new-hosts', '-v'];

/** Where the backup of `client` is at: its lock taken; a first pack (16 MiB) stored; and recorded. */
function points(basedir: string, client: string): { lock: string; packStored: () => boolean; packRecorded: () => boolean } {
  const root = path.join(basedir, client);
  const packStored = () => fs.existsSync(path.join(root, 'packs')) &&
    fs.readdirSync(path.join(root, 'packs'), { recursive: true }).some((f) => /[0-9a-f]{32}$/.test(String(f)));
  // Recorded: the catalog lists a pack (its chunk rows commit in the same transaction). Asked of
  // the catalog itself: other writes (directories riding along) change its log meanwhile.
  const packRecorded = () => {
    if (!packStored()) return false;
    try {
      const db = new DatabaseSync(path.join(root, 'catalog.db'), { readOnly: true });
      try {
        return Number((db.prepare('SELECT count(*) AS n FROM packs').get() as { n: number }).n) > 0;
      } finally {
        db.close();
      }
    } catch {
      return false; // busy or not there yet: ask again
    }
  };
  return { lock: path.join(root, 'locks', 'backup'), packStored, packRecorded };
}

/** Sets of the repository as `sonic list --json` gives them. */
async function sets(url: string): Promise<{ id: number; completed: boolean }[]> {
  return JSON.parse((await mustRun('sonic', ['list', '--json', '-R', url])).stdout) as { id: number; completed: boolean }[];
}

/** The next backup resumes set `id`, completes it, and the restore matches the source. */
async function resumesAndVerifies(url: string, dir: string, src: string, id: number): Promise<void> {
  const b = await backup(url, [src]);
  assert.equal(b.resumed, true, 'resumed');
  assert.equal(b.id, id);
  assert.equal(b.stats.problems, 0);
  // The pack stored before the kill (16 of the 24 MiB) is not sent again.
  assert.ok(b.stats.bytesNew <= 10 * MiB, `${b.stats.bytesNew} bytes sent again`);
  assert.deepEqual((await sets(url)).map((s) => s.completed), [true]);
  const out = path.join(dir, 'out');
  await restore(url, ['-o', out, src]);
  await assertSameTree(src, out);
}

test('kill -9 of the client mid-backup: the next run resumes and completes; the restore verifies', async (t) => {
  const { dir, basedir, src } = setup(t, 'tardisd-kill-client-');
  const d = await startTardisd(t, ['--basedir', basedir, ...DAEMON]);
  const url = `tardis://127.0.0.1:${d.port}/laptop`;
  const at = points(basedir, 'laptop');
  const k = await backupKilled(url, ['--create', src], at.packStored, { lock: at.lock });
  assert.equal(k.finished, false, `the backup ended before the kill:\n${k.result.stderr}`);
  assert.equal(k.result.signal, 'SIGKILL');
  // tardisd notices the dropped connection and aborts the backup (the set stays, incomplete).
  await waitFor('tardisd to end the session', () => /client 'laptop' \(.*\): session ended/.test(d.stderr()));
  const left = await sets(url);
  assert.deepEqual(left.map((s) => s.completed), [false]);
  await resumesAndVerifies(url, dir, src, left[0]!.id);
  assert.equal((await d.stop()).code, 0);
});

test('kill -9 of tardisd mid-backup: the client fails clearly; after a restart the next run resumes; the restore verifies', async (t) => {
  const { dir, basedir, src } = setup(t, 'tardisd-kill-server-');
  const first = await startTardisd(t, ['--basedir', basedir, ...DAEMON]);
  const at = points(basedir, 'laptop');
  const k = await backupKilled(`tardis://127.0.0.1:${first.port}/laptop`, ['--create', src], at.packRecorded, {
    lock: at.lock,
    kill: () => first.child.kill('SIGKILL'),
  });
  assert.equal(k.finished, false, `the backup ended before the kill:\n${k.result.stderr}`);
  assert.deepEqual(await first.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(k.result.code, 1, k.result.stderr);
  t.diagnostic(`the client said: ${k.result.stderr.trim()}`);
  assert.match(k.result.stderr, /^tardis: error: connection (to|closed by) tardisd at 127\.0\.0\.1:\d+ .*\n$/, 'one line naming the server');
  assert.ok(fs.existsSync(path.join(basedir, 'laptop', 'locks', 'backup')), 'the dead server left its lock');

  const second = await startTardisd(t, ['--basedir', basedir, ...DAEMON]);
  const url = `tardis://127.0.0.1:${second.port}/laptop`;
  const left = await sets(url);
  assert.deepEqual(left.map((s) => s.completed), [false]);
  await resumesAndVerifies(url, dir, src, left[0]!.id);
  assert.equal((await second.stop()).code, 0);
});
