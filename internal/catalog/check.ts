// Catalog queries of `sonic check`: the catalog's own integrity, chunk lists naming chunks the
// chunk index lacks, and who (which files in which sets, which set snapshots) uses given chunks.
// Chunk lists are cut apart here, a page of rows at a time, rather than in SQL: a recursive
// CTE copies the rest of a long list at every step.
import type { ChunkUsers } from '../model/session.ts';
import { missingChunks } from './chunks.ts';
import type { CatalogDb } from './db.ts';

const PAGE = 2000;
const ID = 32;

function blob(v: unknown): Buffer {
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.alloc(0);
}

/** The 32-byte ids of a concatenated chunk list (a damaged list's odd tail is left out). */
export function splitIds(list: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + ID <= list.length; at += ID) out.push(list.subarray(at, at + ID));
  return out;
}

/** [owner, chunk list] rows of a table, a page at a time in owner order. */
async function* lists(db: CatalogDb, table: 'contents' | 'sets', col: 'chunks' | 'snapshot_chunks'): AsyncGenerator<[number, Buffer][]> {
  for (let after = -1; ;) {
    const rs = await db.execute(`SELECT id, ${col} AS list FROM ${table} WHERE id > ? AND ${col} IS NOT NULL ORDER BY id LIMIT ?`, [after, PAGE]);
    if (rs.rows.length === 0) return;
    const page = rs.rows.map((r): [number, Buffer] => [Number(r.id), blob(r.list)]);
    yield page;
    after = page[page.length - 1]![0];
  }
}

/** What SQLite and the tree's own links say is wrong; empty when all is well. */
export async function integrityProblems(db: CatalogDb): Promise<string[]> {
  const out: string[] = [];
  const ic = await db.execute('PRAGMA integrity_check(20)');
  const lines = ic.rows.map((r) => String(r[0]));
  if (!(lines.length === 1 && lines[0] === 'ok')) out.push(...lines.map((l) => `SQLite: ${l}`));
  const fk = await db.execute('PRAGMA foreign_key_check');
  for (const r of fk.rows.slice(0, 20)) out.push(`${String(r[0])} row ${String(r[1])} refers to a missing ${String(r[2])} row`);
  const [orphanVersions, orphanNodes, badLists] = await Promise.all([
    db.execute('SELECT count(*) AS n FROM versions WHERE node NOT IN (SELECT id FROM nodes)'),
    db.execute('SELECT count(*) AS n FROM nodes WHERE parent != 0 AND parent NOT IN (SELECT id FROM nodes)'),
    db.execute(`SELECT (SELECT count(*) FROM contents WHERE length(chunks) % ${ID} != 0) +
      (SELECT count(*) FROM sets WHERE length(snapshot_chunks) % ${ID} != 0) AS n`),
  ]);
  const n = (rs: typeof fk) => Number(rs.rows[0]!.n);
  if (n(orphanVersions)) out.push(`${n(orphanVersions)} file versions belong to no path`);
  if (n(orphanNodes)) out.push(`${n(orphanNodes)} paths hang below a directory that is not there`);
  if (n(badLists)) out.push(`${n(badLists)} chunk lists are not a whole number of chunk ids`);
  return out;
}

export async function catalogPacks(db: CatalogDb): Promise<{ name: string; size: number; chunks: number }[]> {
  const rows = await db.json<[string, number, number][]>(
    `SELECT json_group_array(json_array(p.name, p.size, (SELECT count(*) FROM chunks c WHERE c.pack = p.name))) FROM packs p`,
  );
  return rows.map(([name, size, chunks]) => ({ name, size, chunks }));
}

export async function catalogCounts(db: CatalogDb): Promise<{ sets: number; packs: number; chunks: number; contents: number; versions: number }> {
  return db.json(`SELECT json_object('sets', (SELECT count(*) FROM sets), 'packs', (SELECT count(*) FROM packs),
    'chunks', (SELECT count(*) FROM chunks), 'contents', (SELECT count(*) FROM contents), 'versions', (SELECT count(*) FROM versions))`);
}

/** Chunk rows that name a pack the catalog does not list. */
export async function chunksOutsidePacks(db: CatalogDb): Promise<Buffer[]> {
  const rows = await db.json<string[]>('SELECT json_group_array(hex(id)) FROM chunks WHERE pack NOT IN (SELECT name FROM packs)');
  return rows.map((h) => Buffer.from(h, 'hex'));
}

/** Chunks that contents list but the chunk index lacks, and how many contents are hit. */
export async function missingContentChunks(db: CatalogDb): Promise<{ ids: Buffer[]; contents: number }> {
  const missing = new Map<string, Buffer>();
  let contents = 0;
  for await (const page of lists(db, 'contents', 'chunks')) {
    const uniq = new Map<string, Buffer>();
    const perContent = page.map(([, list]) => splitIds(list).map((id) => {
      const k = id.toString('hex');
      uniq.set(k, id);
      return k;
    }));
    const ids = [...uniq.values()];
    const gone = new Set((await missingChunks(db, ids)).map((i) => ids[i]!.toString('hex')));
    if (gone.size === 0) continue;
    for (const keys of perContent) {
      const hit = keys.filter((k) => gone.has(k));
      if (hit.length) contents++;
      for (const k of hit) missing.set(k, uniq.get(k)!);
    }
  }
  return { ids: [...missing.values()], contents };
}

/** Per set, the snapshot chunks the chunk index lacks. */
export async function missingSnapshotChunks(db: CatalogDb): Promise<Map<number, Buffer[]>> {
  const out = new Map<number, Buffer[]>();
  for await (const page of lists(db, 'sets', 'snapshot_chunks')) {
    for (const [set, list] of page) {
      const ids = splitIds(list);
      const gone = (await missingChunks(db, ids)).map((i) => ids[i]!);
      if (gone.length) out.set(set, gone);
    }
  }
  return out;
}

/** Who uses `ids`: files (at most `maxFiles`, by encrypted path) in which sets, and set snapshots. */
export async function chunkUsers(db: CatalogDb, ids: Buffer[], maxFiles = 10_000): Promise<ChunkUsers> {
  const want = new Map(ids.map((id, i) => [id.toString('hex'), i]));
  const hits = async (table: 'contents' | 'sets', col: 'chunks' | 'snapshot_chunks'): Promise<Map<number, Set<number>>> => {
    const out = new Map<number, Set<number>>();
    for await (const page of lists(db, table, col)) {
      for (const [owner, list] of page) {
        for (const id of splitIds(list)) {
          const i = want.get(id.toString('hex'));
          if (i === undefined) continue;
          const s = out.get(owner) ?? new Set<number>();
          s.add(i);
          out.set(owner, s);
        }
      }
    }
    return out;
  };
  const byContent = await hits('contents', 'chunks');
  const bySnapshot = await hits('sets', 'snapshot_chunks');
  const snapshots = [...bySnapshot].map(([setId, s]) => ({ setId, chunks: [...s].sort((a, b) => a - b) }));

  const versions = byContent.size === 0 ? [] : await db.json<[number, number, number | null, number][]>(
    `SELECT json_group_array(json_array(node, first_set, last_set, content)) FROM versions
     WHERE content IN (SELECT value FROM json_each(?))`,
    [JSON.stringify([...byContent.keys()])],
  );
  const setIds = (await db.json<number[]>('SELECT json_group_array(id) FROM (SELECT id FROM sets ORDER BY id)')) ?? [];
  const byNode = new Map<number, { sets: Set<number>; chunks: Set<number> }>();
  for (const [node, first, last, content] of versions) {
    const u = byNode.get(node) ?? { sets: new Set<number>(), chunks: new Set<number>() };
    for (const s of setIds) if (s >= first && (last === null || s <= last)) u.sets.add(s);
    for (const c of byContent.get(content) ?? []) u.chunks.add(c);
    byNode.set(node, u);
  }
  const nodes = [...byNode.keys()].sort((a, b) => a - b);
  const shown = nodes.slice(0, maxFiles);
  const paths = await nodePaths(db, shown);
  const files = shown.map((n) => ({
    path: paths.get(n) ?? [],
    sets: [...byNode.get(n)!.sets].sort((a, b) => a - b),
    chunks: [...byNode.get(n)!.chunks].sort((a, b) => a - b),
  }));
  return { files, snapshots, truncated: nodes.length > shown.length };
}

/** Each node's path as encrypted names, root first. */
export async function nodePaths(db: CatalogDb, nodes: number[]): Promise<Map<number, Buffer[]>> {
  if (nodes.length === 0) return new Map();
  const rows = await db.json<[number, number, string][]>(
    `WITH RECURSIVE up(start, next, depth, name) AS (
       SELECT n.id, n.parent, 0, n.name FROM nodes n WHERE n.id IN (SELECT value FROM json_each(?))
       UNION ALL SELECT up.start, n.parent, up.depth + 1, n.name FROM up JOIN nodes n ON n.id = up.next WHERE up.depth < 4096)
     SELECT json_group_array(json_array(start, depth, hex(name))) FROM up`,
    [JSON.stringify(nodes)],
  );
  const parts = new Map<number, [number, Buffer][]>();
  for (const [start, depth, name] of rows) {
    const l = parts.get(start) ?? [];
    l.push([depth, Buffer.from(name, 'hex')]);
    parts.set(start, l);
  }
  return new Map([...parts].map(([n, l]) => [n, l.sort((a, b) => b[0] - a[0]).map(([, name]) => name)]));
}
