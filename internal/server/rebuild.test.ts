import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runBackup } from '../backup/index.ts';
import { createRepository, openRepository, type Connection } from '../connect/connect.ts';
import { UsageError } from '../errors/errors.ts';
import type { SetInfo } from '../model/session.ts';
import { snapshotOpener } from '../snapshot/snapshot.ts';
import { seededBytes, write } from '../testkit/fixtures.ts';
import { tempDir } from '../testkit/testkit.ts';
import { rebuildCatalog } from './rebuild.ts';
import type { RepositorySession } from './session.ts';

/** Every set, and every version each set sees, in an order that does not depend on row ids. */
async function state(conn: Connection): Promise<{ sets: SetInfo[]; trees: unknown[][] }> {
  const sets = await conn.session.listSets();
  const trees = [];
  for (const s of sets) {
    const page = await conn.session.setVersions(s.id, 0, 10_000);
    assert.equal(page.next, null);
    trees.push(page.entries.sort((a, b) => a.node - b.node));
  }
  return { sets, trees };
}

const count = async (conn: Connection, table: string) =>
  Number((await (conn.session as RepositorySession).repo.db.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

test('rebuild recreates sets (names, tags, lock, priority), every tree, versions as ranges and the chunk index', async (t) => {
  const { dir, cleanup } = tempDir('tardis-rebuild-');
  t.after(cleanup);
  const src = path.join(dir, 'src');
  const root = path.join(dir, 'repo', 'c');
  for (let i = 0; i < 8; i++) write(path.join(src, `d${i % 3}`, `f${i}`), seededBytes(20_000 + i, `f${i}`));
  fs.symlinkSync('d0/f0', path.join(src, 'link'));
  let conn = await createRepository(root, 'pw', { scryptN: 1024 });
  const keyring = conn.keyring;
  const backup = (o: { name?: string; tags?: string[]; full?: boolean } = {}) => runBackup(conn.session, keyring, { roots: [src], basePath: 'none', ...o });
  const s1 = await backup({ name: 'First', tags: ['t1'] });
  write(path.join(src, 'd1', 'f1'), 'changed\n');
  fs.rmSync(path.join(src, 'd2', 'f2'));
  fs.chmodSync(path.join(src, 'd0', 'f3'), 0o600);
  const s2 = await backup();
  const s3 = await backup();
  const s4 = await backup({ full: true }); // new version rows for unchanged files: merged back into ranges
  write(path.join(src, 'd2', 'f2'), 'back again\n');
  const s5 = await backup();
  await conn.session.updateSet(s1.setId, { locked: true });
  await conn.session.updateSet(s2.setId, { priority: 99, addTags: [keyring.encString('t1')!], moveTags: true });
  await conn.session.updateSet(s3.setId, { name: 'Renamed' });
  await conn.session.updateSet(s4.setId, { addTags: [keyring.encString('t4')!] });
  const before = await state(conn);
  const [contents, nodes, chunks, versions] = [await count(conn, 'contents'), await count(conn, 'nodes'), await count(conn, 'chunks'), await count(conn, 'versions')];
  await conn.session.close();

  // A healthy catalog is not replaced without force.
  await assert.rejects(rebuildCatalog(root, snapshotOpener(keyring)), (e: Error) => e instanceof UsageError && /healthy \(5 sets\).*--force/.test(e.message));
  for (const f of fs.readdirSync(root)) if (f.startsWith('catalog.db')) fs.rmSync(path.join(root, f));
  await assert.rejects(openRepository(root, async () => 'pw'), /catalog .* is missing: recreate it with `sonic rebuild`/);

  const report = await rebuildCatalog(root, snapshotOpener(keyring));
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(report.sets.map((s) => s.source), ['record', 'record', 'record', 'record', 'record']);
  assert.equal(report.previous, null);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'nothing left in tmp/');
  conn = await openRepository(root, async () => 'pw');
  const after = await state(conn);
  assert.deepEqual(after.sets, before.sets);
  assert.deepEqual(after.trees, before.trees);
  assert.equal(await count(conn, 'contents'), contents);
  assert.equal(await count(conn, 'nodes'), nodes);
  assert.equal(await count(conn, 'chunks'), chunks);
  assert.ok(await count(conn, 'versions') < versions, 'the full backup\'s repeated rows are one range again');
  assert.equal(after.sets.find((s) => s.id === s2.setId)!.tags.length, 1, 'the moved tag is where it was moved to');

  // The next backup finds everything unchanged: the open versions are the newest set's.
  const next = await runBackup(conn.session, keyring, { roots: [src], basePath: 'none' });
  assert.equal(next.stats.filesRead, 0);
  assert.equal(next.setId, s5.setId + 1);
  await conn.session.close();
});

test('without set records a set keeps what its manifest knows; --force replaces a catalog and keeps the old one', async (t) => {
  const { dir, cleanup } = tempDir('tardis-rebuild-');
  t.after(cleanup);
  const src = path.join(dir, 'src');
  const root = path.join(dir, 'repo', 'c');
  write(path.join(src, 'f'), 'one\n');
  const conn = await createRepository(root, 'pw', { scryptN: 1024 });
  const a = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none', name: 'Named', tags: ['x'] });
  const b = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  const before = await conn.session.listSets();
  await conn.session.close();
  fs.rmSync(path.join(root, 'sets'), { recursive: true });

  const report = await rebuildCatalog(root, snapshotOpener(conn.keyring), { force: true });
  assert.equal(report.previous, path.join(root, 'catalog.db.old'));
  assert.ok(fs.existsSync(report.previous));
  assert.deepEqual(report.sets.map((s) => [s.id, s.name, s.source]), [[a.setId, 'Named', 'manifest'], [b.setId, `Rebuilt-${b.setId}`, 'manifest']]);
  // A damaged catalog needs no --force; it too is kept aside.
  fs.writeFileSync(path.join(root, 'catalog.db'), 'not a database at all, just damage '.repeat(200));
  const redone = await rebuildCatalog(root, snapshotOpener(conn.keyring));
  assert.equal(redone.sets.length, 2);
  assert.match(fs.readFileSync(path.join(root, 'catalog.db.old'), 'utf8'), /^not a database/);
  const again = await openRepository(root, async () => 'pw');
  t.after(() => again.session.close());
  const sets = await again.session.listSets();
  assert.equal(sets[0]!.name, 'Named');
  assert.deepEqual(sets[0]!.tags.map((x) => again.keyring.decString(x)), ['x']);
  assert.deepEqual(sets[0]!.stats, before[0]!.stats);
  assert.equal(sets[0]!.clientTime, before[0]!.clientTime);
  assert.ok(sets.every((s) => s.completed));
});
