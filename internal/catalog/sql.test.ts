import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testkit/testkit.ts';
import { CatalogDb } from './db.ts';
import { SqlConn } from './sql.ts';

function scratch(t: { after: (f: () => void) => void }): SqlConn {
  const { dir, cleanup } = tempDir('tardis-sql-');
  const c = new SqlConn(join(dir, 'x.db'));
  t.after(() => {
    c.close();
    cleanup();
  });
  c.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, big INTEGER)');
  return c;
}

test('rows read by index and by column name; blobs come back as bytes; changes are counted', (t) => {
  const c = scratch(t);
  const ins = c.execute({ sql: 'INSERT INTO t (name, data, big) VALUES (?, ?, ?), (?, ?, ?)', args: ['a', new Uint8Array([1, 2]), 5n, 'b', null, true] });
  assert.equal(ins.rowsAffected, 2);
  const rs = c.execute({ sql: 'SELECT name, data, big, name AS n2 FROM t ORDER BY id', args: [] });
  assert.deepEqual(rs.columns, ['name', 'data', 'big', 'n2']);
  assert.equal(rs.rows[0]![0], 'a');
  assert.equal(rs.rows[0]!.name, 'a');
  assert.deepEqual(Buffer.from(rs.rows[0]!.data as Uint8Array), Buffer.from([1, 2]));
  assert.equal(rs.rows[0]!.big, 5);
  assert.equal(rs.rows[1]!.big, 1, 'a boolean is stored as 1');
  assert.equal(rs.rows[1]!.data, null);
});

test('an integer past 2^53 is an error, never a rounded number', (t) => {
  const c = scratch(t);
  c.execute({ sql: 'INSERT INTO t (big) VALUES (?)', args: [2n ** 60n] });
  assert.throws(() => c.execute('SELECT big FROM t'), RangeError);
  assert.throws(() => c.execute({ sql: 'INSERT INTO t (big) VALUES (?)', args: [Number.NaN] }), RangeError);
});

test('a batch is all or nothing, and a prepared statement serves many runs', (t) => {
  const c = scratch(t);
  const insert = { sql: 'INSERT INTO t (id, name) VALUES (?, ?)' };
  c.batch([1, 2, 3].map((id) => ({ ...insert, args: [id, `n${id}`] })));
  assert.throws(() => c.batch([{ ...insert, args: [4, 'x'] }, { ...insert, args: [1, 'duplicate id'] }]), /UNIQUE|constraint/i);
  assert.equal(c.inTransaction, false);
  assert.deepEqual(c.execute('SELECT id FROM t ORDER BY id').rows.map((r) => r.id), [1, 2, 3]);
  // More distinct statements than the cache holds: evicted ones are prepared again.
  for (let i = 0; i < 300; i++) c.execute({ sql: `SELECT ${i} AS v, count(*) AS n FROM t`, args: [] });
  assert.equal(c.execute({ sql: 'SELECT 7 AS v, count(*) AS n FROM t', args: [] }).rows[0]!.n, 3);
});

test('CatalogDb maps a damaged file to a one-line catalog error', async (t) => {
  const { dir, cleanup } = tempDir('tardis-sql-');
  t.after(cleanup);
  const file = join(dir, 'catalog.db');
  writeFileSync(file, Buffer.alloc(8192, 0x41));
  await assert.rejects(CatalogDb.open(file, { create: true }), /catalog is damaged|not a database/i);
});
