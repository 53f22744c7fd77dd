// sonic tag, lock, unlock, priority and rename, and what they mean for purge and set selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { backup, setupRepo, write } from '../../internal/testkit/fixtures.ts';

interface Set { id: number; name: string; priority: number; locked: boolean; tags: string[] }
const list = async (repo: string) => JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as Set[];

test('sonic tag/lock/unlock/priority/rename change one set; exit codes are 0 on success (Tardis\' inverted rename fixed)', async (t) => {
  const { repo, src } = await setupRepo(t, 'sonic-sets-');
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    write(path.join(src, 'f'), `round ${i}\n`);
    ids.push((await backup(repo, [src])).id);
  }
  const [a, b, c] = ids as [number, number, number];

  const renamed = await runTool('sonic', ['rename', '-R', repo, '-b', String(a), '--name', 'Before-Upgrade']);
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.equal((await list(repo))[0]!.name, 'Before-Upgrade');
  const clash = await runTool('sonic', ['rename', '-R', repo, '-b', String(b), '--name', 'Before-Upgrade']);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /already exists/);

  await mustRun('sonic', ['tag', '-R', repo, '-b', 'Before-Upgrade', '-t', 'keep', '-t', 'gold']);
  assert.deepEqual((await list(repo))[0]!.tags.sort(), ['gold', 'keep']);
  const taken = await runTool('sonic', ['tag', '-R', repo, '-b', String(c), '-t', 'keep']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /--move/);
  await mustRun('sonic', ['tag', '-R', repo, '-b', String(c), '-t', 'keep', '--move']);
  const moved = await list(repo);
  assert.deepEqual(moved[0]!.tags, ['gold']);
  assert.deepEqual(moved[2]!.tags, ['keep']);
  await mustRun('sonic', ['tag', '-R', repo, '-b', 'gold', '-t', 'gold', '-r']);
  assert.deepEqual((await list(repo))[0]!.tags, [], 'a set chosen by its tag, and the tag removed');

  await mustRun('sonic', ['priority', '-R', repo, '-b', String(b), '-p', '5']);
  await mustRun('sonic', ['lock', '-R', repo, '-b', 'Before-Upgrade']);
  await mustRun('sonic', ['priority', '-R', repo, '-b', 'Before-Upgrade', '-p', '0']);
  const dry = await mustRun('sonic', ['purge', '-R', repo, '--priority', '10', '--dry-run']);
  assert.doesNotMatch(dry.stdout, /Before-Upgrade/, 'a locked set is never purged');
  assert.match(dry.stdout, new RegExp(`id ${b}, priority 5`));
  await mustRun('sonic', ['unlock', '-R', repo, '-b', 'Before-Upgrade']);
  const dry2 = await mustRun('sonic', ['purge', '-R', repo, '--priority', '10', '--dry-run']);
  assert.match(dry2.stdout, /Before-Upgrade/);
  assert.ok((await list(repo)).every((s) => !s.locked));

  const missing = await runTool('sonic', ['lock', '-R', repo, '-b', 'NoSuchSet']);
  assert.equal(missing.code, 2);
  const bad = await runTool('sonic', ['priority', '-R', repo, '-p', 'high']);
  assert.equal(bad.code, 1);
});
