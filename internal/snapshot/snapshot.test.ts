import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { runBackup } from '../backup/index.ts';
import { createRepository } from '../connect/connect.ts';
import { tempDir } from '../testkit/testkit.ts';
import { readSnapshot } from './snapshot.ts';

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
