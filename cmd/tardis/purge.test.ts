// tardis --purge after a backup, with Tardis' inverted relative/absolute cut-off bug fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';

const sets = async (repo: string) => JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; name: string; priority: number }[];

test('tardis --purge deletes older low-priority sets by --keep-hours/--keep-days/--keep-time and collects their data', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-purge-');
  const round = async (i: number, args: string[] = []) => {
    write(path.join(src, 'data'), seededBytes(100_000, `purge-${i}`));
    return backup(repo, [...args, src]);
  };
  for (let i = 0; i < 4; i++) await round(i); // Monthly 40, Weekly 30, Daily 20, Backup_ 0
  const four = await sets(repo);
  assert.deepEqual(four.map((s) => s.priority), [40, 30, 20, 0]);

  // Absolute cut-off in the past: nothing ended before 1970 (Tardis' inverted flag made the
  // relative forms behave like this; here only the absolute one does).
  const none = await round(4, ['--purge', '--purge-priority', '20', '--keep-time', '1970-01-02']);
  assert.deepEqual((none as unknown as { purged: unknown[] }).purged, []);
  // Default cut-off: the new set's own keep days; a Backup_ set keeps everything.
  const byDefault = await round(5, ['--purge', '-v']);
  assert.match(byDefault.run.stderr, /keeps everything/);
  assert.equal((await sets(repo)).length, 6);

  // Relative: --keep-hours 0 means "everything that ended before now".
  const purged = await round(6, ['--purge', '--purge-priority', '20', '--keep-hours', '0']) as unknown as { id: number; purged: { name: string }[]; gc: { chunksDeleted: number } };
  // Daily (20) and the four Backup_ sets (0) before the new one.
  assert.equal(purged.purged.length, 4);
  assert.deepEqual(purged.purged.slice(0, 2).map((p) => p.name), [four[2]!.name, four[3]!.name]);
  const left = await sets(repo);
  assert.deepEqual(left.map((s) => s.priority), [40, 30, 0], 'Monthly, Weekly and the new set stay');
  assert.ok(purged.gc.chunksDeleted > 0, 'their data is collected');
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);

  const both = await runTool('tardis', ['-R', repo, '--purge', '--keep-days', '1', '--keep-hours', '2', src]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /one of --keep-days/);
  assert.equal((await sets(repo)).length, 3, 'a bad purge option stops before the backup');
});
