// sonic delete, purge and orphans through the real commands: locally and through a tardisd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';
import { serveTemp } from '../../internal/testkit/tardisd.ts';

const KiB = 1024;

/** Four sets, each with its own random data; a copy of the source per set. */
async function fourSets(dir: string, repo: string, src: string): Promise<{ id: number; copy: string }[]> {
  const sets = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 6; i++) write(path.join(src, `f${i}`), seededBytes(60 * KiB, `sonic-${round}-${i}`));
    write(path.join(src, 'same'), 'unchanged in every set\n');
    const b = await backup(repo, [src]);
    const copy = path.join(dir, `copy${round}`);
    execFileSync('cp', ['-a', src, copy]);
    sets.push({ id: b.id, copy });
  }
  return sets;
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

const listIds = async (repo: string) => (JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number }[]).map((s) => s.id);

test('sonic delete removes sets (ids, names, ranges), returns the space, and the rest restore', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-delete-');
  const sets = await fourSets(dir, repo, src);
  const names = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; name: string }[];

  // Without a terminal, a destructive command needs --no-confirm; nothing changes otherwise.
  const refused = await runTool('sonic', ['delete', '-R', repo, String(sets[0]!.id)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--no-confirm/);
  assert.deepEqual(await listIds(repo), sets.map((s) => s.id));
  const dry = await mustRun('sonic', ['delete', '-R', repo, '--dry-run', `${sets[0]!.id}-${sets[1]!.id}`]);
  assert.match(dry.stdout, /would delete/);
  assert.deepEqual(await listIds(repo), sets.map((s) => s.id));
  const unknown = await runTool('sonic', ['delete', '-R', repo, '--no-confirm', 'NoSuchSet']);
  assert.equal(unknown.code, 2);

  const before = du(repo);
  const r = await mustRun('sonic', ['delete', '-R', repo, '--no-confirm', `${sets[0]!.id}-${sets[1]!.id}`, names[2]!.name]);
  assert.match(r.stdout, /freed/);
  assert.deepEqual(await listIds(repo), [sets[3]!.id]);
  const after = du(repo);
  assert.ok(after < before * 0.5, `repository ${before} → ${after} bytes`);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(sets[3]!.copy, out);
});

test('sonic purge: by priority before the reference set, dry run first; orphans afterwards finds nothing', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-purge-');
  const sets = await fourSets(dir, repo, src); // Monthly 40, Weekly 30, Daily 20, Backup_ 0
  const dry = await mustRun('sonic', ['purge', '-R', repo, '--priority', '30', '--dry-run']);
  assert.match(dry.stdout, /would purge .*Weekly/);
  assert.match(dry.stdout, /would purge .*Daily/);
  assert.doesNotMatch(dry.stdout, /Monthly/);
  assert.deepEqual(await listIds(repo), sets.map((s) => s.id));
  await mustRun('sonic', ['purge', '-R', repo, '--priority', '30', '--no-confirm']);
  assert.deepEqual(await listIds(repo), [sets[0]!.id, sets[3]!.id]);
  const nothing = await mustRun('sonic', ['purge', '-R', repo, '--priority', '30', '--no-confirm']);
  assert.match(nothing.stdout, /nothing to purge/);
  const gc = JSON.parse((await mustRun('sonic', ['orphans', '-R', repo, '--json'])).stdout) as { chunksDeleted: number };
  assert.equal(gc.chunksDeleted, 0, 'purge already collected');
  for (const s of [sets[0]!, sets[3]!]) {
    const out = path.join(dir, `out${s.id}`);
    await restore(repo, ['-b', String(s.id), '-o', out, src]);
    await assertSameTree(s.copy, out);
  }
});

test('sonic delete and orphans work the same through tardisd', async (t) => {
  const { dir, basedir, src, url: urlOf } = await serveTemp(t, 'sonic-remote-');
  const url = urlOf();
  await backup(url, ['--create', (write(path.join(src, 'a'), seededBytes(200 * KiB, 'remote-a')), src)]);
  write(path.join(src, 'a'), seededBytes(200 * KiB, 'remote-b'));
  const second = await backup(url, [src]);
  const before = du(path.join(basedir, 'client'));
  await mustRun('sonic', ['delete', '-R', url, '--no-confirm', '--repack-below', '100', String(second.id - 1)]);
  assert.deepEqual(await listIds(url), [second.id]);
  assert.ok(du(path.join(basedir, 'client')) < before, 'space returned on the server');
  const out = path.join(dir, 'out');
  await restore(url, ['-o', out, src]);
  await assertSameTree(src, out);
});
