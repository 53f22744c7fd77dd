import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBackup } from '../backup/index.ts';
import { createRepository } from '../connect/connect.ts';
import { tempDir } from '../testkit/testkit.ts';
import { IntegrityError } from '../errors/errors.ts';
import { loadSnapshot, openManifest, readSnapshot, sealManifest, SNAPSHOT_VERSION } from './snapshot.ts';

test('each set gets a sealed snapshot of its whole tree; an unchanged tree stores no new snapshot data', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'a/b'), { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(path.join(src, 'a', `f${i}`), `file ${i}\n`.repeat(i + 1));
  symlinkSync('../f1', path.join(src, 'a/b/link'));
  const conn = await createRepository(path.join(dir, 'repo/c'), 'pw', { scryptN: 1024 });
  t.after(() => conn.session.close());
  // basePath none: /tmp's own mtime changes whenever a parallel test makes a temp dir.
  const first = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  assert.ok(first.stats.snapshotBytes > 0);
  const rows = await readSnapshot(conn.session, conn.keyring, first.setId);
  assert.ok(rows);
  const live = await conn.session.setVersions(first.setId, 0, 10_000);
  assert.equal(rows.length, live.entries.length);
  const names = rows.map((r) => conn.keyring.decName(Buffer.from(r.name)).toString()).sort();
  for (const n of ['a', 'b', 'f0', 'f49', 'link', 'src']) assert.ok(names.includes(n), n);
  const f7 = rows.find((r) => conn.keyring.decName(Buffer.from(r.name)).toString() === 'f7')!;
  assert.equal(f7.size, 'file 7\n'.length * 8);
  assert.ok(f7.chunks && f7.chunks.length === 32);

  const second = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  assert.equal(second.stats.filesRead, 0);
  assert.equal(second.stats.snapshotNew, 0, 'an unchanged tree re-uses every snapshot chunk');
  const rows2 = await readSnapshot(conn.session, conn.keyring, second.setId);
  assert.equal(rows2!.length, rows.length);
});

test('a v2 manifest carries the set as the client saw it; v1 manifests still open; a malformed one does not', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const src = path.join(dir, 'src');
  mkdirSync(src);
  writeFileSync(path.join(src, 'f'), 'data\n');
  const conn = await createRepository(path.join(dir, 'repo/c'), 'pw', { scryptN: 1024 });
  t.after(() => conn.session.close());
  const b = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none', name: 'Mine', tags: ['t1', 't2'] });
  const m = openManifest(conn.keyring, b.setId, (await conn.session.readSnapshot(b.setId))!);
  assert.equal(m.v, SNAPSHOT_VERSION);
  assert.equal(m.set!.name, 'Mine');
  assert.deepEqual(m.set!.tags.map((x) => conn.keyring.decString(x)), ['t1', 't2']);
  assert.equal(m.set!.full, false);
  assert.equal(m.set!.stats.files, 1);
  assert.ok(m.set!.clientTime > 0 && m.set!.stats.durationMs! >= 0);

  // A manifest as older versions sealed it: no set metadata, and loadSnapshot still reads the tree.
  const v1 = sealManifest(conn.keyring, { v: 1, setId: b.setId, versions: m.versions, size: m.size, hash: m.hash, chunks: m.chunks });
  const old = await loadSnapshot(conn.keyring, b.setId, v1, (ids) => conn.session.readChunks(ids));
  assert.equal(old.manifest.set, undefined);
  assert.equal(old.versions.length, m.versions);

  const bad = sealManifest(conn.keyring, { ...m, set: { ...m.set!, clientTime: 'yesterday' as unknown as number } });
  assert.throws(() => openManifest(conn.keyring, b.setId, bad), IntegrityError);
  assert.throws(() => openManifest(conn.keyring, b.setId + 1, v1), 'a manifest opens only as the set it was sealed for');
});

test('a few changed files store only a small part of the tree snapshot again', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const src = path.join(dir, 'src');
  for (let d = 0; d < 40; d++) {
    mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let i = 0; i < 60; i++) writeFileSync(path.join(src, `d${d}`, `f${i}`), `file ${d}/${i}\n`);
  }
  const conn = await createRepository(path.join(dir, 'repo/c'), 'pw', { scryptN: 1024 });
  t.after(() => conn.session.close());
  const first = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  // Three files in three directories change; one is added, one deleted.
  for (const d of [3, 17, 31]) writeFileSync(path.join(src, `d${d}`, 'f5'), `changed ${d}, longer than before\n`);
  writeFileSync(path.join(src, 'd20', 'new'), 'new\n');
  rmSync(path.join(src, 'd9', 'f9'));
  const second = await runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none' });
  assert.equal(second.stats.filesRead, 4);
  const share = second.stats.snapshotNew / first.stats.snapshotBytes;
  assert.ok(share > 0 && share < 0.25, `stored ${second.stats.snapshotNew} of a ${first.stats.snapshotBytes}-byte snapshot again`);
  const rows = await readSnapshot(conn.session, conn.keyring, second.setId);
  assert.equal(rows!.length, (await conn.session.setVersions(second.setId, 0, 10_000)).entries.length);
});
