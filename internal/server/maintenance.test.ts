import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../testkit/fixtures.ts';
import { mustRun } from '../testkit/testkit.ts';
import { collectGarbage, deleteSets, purge, purgeCandidates } from './maintenance.ts';
import { ServerRepository } from './repository.ts';

const KiB = 1024;

/** Five sets of a changing tree; a copy of the source as each set saw it. */
async function history(dir: string, repo: string, src: string): Promise<{ id: number; copy: string }[]> {
  const sets: { id: number; copy: string }[] = [];
  for (let round = 0; round < 5; round++) {
    // Every round rewrites the f files with fresh random data (so each set holds data no other
    // needs), keeps the s files (shared by every set) and deletes one file.
    for (let i = 0; i < 12; i++) {
      write(path.join(src, `d${i % 3}`, `f${i}`), seededBytes(40 * KiB + i * 1000, `r${round}-f${i}`));
      if (round === 0) write(path.join(src, `d${i % 3}`, `s${i}`), seededBytes(20 * KiB, `s${i}`));
    }
    fs.rmSync(path.join(src, `d${round % 3}`, `s${round}`), { force: true });
    write(path.join(src, 'log'), `round ${round}\n`.repeat(round + 1));
    const b = await backup(repo, [src]);
    const copy = path.join(dir, `copy${round}`);
    execFileSync('cp', ['-a', src, copy]);
    sets.push({ id: b.id, copy });
  }
  return sets;
}

async function storeSize(root: string): Promise<number> {
  let total = 0;
  for (const kind of ['packs', 'snapshots']) {
    for (const f of fs.readdirSync(path.join(root, kind), { recursive: true, withFileTypes: true })) {
      if (f.isFile()) total += fs.statSync(path.join(f.parentPath, f.name)).size;
    }
  }
  return total;
}

async function assertRestores(dir: string, repo: string, src: string, sets: { id: number; copy: string }[], tag: string): Promise<void> {
  for (const s of sets) {
    const out = path.join(dir, `out-${tag}-${s.id}`);
    await restore(repo, ['-b', String(s.id), '-o', out, src]);
    await assertSameTree(s.copy, out);
  }
}

test('deleting half the sets and collecting garbage returns space; the rest restore exactly', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-gc-');
  const sets = await history(dir, repo, src);
  const before = await storeSize(repo);

  const r = await ServerRepository.open(repo);
  try {
    const gone = [sets[0]!.id, sets[2]!.id];
    assert.equal(await deleteSets(r, gone), 2);
    // Their snapshot manifests go with them (else a rebuild would bring the sets back).
    assert.equal(fs.readdirSync(path.join(repo, 'snapshots')).length, sets.length - 2, 'the deleted sets\' snapshot files are removed');
    const afterDelete = await storeSize(repo);
    await assert.rejects(deleteSets(r, [9999]), /no such set: 9999/);
    // Small packs so that rewriting has several packs to work with.
    const report = await collectGarbage(r, { repackBelow: 0.9, packSize: 64 * KiB });
    assert.ok(report.chunksDeleted > 0, `chunks deleted: ${JSON.stringify(report)}`);
    assert.ok(report.packsDeleted + report.packsRepacked > 0, JSON.stringify(report));
    assert.equal(report.bytesBefore, afterDelete);
    assert.ok(report.bytesAfter < before * 0.75, `space returned: ${before} → ${report.bytesAfter}`);
    assert.equal(await storeSize(repo), report.bytesAfter);
    // A second run finds nothing more to do.
    const again = await collectGarbage(r, { repackBelow: 0.9, packSize: 64 * KiB });
    assert.equal(again.chunksDeleted + again.packsDeleted + again.strayFilesDeleted, 0, JSON.stringify(again));
  } finally {
    r.close();
  }
  const remaining = sets.filter((_, i) => i !== 0 && i !== 2);
  await assertRestores(dir, repo, src, remaining, 'after');
  const listed = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number }[];
  assert.deepEqual(listed.map((s) => s.id), remaining.map((s) => s.id));

  // A backup after the gc stores only what it must and restores.
  write(path.join(src, 'new'), 'after gc\n');
  const next = await backup(repo, [src]);
  assert.equal(next.stats.filesRead, 1, 'unchanged files are still recognised after the listing caches were dropped');
  await assertRestores(dir, repo, src, [{ id: next.id, copy: src }], 'next');
});

test('purge deletes by priority, age and reference set, never locked ones', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-purge-');
  const sets = await history(dir, repo, src);
  const r = await ServerRepository.open(repo);
  try {
    // Sets 1..5 are Monthly (40), Weekly (30), Daily (20), Backup_ (0), Backup_ (0).
    await r.db.execute('UPDATE sets SET locked = 1 WHERE id = ?', [sets[3]!.id]);
    const now = Date.now();
    const cands = await purgeCandidates(r, { priority: 20, before: now, belowId: sets[4]!.id });
    assert.deepEqual(cands.map((s) => s.id), [sets[2]!.id], 'Daily only: Backup_ 4 is locked, 5 is the reference');
    assert.deepEqual(await purgeCandidates(r, { priority: 40, before: 0, belowId: 1e9 }), [], 'nothing that old');
    const purged = await purge(r, { priority: 20, before: now, belowId: sets[4]!.id });
    assert.deepEqual(purged.map((s) => s.id), [sets[2]!.id]);
    await collectGarbage(r);
  } finally {
    r.close();
  }
  await assertRestores(dir, repo, src, sets.filter((_, i) => i !== 2), 'purge');
});

test('kill -9 of a garbage collection at any point leaves a repository that restores', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-gc-kill-');
  const sets = await history(dir, repo, src);
  const r = await ServerRepository.open(repo);
  await deleteSets(r, [sets[0]!.id, sets[1]!.id, sets[2]!.id]);
  r.close();
  const script = path.join(dir, 'gc.ts');
  fs.writeFileSync(script, [
    `import { collectGarbage } from ${JSON.stringify(new URL('./maintenance.ts', import.meta.url).pathname)};`,
    `import { ServerRepository } from ${JSON.stringify(new URL('./repository.ts', import.meta.url).pathname)};`,
    `const r = await ServerRepository.open(process.argv[2]);`,
    `await collectGarbage(r, { repackBelow: 0.95, packSize: 32 * 1024 });`,
    `r.close();`,
  ].join('\n'));
  const remaining = sets.slice(3);
  let interrupted = 0;
  for (const delay of [40, 120, 250, 400]) {
    const child = spawn(process.execPath, [script, repo], { stdio: 'ignore' });
    const closed = new Promise<NodeJS.Signals | null>((res) => child.on('close', (_code, signal) => res(signal)));
    await sleep(delay);
    child.kill('SIGKILL');
    if ((await closed) === 'SIGKILL') interrupted++;
    // The killed run's lock is stale (its pid is gone) and is taken over.
    await assertRestores(dir, repo, src, remaining.slice(-1), `kill${delay}`);
  }
  assert.ok(interrupted >= 2, `${interrupted} of 4 runs were killed before they finished`);
  const done = await new Promise<number | null>((res) => spawn(process.execPath, [script, repo], { stdio: 'inherit' }).on('close', res));
  assert.equal(done, 0);
  await assertRestores(dir, repo, src, remaining, 'final');
});
