// Catalog statements of `sonic rebuild`: rows written with the ids they had (sets, path nodes,
// versions), since snapshots record those ids; and a look at an existing catalog file before it
// is replaced.
import { existsSync } from 'node:fs';
import type { NamedEntry } from '../model/entry.ts';
import type { SetRow } from './sets.ts';
import { metaRow } from './tree.ts';
import { hex, type Stmt } from './db.ts';
import { SqlConn } from './sql.ts';

export function stmtInsertSetRow(r: SetRow, snapshotChunks: Buffer[]): Stmt[] {
  return [
    {
      sql: `INSERT INTO sets (id, name, completed, priority, keep_days, full, locked, explicit, start_time, end_time, client_time,
              session, client_version, stats, error, snapshot, snapshot_chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [r.id, r.name, r.completed ? 1 : 0, r.priority, r.keepDays, r.full ? 1 : 0, r.locked ? 1 : 0, r.explicit ? 1 : 0, r.startTime,
        r.endTime, r.clientTime, r.session, r.clientVersion, r.stats === null ? null : JSON.stringify(r.stats), r.error, r.snapshot,
        Buffer.concat(snapshotChunks)],
    },
    // A tag two sets claim (a record outdated by a crash) stays with the first.
    { sql: 'INSERT OR IGNORE INTO tags (name, set_id) SELECT unhex(value), ? FROM json_each(?)', args: [r.id, JSON.stringify(r.tags)] },
  ];
}

/** Path nodes with their own ids. */
export function stmtInsertNodeRows(rows: { id: number; parent: number; name: Buffer }[]): Stmt {
  return {
    sql: 'INSERT OR IGNORE INTO nodes (id, parent, name) SELECT value->>0, value->>1, unhex(value->>2) FROM json_each(?)',
    args: [JSON.stringify(rows.map((r) => [r.id, r.parent, hex(r.name)]))],
  };
}

/** Versions with their own ids, open (last_set NULL) until closed; content found by its hash. */
export function stmtInsertVersionRows(rows: { id: number; node: number; firstSet: number; e: NamedEntry; hash: Buffer | null }[]): Stmt {
  // metaRow: [name, type, mode, uid, gid, user, grp, size, mtime_s, mtime_ns, ctime_s, ctime_ns, atime_s, atime_ns, ino, dev, nlink, rdev, target]
  const json = rows.map((r) => [r.id, r.node, r.firstSet, hex(r.hash), ...metaRow(r.e)]);
  return {
    sql: `INSERT INTO versions (id, node, first_set, type, mode, uid, gid, user, grp, size, mtime_s, mtime_ns, ctime_s, ctime_ns,
            atime_s, atime_ns, ino, dev, nlink, rdev, target, content)
          SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>5, j.value->>6, j.value->>7, j.value->>8, unhex(j.value->>9),
            unhex(j.value->>10), j.value->>11, j.value->>12, j.value->>13, j.value->>14, j.value->>15, j.value->>16, j.value->>17,
            j.value->>18, j.value->>19, j.value->>20, j.value->>21, unhex(j.value->>22),
            (SELECT c.id FROM contents c WHERE c.hash = unhex(j.value->>3))
          FROM json_each(?) j`,
    args: [JSON.stringify(json)],
  };
}

/** Ends versions: [version id, last set that sees it]. */
export function stmtCloseVersionRows(closes: [number, number][]): Stmt {
  return {
    sql: 'UPDATE versions SET last_set = j.value->>1 FROM json_each(?) j WHERE versions.id = j.value->>0',
    args: [JSON.stringify(closes)],
  };
}

export function stmtInsertConfig(rows: [string, string][]): Stmt {
  return { sql: 'INSERT OR REPLACE INTO config (key, value) SELECT value->>0, value->>1 FROM json_each(?)', args: [JSON.stringify(rows)] };
}

export type CatalogState =
  | { state: 'missing' }
  | { state: 'healthy'; sets: number; config: [string, string][] }
  | { state: 'damaged'; reason: string; config: [string, string][] };

/**
 * What an existing catalog file is like, without migrating it: missing, healthy (opens, passes
 * SQLite's quick check, has sets), or damaged. Its config rows (repository settings) are
 * read when they can be, so a rebuild can keep them.
 */
export async function inspectCatalog(file: string): Promise<CatalogState> {
  if (!existsSync(file)) return { state: 'missing' };
  let conn: SqlConn;
  try {
    conn = new SqlConn(file);
  } catch (err) {
    return { state: 'damaged', reason: (err as Error).message, config: [] };
  }
  let config: [string, string][] = [];
  try {
    config = conn.execute('SELECT key, value FROM config').rows.map((r) => [String(r.key), String(r.value)]);
  } catch {
    // unreadable settings are simply not carried over
  }
  try {
    const qc = conn.execute('PRAGMA quick_check').rows.map((r) => String(r[0]));
    if (!(qc.length === 1 && qc[0] === 'ok')) return { state: 'damaged', reason: qc.slice(0, 3).join('; '), config };
    const sets = Number(conn.execute('SELECT count(*) AS n FROM sets').rows[0]!.n);
    return { state: 'healthy', sets, config };
  } catch (err) {
    return { state: 'damaged', reason: (err as Error).message, config };
  } finally {
    conn.close();
  }
}
