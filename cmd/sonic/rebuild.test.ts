// sonic rebuild through the real commands: the catalog deleted and recreated from packs and set
// snapshots (sets, names, tags, locks, priorities as before; every set restores byte for byte;
// gc afterwards keeps all live data), a healthy catalog kept unless --force, and kill -9 at
// any point of a rebuild leaving the old state or a complete catalog, never half of one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';
import { BIN, mustRun, PASSWORD, runTool } from '../../internal/testkit/testkit.ts';

const KiB = 1024;

const list = async (repo: string) => JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; name: string }[];

function dropCatalog(repo: string): void {
  for (const f of fs.readdirSync(repo)) if (f.startsWith('catalog.db')) fs.rmSync(path.join(repo, f));
}

test('delete catalog.db, rebuild: the same sets and metadata, every set restores, gc keeps live data', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-rebuild-');
  const sets: { id: number; copy: string }[] = [];
  const round = async (i: number, args: string[]) => {
    write(path.join(src, `new${i}`), seededBytes(30 * KiB, `rebuild-${i}`));
    write(path.join(src, 'log'), `round ${i}\n`.repeat(i + 1));
    if (i === 2) fs.rmSync(path.join(src, 'new0'));
    const b = await backup(repo, [...args, src]);
    const copy = path.join(dir, `copy${i}`);
    execFileSync('cp', ['-a', src, copy]);
    sets.push({ id: b.id, copy });
  };
  write(path.join(src, 'sub', 'kept'), seededBytes(80 * KiB, 'kept'));
  fs.symlinkSync('sub/kept', path.join(src, 'link'));
  await round(0, ['--name', 'Start', '--tag', 'first']);
  await round(1, []);
  await round(2, ['--tag', 'third']);
  await round(3, []);
  await mustRun('sonic', ['lock', '-R', repo, '-b', 'Start']);
  await mustRun('sonic', ['priority', '-R', repo, '-b', String(sets[1]!.id), '-p', '77']);
  await mustRun('sonic', ['rename', '-R', repo, '-b', String(sets[3]!.id), '-n', 'Newest']);
  await mustRun('sonic', ['tag', '-R', repo, '-b', String(sets[1]!.id), '-t', 'extra']);
  await mustRun('sonic', ['tag', '-R', repo, '-b', String(sets[1]!.id), '-t', 'third', '--move']);
  const before = await list(repo);

  dropCatalog(repo);
  const lost = await runTool('sonic', ['list', '-R', repo]);
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /catalog of .* is missing: recreate it with `sonic rebuild`/);
  const r = await mustRun('sonic', ['rebuild', '-R', repo]);
  assert.match(r.stdout, /^rebuilt the catalog of .*: 4 sets, \d+ packs/);
  assert.deepEqual(await list(repo), before);

  const restoresAll = async (tag: string) => {
    for (const s of sets) {
      const out = path.join(dir, `out-${tag}-${s.id}`);
      await restore(repo, ['-b', String(s.id), '-o', out, src]);
      await assertSameTree(s.copy, out);
    }
  };
  await restoresAll('rebuilt');
  await mustRun('sonic', ['orphans', '-R', repo, '--repack-below', '100']);
  await restoresAll('gc');
  assert.match((await mustRun('sonic', ['check', '-R', repo, '--read-data'])).stdout, /no damage found/);
  const next = await backup(repo, [src]);
  assert.equal(next.stats.filesRead, 0, 'the rebuilt catalog knows every file is unchanged');
});

test('a healthy catalog is replaced only with --force, and kept as catalog.db.old', async (t) => {
  const { repo, src } = await setupRepo(t, 'sonic-rebuild-force-');
  write(path.join(src, 'f'), 'data\n');
  await backup(repo, [src]);
  const before = await list(repo);
  const refused = await runTool('sonic', ['rebuild', '-R', repo]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is healthy \(1 sets\).*--force/);
  const r = await mustRun('sonic', ['rebuild', '-R', repo, '--force', '--json']);
  const report = JSON.parse(r.stdout) as { previous: string; sets: unknown[] };
  assert.equal(report.previous, path.join(repo, 'catalog.db.old'));
  assert.ok(fs.existsSync(report.previous));
  assert.deepEqual(await list(repo), before);
});

/** Starts `sonic rebuild ARGS` in its own process group; SIGKILLs it `delay` ms after its temporary catalog appears. */
async function rebuildKilled(repo: string, args: string[], delay: number): Promise<boolean> {
  const child = spawn(path.join(BIN, 'sonic'), ['rebuild', '-R', repo, ...args], {
    detached: true, stdio: 'ignore', env: { ...process.env, TARDIS_PASSWORD: PASSWORD },
  });
  let finished = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => {
    finished = true;
    resolve();
  }));
  const tmp = path.join(repo, 'tmp');
  const building = () => fs.existsSync(tmp) && fs.readdirSync(tmp).some((f) => f.startsWith('catalog-rebuild-'));
  while (!finished && !building()) await sleep(2);
  if (delay) await sleep(delay);
  const killed = !finished;
  if (killed) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  await exited;
  return killed;
}

test('kill -9 during a rebuild leaves the old state or a complete catalog, never half of one', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-rebuild-kill-');
  // Enough entries that a rebuild takes a while: many small files in several sets.
  for (let d = 0; d < 30; d++) for (let f = 0; f < 40; f++) write(path.join(src, `d${d}`, `f${f}`), `${d}/${f}\n`);
  for (let i = 0; i < 5; i++) {
    write(path.join(src, `d${i}`, 'changed'), `round ${i}\n`);
    await backup(repo, [src]);
  }
  const before = await list(repo);
  const copy = path.join(dir, 'copy');
  execFileSync('cp', ['-a', src, copy]);
  const catalog = path.join(repo, 'catalog.db');

  // No catalog: a killed rebuild leaves none (the state it started from) or a complete one.
  dropCatalog(repo);
  let kills = 0;
  for (const delay of [0, 50, 150, 300, 600, 1000, 2000, 4000]) {
    const killed = await rebuildKilled(repo, [], delay);
    if (!killed) break;
    kills++;
    if (fs.existsSync(catalog)) break; // killed after the switch: complete (checked below)
    assert.ok(!fs.existsSync(`${catalog}-wal`), 'no log without its catalog');
    const r = await runTool('sonic', ['list', '-R', repo]);
    assert.equal(r.code, 1, 'the repository still says its catalog is missing');
  }
  assert.ok(kills >= 2, `killed only ${kills} times`);
  if (!fs.existsSync(catalog)) await mustRun('sonic', ['rebuild', '-R', repo]);
  assert.deepEqual(await list(repo), before);
  assert.deepEqual(fs.readdirSync(path.join(repo, 'tmp')).filter((f) => f.startsWith('catalog-rebuild-')), [], 'leftovers cleaned');

  // A healthy catalog replaced with --force: killed, the old one is still in place (or aside, whole).
  for (const delay of [0, 100, 400, 1000]) {
    fs.rmSync(`${catalog}.old`, { force: true });
    const inode = fs.statSync(catalog).ino;
    const killed = await rebuildKilled(repo, ["--force"], delay);
    const now = fs.statSync(catalog, { throwIfNoEntry: false });
    if (!fs.existsSync(`${catalog}.old`)) assert.equal(now?.ino, inode, 'before the switch the old catalog is untouched');
    else assert.equal(fs.statSync(`${catalog}.old`).ino, inode, 'the old catalog is kept whole');
    if (!now) await mustRun('sonic', ['rebuild', '-R', repo]);
    assert.deepEqual(await list(repo), before);
    if (!killed) break;
  }
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(copy, out);
});
