// The path tree and its versions. Rows travel as JSON arrays so that one statement handles a
// whole directory.
import type { CatalogDb, Stmt } from './db.ts';
import { hex, hexCol, unhex } from './db.ts';
import { T_DIR, T_FILE, type EntryMeta, type NamedEntry, type SetVersion, type VisibleEntry } from '../model/entry.ts';

/** A current (open) version of a node, as the backup compares against it. */
export interface OpenVersion extends NamedEntry {
  node: number;
  versionId: number;
  content: number | null;
}

const META_COLS = `v.type, v.mode, v.uid, v.gid, ${hexCol('v.user')}, ${hexCol('v.grp')}, v.size, v.mtime_s, v.mtime_ns,
  v.ctime_s, v.ctime_ns, v.atime_s, v.atime_ns, v.ino, v.dev, v.nlink, v.rdev, ${hexCol('v.target')}`;

type Row = unknown[];

function metaFrom(r: Row, at: number): EntryMeta {
  const n = (i: number) => r[at + i] as number;
  return {
    type: n(0), mode: n(1), uid: n(2), gid: n(3),
    user: unhex(r[at + 4] as string | null), group: unhex(r[at + 5] as string | null),
    size: n(6), mtimeS: n(7), mtimeNs: n(8), ctimeS: n(9), ctimeNs: n(10), atimeS: n(11), atimeNs: n(12),
    ino: n(13), dev: n(14), nlink: n(15), rdev: n(16), target: unhex(r[at + 17] as string | null),
  };
}

/** An entry's name and metadata as JSON values (blobs in hex), in the order the version statements read them. */
export function metaRow(e: NamedEntry): unknown[] {
  return [hex(e.name), e.type, e.mode, e.uid, e.gid, hex(e.user), hex(e.group), e.size, e.mtimeS, e.mtimeNs,
    e.ctimeS, e.ctimeNs, e.atimeS, e.atimeNs, e.ino, e.dev, e.nlink, e.rdev, hex(e.target)];
}

function openFrom(r: Row): OpenVersion {
  return { node: r[0] as number, versionId: r[1] as number, content: r[2] as number | null, name: unhex(r[3] as string)!, ...metaFrom(r, 4) };
}

/** Open versions of every child of `dir`. */
export async function openVersions(db: CatalogDb, dir: number): Promise<OpenVersion[]> {
  const rows = await db.json<Row[]>(
    `SELECT json_group_array(json_array(n.id, v.id, v.content, hex(n.name), ${META_COLS}))
     FROM nodes n JOIN versions v ON v.node = n.id AND v.last_set IS NULL WHERE n.parent = ?`,
    [dir],
  );
  return rows.map(openFrom);
}

/**
 * Every child node of `dir` (keyed by lower-case hex name; names seen in earlier sets too),
 * and the open versions among them.
 */
export async function dirChildren(db: CatalogDb, dir: number): Promise<{ nodes: Map<string, number>; open: OpenVersion[] }> {
  const rows = await db.json<Row[]>(
    `SELECT json_group_array(json_array(n.id, v.id, v.content, lower(hex(n.name)), ${META_COLS}))
     FROM nodes n LEFT JOIN versions v ON v.node = n.id AND v.last_set IS NULL WHERE n.parent = ?`,
    [dir],
  );
  return { nodes: new Map(rows.map((r) => [r[3] as string, r[0] as number])), open: rows.filter((r) => r[1] !== null).map(openFrom) };
}

/** The largest node id (0 when there is none): a backup numbers the nodes it adds itself. */
export async function maxNodeId(db: CatalogDb): Promise<number> {
  return (await db.json<number>('SELECT json(coalesce(max(id), 0)) FROM nodes')) ?? 0;
}

/** Whether any file content is recorded at all (a first backup has nothing to find moved files in). */
export async function hasFileVersions(db: CatalogDb): Promise<boolean> {
  return (await db.json<number>(`SELECT json(EXISTS (SELECT 1 FROM versions WHERE type = ${T_FILE} AND content IS NOT NULL))`)) === 1;
}

/** Node ids of every currently open directory, keyed by `${parent}/${hex name}`. */
export async function openDirNodes(db: CatalogDb): Promise<Map<string, number>> {
  const rows = await db.json<[number, string, number][]>(
    `SELECT json_group_array(json_array(n.parent, hex(n.name), n.id))
     FROM nodes n JOIN versions v ON v.node = n.id AND v.last_set IS NULL AND v.type = ${T_DIR}`,
  );
  return new Map(rows.map(([p, name, id]) => [`${p}/${name.toLowerCase()}`, id]));
}

export async function dirHashes(db: CatalogDb): Promise<Map<number, string>> {
  const rows = await db.json<[number, string][]>('SELECT json_group_array(json_array(node, hex(hash))) FROM dir_listing');
  return new Map(rows.map(([n, h]) => [n, h.toLowerCase()]));
}

/**
 * Content of files that moved or were hard-linked: same inode, device, size and mtime as a
 * version that is current or was current in the previous set. Keyed by the candidate's index.
 */
export async function findMoved(
  db: CatalogDb,
  cands: { i: number; ino: number; dev: number; size: number; mtimeS: number; mtimeNs: number }[],
  sinceSet: number,
): Promise<Map<number, number>> {
  if (cands.length === 0) return new Map();
  const rows = await db.json<[number, number][]>(
    `SELECT json_group_array(json_array(c.value->>0, (
        SELECT v.content FROM versions v WHERE v.ino = c.value->>1 AND v.size = c.value->>3 AND v.dev = c.value->>2
          AND v.mtime_s = c.value->>4 AND v.mtime_ns = c.value->>5 AND v.type = ${T_FILE} AND v.content IS NOT NULL
          AND (v.last_set IS NULL OR v.last_set >= ?) ORDER BY v.id DESC LIMIT 1)))
     FROM json_each(?) c`,
    [sinceSet, JSON.stringify(cands.map((c) => [c.i, c.ino, c.dev, c.size, c.mtimeS, c.mtimeNs]))],
  );
  return new Map(rows.filter((r) => r[1] != null).map((r) => [r[0], r[1]]));
}

/** Inserts nodes with the ids the caller chose: [id, parent, hex name] rows. */
export function stmtInsertNodes(rows: [number, number, string][]): Stmt {
  return {
    sql: 'INSERT INTO nodes (id, parent, name) SELECT value->>0, value->>1, unhex(value->>2) FROM json_each(?)',
    args: [JSON.stringify(rows)],
  };
}

/** Closes the open versions of the given nodes and of everything below them. */
export function stmtCloseSubtrees(nodes: number[], lastSet: number): Stmt[] {
  const arg = JSON.stringify(nodes);
  const sub = `WITH RECURSIVE sub(id) AS (SELECT value FROM json_each(?) UNION SELECT n.id FROM nodes n JOIN sub ON n.parent = sub.id)`;
  return [
    { sql: `${sub} UPDATE versions SET last_set = ? WHERE last_set IS NULL AND node IN (SELECT id FROM sub)`, args: [arg, lastSet] },
    { sql: `${sub} DELETE FROM dir_listing WHERE node IN (SELECT id FROM sub)`, args: [arg] },
  ];
}

/** Closes the open versions of (parent, name) pairs (not their children). */
export function stmtCloseNamed(pairs: { parent: number; name: Buffer }[], lastSet: number): Stmt {
  return {
    sql: `UPDATE versions SET last_set = ? WHERE last_set IS NULL AND node IN (
            SELECT n.id FROM json_each(?) j JOIN nodes n ON n.parent = j.value->>0 AND n.name = unhex(j.value->>1))`,
    args: [lastSet, JSON.stringify(pairs.map((p) => [p.parent, hex(p.name)]))],
  };
}

/** Closes the open version of each node (not their children). */
export function stmtCloseNodes(nodes: number[], lastSet: number): Stmt {
  return {
    sql: 'UPDATE versions SET last_set = ? WHERE last_set IS NULL AND node IN (SELECT value FROM json_each(?))',
    args: [lastSet, JSON.stringify(nodes)],
  };
}

/**
 * Inserts new versions (each row names its parent node). `content` is a contents row id, or a content
 * hash resolved in the same transaction, or null.
 */
export function stmtInsertVersions(firstSet: number, rows: { parent: number; e: NamedEntry; content: number | Buffer | null }[]): Stmt {
  const json = rows.map(({ parent, e, content }) => [...metaRow(e), typeof content === 'number' ? content : null, Buffer.isBuffer(content) ? hex(content) : null, parent]);
  return {
    sql: `INSERT INTO versions (node, first_set, type, mode, uid, gid, user, grp, size, mtime_s, mtime_ns, ctime_s, ctime_ns,
            atime_s, atime_ns, ino, dev, nlink, rdev, target, content)
          SELECT n.id, ?, j.value->>1, j.value->>2, j.value->>3, j.value->>4, unhex(j.value->>5), unhex(j.value->>6), j.value->>7,
            j.value->>8, j.value->>9, j.value->>10, j.value->>11, j.value->>12, j.value->>13, j.value->>14, j.value->>15,
            j.value->>16, j.value->>17, unhex(j.value->>18),
            coalesce(j.value->>19, (SELECT c.id FROM contents c WHERE c.hash = unhex(j.value->>20)))
          FROM json_each(?) j JOIN nodes n ON n.parent = j.value->>21 AND n.name = unhex(j.value->>0)`,
    args: [firstSet, JSON.stringify(json)],
  };
}

const INSERT_VERSION = `INSERT INTO versions (node, first_set, type, mode, uid, gid, user, grp, size, mtime_s, mtime_ns, ctime_s,
  ctime_ns, atime_s, atime_ns, ino, dev, nlink, rdev, target, content)
  VALUES (${Array(20).fill('?').join(', ')}, coalesce(?, (SELECT c.id FROM contents c WHERE c.hash = ?)))`;

/**
 * Inserts versions of nodes whose ids the caller knows: one prepared single-row statement per
 * version, the cheapest way into SQLite (taking JSON apart costs twice as much per row, and a
 * multi-row statement is prepared anew each time). `content` as in stmtInsertVersions.
 */
export function stmtInsertNodeVersions(firstSet: number, rows: { node: number; e: NamedEntry; content: number | Buffer | null }[]): Stmt[] {
  return rows.map(({ node, e, content }) => ({
    sql: INSERT_VERSION,
    args: [node, firstSet, e.type, e.mode, e.uid, e.gid, e.user, e.group, e.size, e.mtimeS, e.mtimeNs, e.ctimeS, e.ctimeNs,
      e.atimeS, e.atimeNs, e.ino, e.dev, e.nlink, e.rdev, e.target, typeof content === 'number' ? content : null, Buffer.isBuffer(content) ? content : null],
  }));
}

export function stmtDeleteDirHashes(nodes: number[]): Stmt {
  return { sql: 'DELETE FROM dir_listing WHERE node IN (SELECT value FROM json_each(?))', args: [JSON.stringify(nodes)] };
}

export function stmtSetDirHashes(hashes: [number, Buffer][]): Stmt {
  return {
    sql: 'INSERT OR REPLACE INTO dir_listing (node, hash) SELECT value->>0, unhex(value->>1) FROM json_each(?)',
    args: [JSON.stringify(hashes.map(([n, h]) => [n, hex(h)]))],
  };
}

/** Children of `dir` as they were in set `setId`. */
export async function visibleEntries(db: CatalogDb, dir: number, setId: number): Promise<VisibleEntry[]> {
  const rows = await db.json<Row[]>(
    `SELECT json_group_array(json_array(n.id, ${hexCol('c.hash')}, ${hexCol('c.chunks')}, hex(n.name), ${META_COLS}))
     FROM nodes n JOIN versions v ON v.node = n.id AND v.first_set <= ?2 AND (v.last_set IS NULL OR v.last_set >= ?2)
     LEFT JOIN contents c ON c.id = v.content
     WHERE n.parent = ?1`,
    [dir, setId],
  );
  return rows.map((r) => ({ node: r[0] as number, hash: unhex(r[1] as string | null), chunks: unhex(r[2] as string | null), name: unhex(r[3] as string)!, ...metaFrom(r, 4) }));
}

/** The node reached from `dir` by one encrypted name, if that name is visible in `setId`. */
export async function lookupChild(db: CatalogDb, dir: number, name: Buffer, setId: number): Promise<VisibleEntry | null> {
  const all = await db.json<Row[]>(
    `SELECT json_group_array(json_array(n.id, ${hexCol('c.hash')}, ${hexCol('c.chunks')}, hex(n.name), ${META_COLS}))
     FROM nodes n JOIN versions v ON v.node = n.id AND v.first_set <= ?3 AND (v.last_set IS NULL OR v.last_set >= ?3)
     LEFT JOIN contents c ON c.id = v.content
     WHERE n.parent = ?1 AND n.name = ?2`,
    [dir, name, setId],
  );
  const r = all[0];
  return r ? { node: r[0] as number, hash: unhex(r[1] as string | null), chunks: unhex(r[2] as string | null), name: unhex(r[3] as string)!, ...metaFrom(r, 4) } : null;
}

/** One page of the versions visible in a set, in version-id order (for snapshots). */
export async function setVersionsPage(db: CatalogDb, setId: number, afterId: number, limit: number): Promise<{ entries: SetVersion[]; last: number | null }> {
  const rows = await db.json<Row[]>(
    `SELECT json_group_array(json(r)) FROM (
       SELECT json_array(v.id, n.parent, n.id, ${hexCol('c.hash')}, ${hexCol('c.chunks')}, hex(n.name), ${META_COLS}) AS r
       FROM versions v JOIN nodes n ON n.id = v.node LEFT JOIN contents c ON c.id = v.content
       WHERE v.id > ?2 AND v.first_set <= ?1 AND (v.last_set IS NULL OR v.last_set >= ?1)
       ORDER BY v.id LIMIT ?3)`,
    [setId, afterId, limit],
  );
  const entries = rows.map((r) => ({
    parent: r[1] as number, node: r[2] as number, hash: unhex(r[3] as string | null), chunks: unhex(r[4] as string | null),
    name: unhex(r[5] as string)!, ...metaFrom(r, 6),
  }));
  return { entries, last: rows.length ? (rows[rows.length - 1]![0] as number) : null };
}

export type ChangeStatus = 'new' | 'changed' | 'deleted';

/**
 * One page of what set `setId` changed against `prevId` (the set before it, null for the first):
 * versions it added (new paths, or new versions of paths `prevId` had) and versions of `prevId`
 * it no longer has (deleted), in version-id order (`sonic files`).
 */
export async function setChangesPage(db: CatalogDb, setId: number, prevId: number | null, afterId: number, limit: number): Promise<{ entries: (SetVersion & { status: ChangeStatus })[]; last: number | null }> {
  const rows = await db.json<Row[]>(
    `SELECT json_group_array(json(r)) FROM (
       SELECT json_array(v.id, n.parent, n.id, ${hexCol('c.hash')}, ${hexCol('c.chunks')}, hex(n.name), ${META_COLS},
         CASE WHEN v.first_set != ?1 THEN 'deleted'
              WHEN EXISTS (SELECT 1 FROM versions p WHERE p.node = v.node AND p.first_set <= ?4 AND p.last_set >= ?4) THEN 'changed'
              ELSE 'new' END) AS r
       FROM versions v JOIN nodes n ON n.id = v.node LEFT JOIN contents c ON c.id = v.content
       WHERE v.id > ?2 AND (v.first_set = ?1 OR (?4 IS NOT NULL AND v.first_set <= ?4 AND v.last_set >= ?4 AND v.last_set < ?1
         AND NOT EXISTS (SELECT 1 FROM versions q WHERE q.node = v.node AND q.first_set <= ?1 AND (q.last_set IS NULL OR q.last_set >= ?1))))
       ORDER BY v.id LIMIT ?3)`,
    [setId, afterId, limit, prevId],
  );
  const entries = rows.map((r) => ({
    parent: r[1] as number, node: r[2] as number, hash: unhex(r[3] as string | null), chunks: unhex(r[4] as string | null),
    name: unhex(r[5] as string)!, ...metaFrom(r, 6), status: r[r.length - 1] as ChangeStatus,
  }));
  return { entries, last: rows.length ? (rows[rows.length - 1]![0] as number) : null };
}
