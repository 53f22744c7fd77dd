// The chunk index (which pack holds which chunk) and whole-file contents.
import type { CatalogDb, Stmt } from './db.ts';
import { hex } from './db.ts';

export interface ChunkLocation {
  pack: string;
  offset: number;
  length: number;
}

/** Which of `ids` the catalog does not know. Returns their indexes. */
export async function missingChunks(db: CatalogDb, ids: Buffer[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const known = new Set(
    await db.json<string[]>(
      'SELECT json_group_array(lower(hex(id))) FROM chunks WHERE id IN (SELECT unhex(value) FROM json_each(?))',
      [JSON.stringify(ids.map(hex))],
    ),
  );
  const out: number[] = [];
  ids.forEach((id, i) => {
    if (!known.has(id.toString('hex'))) out.push(i);
  });
  return out;
}

export async function chunkLocations(db: CatalogDb, ids: Buffer[]): Promise<Map<string, ChunkLocation>> {
  if (ids.length === 0) return new Map();
  const rows = await db.json<[string, string, number, number][]>(
    `SELECT json_group_array(json_array(lower(hex(id)), pack, offset, length)) FROM chunks
     WHERE id IN (SELECT unhex(value) FROM json_each(?))`,
    [JSON.stringify(ids.map(hex))],
  );
  return new Map(rows.map(([id, pack, offset, length]) => [id, { pack, offset, length }]));
}

/** Content ids for known content hashes (hex keys). */
export async function contentIds(db: CatalogDb, hashes: Buffer[]): Promise<Map<string, number>> {
  if (hashes.length === 0) return new Map();
  const rows = await db.json<[string, number][]>(
    'SELECT json_group_array(json_array(lower(hex(hash)), id)) FROM contents WHERE hash IN (SELECT unhex(value) FROM json_each(?))',
    [JSON.stringify(hashes.map(hex))],
  );
  return new Map(rows);
}

export function stmtInsertPack(p: { name: string; size: number; entries: { id: Buffer; type: number; offset: number; length: number }[] }): Stmt[] {
  return [
    { sql: 'INSERT INTO packs (name, size, count, created) VALUES (?, ?, ?, ?)', args: [p.name, p.size, p.entries.length, Date.now()] },
    {
      sql: `INSERT OR IGNORE INTO chunks (id, pack, offset, length, type)
            SELECT unhex(value->>0), ?, value->>1, value->>2, value->>3 FROM json_each(?)`,
      args: [p.name, JSON.stringify(p.entries.map((e) => [hex(e.id), e.offset, e.length, e.type]))],
    },
  ];
}

export function stmtInsertContents(rows: { hash: Buffer; size: number; chunks: Buffer[] }[]): Stmt {
  return {
    sql: 'INSERT OR IGNORE INTO contents (hash, size, chunks) SELECT unhex(value->>0), value->>1, unhex(value->>2) FROM json_each(?)',
    args: [JSON.stringify(rows.map((r) => [hex(r.hash), r.size, Buffer.concat(r.chunks).toString('hex')]))],
  };
}
