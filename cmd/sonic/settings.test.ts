// The retention policy: sonic getconfig/setconfig overrides, AutoPurge, ForceFull and Disabled,
// the client config's Formats for file: repositories, and tardisd's own policy keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';
import { serveTemp } from '../../internal/testkit/tardisd.ts';

interface Set { id: number; name: string; priority: number; keepDays: number; full: boolean }
const list = async (repo: string, env = {}) => JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'], { env })).stdout) as Set[];
const getconfig = async (repo: string) => JSON.parse((await mustRun('sonic', ['getconfig', '-R', repo, '--json'])).stdout) as Record<string, { value: string; overridden: boolean }>;

const storeBytes = (repo: string) => fs.readdirSync(path.join(repo, 'packs'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).reduce((n, e) => n + fs.statSync(path.join(e.parentPath, e.name)).size, 0);

/** Moves sets `days` into the past, as if they had been made then. */
function age(repo: string, ids: number[], days: number): void {
  const db = new DatabaseSync(path.join(repo, 'catalog.db'));
  try {
    db.prepare(`UPDATE sets SET start_time = start_time - ?, end_time = end_time - ? WHERE id IN (${ids.join(',')})`).run(days * 86_400_000, days * 86_400_000);
  } finally {
    db.close();
  }
}

test('getconfig shows the defaults; setconfig overrides keys, checked as a whole; --unset drops them', async (t) => {
  const { repo } = await setupRepo(t, 'sonic-config-');
  const defaults = await getconfig(repo);
  assert.equal(defaults.Formats!.value, 'Monthly-%Y-%m, Weekly-%Y-%U, Daily-%Y-%m-%d');
  assert.equal(defaults.KeepDays!.value, '0, 180, 30');
  assert.equal(defaults.AutoPurge!.value, 'false');
  assert.ok(Object.values(defaults).every((v) => !v.overridden));

  const alone = await runTool('sonic', ['setconfig', '-R', repo, '--key', 'Formats', '--value', 'Hourly-%Y-%m-%d-%H']);
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, /Priorities has 3 value\(s\) but Formats has 1/);
  await mustRun('sonic', ['setconfig', '-R', repo, '--key', 'formats', '--value', 'Hourly-%Y-%m-%d-%H, Daily-%Y-%m-%d',
    '--key', 'Priorities', '--value', '10,20', 'KeepDays=2,30', 'ForceFull=0,1']);
  const set = await getconfig(repo);
  assert.equal(set.Formats!.value, 'Hourly-%Y-%m-%d-%H, Daily-%Y-%m-%d');
  assert.equal(set.ForceFull!.value, '0, 1');
  assert.ok(set.Formats!.overridden && !set.AutoPurge!.overridden);
  const table = await mustRun('sonic', ['getconfig', '-R', repo, '-k', 'Priorities']);
  assert.match(table.stdout, /Priorities\s+10, 20\s+repository/);

  for (const [args, why] of [
    [['Bogus=1'], /unknown setting 'Bogus'/],
    [['KeepDays=2,x'], /'x' is not a whole number/],
    [['AutoPurge=maybe'], /not a boolean/],
    [['Formats=a/b,c'], /must not contain '\/'/],
    [['--key', 'Formats'], /one --value per --key/],
    [[], /nothing to set/],
  ] as [string[], RegExp][]) {
    const r = await runTool('sonic', ['setconfig', '-R', repo, ...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, why);
  }
  await mustRun('sonic', ['setconfig', '-R', repo, '--unset', 'Formats', '--unset', 'Priorities', '--unset', 'KeepDays', '--unset', 'ForceFull']);
  assert.deepEqual(await getconfig(repo), defaults);
});

test('AutoPurge deletes older sets of at most the new set\'s priority past its KeepDays, never locked ones, and frees their data', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-autopurge-');
  await mustRun('sonic', ['setconfig', '-R', repo, 'Formats=Set-%Y%m%d%H%M%S', 'Priorities=10', 'KeepDays=1', 'ForceFull=0']);
  for (const name of ['a', 'b', 'c']) {
    write(path.join(src, `${name}.dat`), Buffer.alloc(200_000, name));
    if (name === 'c') write(path.join(src, 'only-c.dat'), seededBytes(400_000, 'only in c'));
    await backup(repo, ['--name', name, src]);
  }
  fs.rmSync(path.join(src, 'only-c.dat'));
  age(repo, [1, 2, 3], 3);
  await mustRun('sonic', ['lock', '-R', repo, '-b', 'b']);
  const quiet = await backup(repo, ['--name', 'd', src]);
  assert.equal((quiet as unknown as { autoPurged: string[] }).autoPurged.length, 0, 'AutoPurge is off until set');

  await mustRun('sonic', ['setconfig', '-R', repo, 'AutoPurge=yes']);
  fs.rmSync(path.join(src, 'a.dat'));
  const before = storeBytes(repo);
  const r = await backup(repo, ['--name', 'e', src]);
  assert.ok(storeBytes(repo) < before - 300_000, `the data only c had is gone (${before} → ${storeBytes(repo)} bytes)`);
  assert.deepEqual((r as unknown as { autoPurged: string[] }).autoPurged, ['a', 'c']);
  assert.deepEqual((await list(repo)).map((s) => s.name), ['b', 'd', 'e']);
  const out = path.join(dir, 'out');
  await restore(repo, ['-b', 'e', '-o', out, src]);
  await assertSameTree(src, out);
  await restore(repo, ['-b', 'b', '-o', path.join(dir, 'old'), path.join(src, 'a.dat')]);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'old')), Buffer.alloc(200_000, 'a'), 'the locked set keeps its data');
});

test('Disabled refuses backups; ForceFull makes a full backup; the config file\'s Formats name sets of a file: repository', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-policy-');
  write(path.join(src, 'f'), 'x\n');
  write(path.join(src, 'g'), 'y\n');
  await backup(repo, [src]);
  await mustRun('sonic', ['setconfig', '-R', repo, 'Disabled=true']);
  const refused = await runTool('tardis', ['-R', repo, src]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^tardis: error: backups of client are disabled by its setting Disabled/);
  await mustRun('sonic', ['setconfig', '-R', repo, '--unset', 'Disabled']);

  const cfg = path.join(dir, 'tardis.ini');
  fs.writeFileSync(cfg, '[Tardis]\nFormats = Cfg-%Y%m%d%H%M%S\nPriorities = 7\nKeepDays = 0\nForceFull = 1\n');
  const b = await backup(repo, ['--config', cfg, src]);
  assert.match(b.set, /^Cfg-\d{14}$/);
  assert.equal(b.stats.filesRead, 2, 'ForceFull: every file read again');
  const sets = await list(repo);
  assert.equal(sets.at(-1)!.priority, 7);
  assert.equal(sets.at(-1)!.full, true);
  fs.writeFileSync(cfg, '[Tardis]\nFormats = A-%H, B-%H\nPriorities = 7\n');
  const bad = await runTool('tardis', ['-R', repo, '--config', cfg, src]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /tardis\.ini:3: Priorities: Priorities has 1 value\(s\) but Formats has 2/);
});

test('tardisd: its AutoPurge and Formats apply to its clients; AllowClientOverrides=false refuses setconfig', async (t) => {
  const config = '[Daemon]\nFormats = Srv-%Y%m%d%H%M%S\nPriorities = 5\nKeepDays = 1\nForceFull = 0\nAutoPurge = true\nAllowClientOverrides = false\n';
  const { basedir, src, daemon: d, url: urlOf } = await serveTemp(t, 'sonic-policy-remote-', { config });
  const url = urlOf();
  write(path.join(src, 'f'), 'remote\n');
  await backup(url, ['--create', '--name', 'first', src]);
  const cfg = JSON.parse((await mustRun('sonic', ['getconfig', '-R', url, '--json'])).stdout) as Record<string, { value: string }>;
  assert.equal(cfg.AutoPurge!.value, 'true');
  const refused = await runTool('sonic', ['setconfig', '-R', url, 'AutoPurge=false']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /AllowClientOverrides is off/);
  age(path.join(basedir, 'client'), [1], 2);
  const r = await backup(url, [src]);
  assert.match(r.set, /^Srv-/);
  assert.deepEqual((r as unknown as { autoPurged: string[] }).autoPurged, ['first']);
  assert.equal((await d.stop()).code, 0);
});
