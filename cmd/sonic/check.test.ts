// sonic check through the real commands: a clean repository, damage only reading finds (a
// flipped byte inside a chunk), damage the structure shows (truncated or missing pack, a catalog
// row naming a chunk the index lacks), subsets of packs, and all of it through a tardisd.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BLOB_DATA, parsePackTrailer } from '../../internal/pack/index.ts';
import { backup, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';
import { serveTemp } from '../../internal/testkit/tardisd.ts';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';

const KiB = 1024;

interface CheckJson {
  ok: boolean;
  counts: { sets: number; packs: number; chunks: number };
  readData: { packs: number; of: number; chunks: number; bytes: number } | null;
  problems: { kind: string; subject: string; message: string }[];
  notes: unknown[];
  damagedChunks: number;
  files: { path: string; sets: { id: number; name: string }[] }[];
}

async function check(repo: string, args: string[] = [], expect = 0): Promise<{ json: CheckJson; stderr: string }> {
  const r = await mustRun('sonic', ['check', '-R', repo, '--json', ...args], { expect });
  return { json: JSON.parse(r.stdout) as CheckJson, stderr: r.stderr };
}

function packFiles(repoDir: string): string[] {
  return fs.readdirSync(path.join(repoDir, 'packs'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/** The pack holding the largest data blob (the victim's chunk), and that blob. */
function biggestBlob(repoDir: string): { pack: string; offset: number; length: number } {
  let best = { pack: '', offset: 0, length: -1 };
  for (const pack of packFiles(repoDir)) {
    const data = fs.readFileSync(pack);
    for (const e of parsePackTrailer(data, data.length)) {
      if (e.type === BLOB_DATA && e.length > best.length) best = { pack, offset: e.offset, length: e.length };
    }
  }
  return best;
}

/** Flips one byte in the middle of the victim's chunk. */
function flipVictim(repoDir: string): string {
  const b = biggestBlob(repoDir);
  const fd = fs.openSync(b.pack, 'r+');
  const at = b.offset + Math.floor(b.length / 2);
  const one = Buffer.alloc(1);
  fs.readSync(fd, one, 0, 1, at);
  fs.writeSync(fd, Buffer.from([one[0]! ^ 0x20]), 0, 1, at);
  fs.closeSync(fd);
  return b.pack;
}

/** Two sets: the victim (random, in every set) and small files that change. */
async function twoSets(t: TestContext, prefix: string): Promise<{ dir: string; repo: string; src: string; names: string[] }> {
  const { dir, repo, src } = await setupRepo(t, prefix);
  write(path.join(src, 'victim'), seededBytes(300 * KiB, 'victim'));
  for (let i = 0; i < 5; i++) write(path.join(src, 'other', `f${i}`), `small file ${i}\n`);
  const a = await backup(repo, [src]);
  write(path.join(src, 'other', 'f0'), 'changed\n');
  const b = await backup(repo, [src]);
  return { dir, repo, src, names: [a.set, b.set] };
}

test('a clean repository checks clean; a flipped byte inside a chunk is found only with --read-data, with the file and its sets', async (t) => {
  const { repo, src, names } = await twoSets(t, 'sonic-check-flip-');
  const plain = await mustRun('sonic', ['check', '-R', repo]);
  assert.match(plain.stdout, /^checked 2 sets, \d+ packs/m);
  assert.match(plain.stdout, /no damage found/);
  assert.equal((await check(repo, ['--read-data'])).json.ok, true);

  flipVictim(repo);
  const structural = await check(repo);
  assert.equal(structural.json.ok, true, 'the structure is intact: only reading the chunk shows the damage');
  const text = await runTool('sonic', ['check', '-R', repo, '--read-data']);
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /DAMAGED: chunk [0-9a-f]{16}… in pack [0-9a-f]+: fails verification/);
  assert.ok(text.stdout.includes(`  ${src}/victim  in ${names[0]} (1), ${names[1]} (2)`), text.stdout);
  assert.match(text.stderr, /^sonic: error: the repository is damaged: 1 problem, 1 damaged chunk; 1 file in 2 sets affected\n$/);
  const { json } = await check(repo, ['--read-data'], 1);
  assert.equal(json.ok, false);
  assert.equal(json.damagedChunks, 1);
  assert.deepEqual(json.files.map((f) => [f.path, f.sets.map((s) => s.name)]), [[`${src}/victim`, names]]);
});

test('a truncated pack, a missing pack and a catalog row naming a missing chunk are found by the structural check', async (t) => {
  const { dir, repo, src } = await twoSets(t, 'sonic-check-structure-');
  const victimIn = biggestBlob(repo).pack;
  const fresh = (name: string) => {
    const copy = path.join(dir, name, 'client');
    fs.mkdirSync(path.dirname(copy));
    execFileSync('cp', ['-a', repo, copy]);
    return copy;
  };

  const truncated = fresh('truncated');
  fs.truncateSync(path.join(truncated, path.relative(repo, victimIn)), 1000);
  let r = await check(truncated, [], 1);
  assert.ok(r.json.problems.some((p) => p.kind === 'pack' && /truncated: 1000 of \d+ bytes/.test(p.message)), JSON.stringify(r.json.problems));
  assert.ok(r.json.files.some((f) => f.path === `${src}/victim`));

  const missing = fresh('missing');
  fs.rmSync(path.join(missing, path.relative(repo, victimIn)));
  r = await check(missing, [], 1);
  assert.ok(r.json.problems.some((p) => p.kind === 'pack' && /missing: its \d+ chunks are lost/.test(p.message)));
  assert.ok(r.json.files.some((f) => f.path === `${src}/victim`));

  const row = fresh('row');
  const db = new DatabaseSync(path.join(row, 'catalog.db'));
  db.exec('DELETE FROM chunks WHERE id = (SELECT id FROM chunks ORDER BY length DESC LIMIT 1)');
  db.close();
  r = await check(row, [], 1);
  assert.ok(r.json.problems.some((p) => p.kind === 'content' && /list 1 chunks the chunk index lacks/.test(p.message)), JSON.stringify(r.json.problems));
  assert.deepEqual(r.json.files.map((f) => f.path), [`${src}/victim`]);

  // A pack left by an interrupted run is a note, not damage.
  const stray = fresh('stray');
  const copyOf = path.join(stray, path.relative(repo, victimIn));
  fs.copyFileSync(copyOf, copyOf.replace(/.$/, (c) => (c === '0' ? '1' : '0')));
  r = await check(stray);
  assert.equal(r.json.ok, true);
  assert.equal(r.json.notes.length, 1);
});

test('--read-data-subset: 1/2 and 2/2 together read every pack once; N% reads about that share', async (t) => {
  const { repo, src } = await setupRepo(t, 'sonic-check-subset-');
  for (let round = 0; round < 6; round++) {
    write(path.join(src, `f${round}`), seededBytes(40 * KiB, `subset-${round}`));
    await backup(repo, [src]);
  }
  const all = (await check(repo, ['--read-data'])).json;
  const packs = all.readData!.of;
  assert.ok(packs >= 10, `${packs} packs`);
  assert.equal(all.readData!.packs, packs);
  const [one, two] = [(await check(repo, ['--read-data-subset', '1/2'])).json, (await check(repo, ['--read-data-subset', '2/2'])).json];
  assert.equal(one.readData!.packs + two.readData!.packs, packs);
  assert.equal(one.readData!.chunks + two.readData!.chunks, all.readData!.chunks);
  assert.ok(one.readData!.packs > 0 && two.readData!.packs > 0);
  for (const pct of [25, 50]) assert.equal((await check(repo, ['--read-data-subset', `${pct}%`])).json.readData!.packs, Math.round((packs * pct) / 100));

  // Damage in one pack: exactly one of the two halves finds it.
  flipVictim(repo);
  const found = await Promise.all(['1/2', '2/2'].map(async (s) => (await runTool('sonic', ['check', '-R', repo, '--read-data-subset', s])).code));
  assert.deepEqual(found.sort(), [0, 1]);
  const bad = await runTool('sonic', ['check', '-R', repo, '--read-data-subset', '3/2']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /N\/M needs 1 <= N <= M/);
});

test('sonic check works through tardisd; sonic rebuild says it needs the repository directory', async (t) => {
  const { basedir, src, url: urlOf } = await serveTemp(t, 'sonic-check-remote-');
  const url = urlOf();
  write(path.join(src, 'victim'), seededBytes(300 * KiB, 'remote-victim'));
  write(path.join(src, 'small'), 'small\n');
  const b = await backup(url, ['--create', src]);
  assert.equal((await check(url, ['--read-data'])).json.ok, true);
  flipVictim(path.join(basedir, 'client'));
  assert.equal((await check(url)).json.ok, true);
  const { json } = await check(url, ['--read-data'], 1);
  assert.deepEqual(json.files.map((f) => [f.path, f.sets.map((s) => s.name)]), [[`${src}/victim`, [b.set]]]);

  const rebuild = await runTool('sonic', ['rebuild', '-R', url]);
  assert.equal(rebuild.code, 1);
  assert.match(rebuild.stderr, /^sonic: error: sonic rebuild works on the repository's own directory: run it on the server, .*sonic rebuild -R BASEDIR\/client/);
});
