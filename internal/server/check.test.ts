import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runBackup } from '../backup/index.ts';
import { createRepository, type Connection } from '../connect/connect.ts';
import { seededBytes, write } from '../testkit/fixtures.ts';
import { tempDir } from '../testkit/testkit.ts';
import { checkRepository } from './check.ts';
import type { RepositorySession } from './session.ts';
import { syncSetRecords } from './setrecord.ts';
import type { ServerRepository } from './repository.ts';

/** Two sets of a small tree (b unchanged, a rewritten); the repository open in-process. */
async function fixture(t: TestContext): Promise<{ conn: Connection; repo: ServerRepository; sets: number[] }> {
  const { dir, cleanup } = tempDir('tardis-check-');
  t.after(cleanup);
  const src = path.join(dir, 'src');
  write(path.join(src, 'a'), seededBytes(30_000, 'a1'));
  write(path.join(src, 'sub', 'b'), seededBytes(50_000, 'b'));
  const conn = await createRepository(path.join(dir, 'repo', 'c'), 'pw', { scryptN: 1024 });
  t.after(() => conn.session.close());
  const one = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  write(path.join(src, 'a'), seededBytes(30_000, 'a2'));
  const two = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  return { conn, repo: (conn.session as RepositorySession).repo, sets: [one.setId, two.setId] };
}

/** The keyed id of the single chunk of file `name` (small files are one chunk). */
async function chunkOf(conn: Connection, setId: number, name: string): Promise<Buffer> {
  const all = await conn.session.setVersions(setId, 0, 1000);
  const e = all.entries.find((v) => conn.keyring.decName(v.name).toString() === name)!;
  return Buffer.from(e.chunks!).subarray(0, 32);
}

test('a clean repository checks clean, with counts and the packs listed', async (t) => {
  const { repo } = await fixture(t);
  const r = await checkRepository(repo);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.notes, []);
  assert.equal(r.damagedCount, 0);
  assert.equal(r.counts.sets, 2);
  assert.ok(r.packs.length >= 2 && r.packs.every((p) => p.chunks > 0 && p.size > 0));
});

test('a catalog row pointing at a chunk the index lacks: found, and traced to the file and both sets', async (t) => {
  const { conn, repo, sets } = await fixture(t);
  const id = await chunkOf(conn, sets[1]!, 'b');
  await repo.db.execute('DELETE FROM chunks WHERE id = ?', [id]);
  const r = await checkRepository(repo);
  assert.ok(r.problems.some((p) => p.kind === 'content' && /1 file contents list 1 chunks/.test(p.message)), JSON.stringify(r.problems));
  assert.deepEqual(r.damaged.map((d) => d.toString('hex')), [id.toString('hex')]);
  const users = await conn.session.chunkUsers(r.damaged);
  assert.equal(users.files.length, 1);
  assert.deepEqual(users.files[0]!.path.map((n) => conn.keyring.decName(n).toString()), ['src', 'sub', 'b']);
  assert.deepEqual(users.files[0]!.sets, sets);
  assert.deepEqual(users.files[0]!.chunks, [0]);
});

test('pack damage: a chunk row at the wrong offset, a truncated pack, a missing pack', async (t) => {
  const { conn, repo, sets } = await fixture(t);
  const a1 = await chunkOf(conn, sets[0]!, 'a');
  await repo.db.execute('UPDATE chunks SET offset = offset + 1 WHERE id = ?', [a1]);
  let r = await checkRepository(repo);
  assert.ok(r.problems.some((p) => p.kind === 'pack' && /1 chunks are not where the catalog says/.test(p.message)), JSON.stringify(r.problems));
  assert.equal(r.damagedCount, 1);
  await repo.db.execute('UPDATE chunks SET offset = offset - 1 WHERE id = ?', [a1]);

  const pack = String((await repo.db.execute('SELECT pack FROM chunks WHERE id = ?', [a1])).rows[0]!.pack);
  const file = repo.store.pathOf('packs', pack);
  const whole = fs.readFileSync(file);
  fs.truncateSync(file, 100);
  r = await checkRepository(repo);
  const msgs = r.problems.filter((p) => p.subject === pack).map((p) => p.message).join('\n');
  assert.match(msgs, /truncated: 100 of \d+ bytes/);
  assert.match(msgs, /index is unreadable/);
  assert.match(msgs, /lie past the end of the file/);
  assert.ok(r.damaged.some((d) => d.equals(a1)));

  fs.rmSync(file);
  r = await checkRepository(repo);
  assert.ok(r.problems.some((p) => p.subject === pack && /missing: its \d+ chunks are lost/.test(p.message)));
  const users = await conn.session.chunkUsers(r.damaged);
  assert.ok(users.files.some((f) => f.path.map((n) => conn.keyring.decName(n).toString()).join('/') === 'src/a'));
  fs.writeFileSync(file, whole);
  assert.deepEqual((await checkRepository(repo)).problems, []);
});

test('leftovers are notes, not damage; a missing snapshot manifest is damage; set records are kept in step', async (t) => {
  const { repo, sets } = await fixture(t);
  const [pack] = (await checkRepository(repo)).packs;
  const stray = pack!.name.slice(0, -1) + (pack!.name.endsWith('0') ? '1' : '0');
  fs.copyFileSync(repo.store.pathOf('packs', pack!.name), repo.store.pathOf('packs', stray));
  fs.rmSync(repo.store.pathOf('sets', String(sets[0])));
  let r = await checkRepository(repo);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.notes.map((n) => n.kind).sort(), ['set-record', 'stray']);
  assert.equal(await syncSetRecords(repo), 1);
  assert.equal(await syncSetRecords(repo), 0);

  const snap = String((await repo.db.execute('SELECT snapshot FROM sets WHERE id = ?', [sets[1]!])).rows[0]!.snapshot);
  fs.rmSync(repo.store.pathOf('snapshots', snap));
  r = await checkRepository(repo);
  assert.deepEqual(r.problems.map((p) => [p.kind, p.subject]), [['snapshot', String(sets[1])]]);
});
