// Deleting sets and finding what they leave unused: versions no remaining set can see, contents
// no version names, chunks neither a content nor a set snapshot lists, and how full each pack is.
import type { CatalogDb, Stmt } from './db.ts';

/** Deletes sets (and their tags), then every version no remaining set can see. */
export function stmtDeleteSets(ids: number[]): Stmt[] {
  const arg = JSON.stringify(ids);
  return [
    { sql: 'DELETE FROM tags WHERE set_id IN (SELECT value FROM json_each(?))', args: [arg] },
    { sql: 'DELETE FROM sets WHERE id IN (SELECT value FROM json_each(?))', args: [arg] },
    {
      // A version covers the sets first_set..last_set (open-ended while current).
      sql: `DELETE FROM versions WHERE NOT EXISTS (
              SELECT 1 FROM sets s WHERE s.id >= versions.first_set AND (versions.last_set IS NULL OR s.id <= versions.last_set))`,
      args: [],
    },
    // Cached listing hashes may now vouch for children whose versions are gone: the next
    // backup compares every directory once more (metadata only; no content is re-read).
    { sql: 'DELETE FROM dir_listing', args: [] },
    { sql: 'DELETE FROM nodes WHERE id NOT IN (SELECT node FROM versions)', args: [] },
  ];
}

/** Contents that no version refers to any more. */
export function stmtDeleteUnusedContents(): Stmt {
  return { sql: 'DELETE FROM contents WHERE id NOT IN (SELECT content FROM versions WHERE content IS NOT NULL)', args: [] };
}

/**
 * Deletes the chunk rows that neither a content nor a set's snapshot lists (their blobs stay in
 * the packs until the packs are rewritten or removed). Returns how many went.
 */
export async function deleteUnusedChunks(db: CatalogDb): Promise<number> {
  // Chunk lists are concatenated 32-byte ids; a recursive CTE cuts them apart inside SQLite.
  const live = `WITH RECURSIVE lists(rest) AS (
        SELECT chunks FROM contents UNION ALL SELECT snapshot_chunks FROM sets WHERE snapshot_chunks IS NOT NULL),
      parts(id, rest) AS (
        SELECT substr(rest, 1, 32), substr(rest, 33) FROM lists WHERE length(rest) >= 32
        UNION ALL SELECT substr(rest, 1, 32), substr(rest, 33) FROM parts WHERE length(rest) >= 32)`;
  const [, , del] = await db.batch([
    { sql: 'CREATE TEMP TABLE IF NOT EXISTS live_chunks (id BLOB PRIMARY KEY) WITHOUT ROWID', args: [] },
    { sql: `${live} INSERT OR IGNORE INTO live_chunks SELECT id FROM parts`, args: [] },
    { sql: 'DELETE FROM chunks WHERE id NOT IN (SELECT id FROM live_chunks)', args: [] },
    { sql: 'DROP TABLE live_chunks', args: [] },
  ]);
  return del!.rowsAffected;
}

export interface PackUsage {
  name: string;
  size: number;
  /** Chunks of the pack still in the chunk index, and their bytes. */
  liveCount: number;
  liveBytes: number;
}

export async function packUsage(db: CatalogDb): Promise<PackUsage[]> {
  const rows = await db.json<[string, number, number, number][]>(
    `SELECT json_group_array(json_array(p.name, p.size, coalesce(u.n, 0), coalesce(u.bytes, 0)))
     FROM packs p LEFT JOIN (SELECT pack, count(*) AS n, sum(length) AS bytes FROM chunks GROUP BY pack) u ON u.pack = p.name`,
  );
  return rows.map(([name, size, liveCount, liveBytes]) => ({ name, size, liveCount, liveBytes }));
}

/** The live chunks of one pack, in pack order. */
export async function packChunks(db: CatalogDb, pack: string): Promise<{ id: Buffer; type: number; offset: number; length: number }[]> {
  const rows = await db.json<[string, number, number, number][]>(
    `SELECT json_group_array(json_array(hex(id), type, offset, length)) FROM (SELECT * FROM chunks WHERE pack = ? ORDER BY offset)`,
    [pack],
  );
  return rows.map(([id, type, offset, length]) => ({ id: Buffer.from(id, 'hex'), type, offset, length }));
}

/** Moves chunks into a new pack and forgets the old packs, in one transaction. */
export function stmtReplacePacks(
  oldPacks: string[],
  next: { name: string; size: number; entries: { id: Buffer; type: number; offset: number; length: number }[] },
): Stmt[] {
  return [
    { sql: 'INSERT INTO packs (name, size, count, created) VALUES (?, ?, ?, ?)', args: [next.name, next.size, next.entries.length, Date.now()] },
    {
      sql: `UPDATE chunks SET pack = ?, offset = j.value->>1, length = j.value->>2
            FROM json_each(?) j WHERE chunks.id = unhex(j.value->>0)`,
      args: [next.name, JSON.stringify(next.entries.map((e) => [e.id.toString('hex'), e.offset, e.length]))],
    },
    ...stmtForgetPacks(oldPacks),
  ];
}

/** Removes packs from the catalog (their chunk rows must already be gone or moved). */
export function stmtForgetPacks(names: string[]): Stmt[] {
  const arg = JSON.stringify(names);
  return [
    { sql: 'DELETE FROM chunks WHERE pack IN (SELECT value FROM json_each(?))', args: [arg] },
    { sql: 'DELETE FROM packs WHERE name IN (SELECT value FROM json_each(?))', args: [arg] },
  ];
}
