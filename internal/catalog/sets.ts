// Backup sets and their tags.
import type { SetInfo } from '../model/session.ts';
import type { CatalogDb } from './db.ts';
import { hex } from './db.ts';

/** A set as the catalog holds it: what clients see (SetInfo), plus the repository's own fields. */
export interface SetRow extends Omit<SetInfo, 'tags'> {
  explicit: boolean;
  session: string | null;
  clientVersion: string | null;
  snapshot: string | null;
  tags: string[]; // hex of encrypted tag names
}

const SET_JSON = `json_object('id', s.id, 'name', s.name, 'completed', s.completed, 'priority', s.priority,
  'keepDays', s.keep_days, 'full', s.full, 'locked', s.locked, 'explicit', s.explicit,
  'startTime', s.start_time, 'endTime', s.end_time, 'clientTime', s.client_time, 'session', s.session,
  'clientVersion', s.client_version, 'stats', json(s.stats), 'error', s.error, 'snapshot', s.snapshot,
  'tags', (SELECT json_group_array(hex(t.name)) FROM tags t WHERE t.set_id = s.id))`;

function fromJson(r: SetRow & { completed: unknown; full: unknown; locked: unknown; explicit: unknown }): SetRow {
  return { ...r, completed: !!r.completed, full: !!r.full, locked: !!r.locked, explicit: !!r.explicit };
}

export async function listSets(db: CatalogDb): Promise<SetRow[]> {
  const rows = await db.json<SetRow[]>(`SELECT json_group_array(json(j)) FROM (SELECT ${SET_JSON} AS j FROM sets s ORDER BY s.id)`);
  return (rows ?? []).map((r) => fromJson(r as never));
}

export async function getSet(db: CatalogDb, id: number): Promise<SetRow | null> {
  const r = await db.json<SetRow | null>(`SELECT ${SET_JSON} FROM sets s WHERE s.id = ?`, [id]);
  return r ? fromJson(r as never) : null;
}

export async function createSet(
  db: CatalogDb,
  s: { name?: string; startTime: number; clientTime: number; session: string; clientVersion: string; full: boolean },
): Promise<number> {
  // Sets are born INCOMPLETE-<id> and named on completion (explicit names are kept).
  const [ins] = await db.batch([
    {
      sql: `INSERT INTO sets (name, explicit, start_time, client_time, session, client_version, full)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      args: [s.name ?? `INCOMPLETE-${s.session}`, s.name ? 1 : 0, s.startTime, s.clientTime, s.session, s.clientVersion, s.full ? 1 : 0],
    },
    { sql: `UPDATE sets SET name = 'INCOMPLETE-' || id WHERE name = ?`, args: [`INCOMPLETE-${s.session}`] },
  ]);
  return Number(ins!.rows[0]!.id);
}

/** Takes over an incomplete set for a new run (resume). */
export async function resumeSet(
  db: CatalogDb,
  id: number,
  s: { startTime: number; clientTime: number; session: string; clientVersion: string; full: boolean; name?: string },
): Promise<void> {
  await db.execute(
    `UPDATE sets SET start_time = ?, client_time = ?, session = ?, client_version = ?, full = ?,
       explicit = CASE WHEN ? IS NULL THEN explicit ELSE 1 END, name = coalesce(?, name), error = NULL
     WHERE id = ? AND completed = 0`,
    [s.startTime, s.clientTime, s.session, s.clientVersion, s.full ? 1 : 0, s.name ?? null, s.name ?? null, id],
  );
}

export async function completeSet(
  db: CatalogDb,
  id: number,
  c: {
    name: string; priority: number; keepDays: number; endTime: number; stats: object; snapshot: string | null;
    snapshotChunks: Buffer[]; tags: Buffer[]; moveTags: boolean;
  },
): Promise<void> {
  await db.batch([
    ...(c.moveTags ? [{ sql: 'DELETE FROM tags WHERE name IN (SELECT unhex(value) FROM json_each(?))', args: [JSON.stringify(c.tags.map(hex))] }] : []),
    {
      sql: `UPDATE sets SET completed = 1, name = ?, priority = ?, keep_days = ?, end_time = ?, stats = ?, snapshot = ?,
              snapshot_chunks = ? WHERE id = ?`,
      args: [c.name, c.priority, c.keepDays, c.endTime, JSON.stringify(c.stats), c.snapshot, Buffer.concat(c.snapshotChunks), id],
    },
    { sql: 'INSERT INTO tags (name, set_id) SELECT unhex(value), ? FROM json_each(?)', args: [id, JSON.stringify(c.tags.map(hex))] },
  ]);
}

export async function failSet(db: CatalogDb, id: number, error: string, stats: object): Promise<void> {
  await db.execute('UPDATE sets SET error = ?, stats = ?, end_time = ? WHERE id = ? AND completed = 0', [error, JSON.stringify(stats), Date.now(), id]);
}

export async function setNameExists(db: CatalogDb, name: string): Promise<boolean> {
  const rs = await db.execute('SELECT 1 FROM sets WHERE name = ?', [name]);
  return rs.rows.length > 0;
}

export async function tagExists(db: CatalogDb, tag: Buffer): Promise<number | null> {
  const rs = await db.execute('SELECT set_id FROM tags WHERE name = ?', [tag]);
  return rs.rows.length ? Number(rs.rows[0]!.set_id) : null;
}

/** Changes a set's name, priority, lock or tags in one transaction (see SetChange). */
export async function updateSet(
  db: CatalogDb,
  id: number,
  c: { name?: string; priority?: number; locked?: boolean; addTags?: Buffer[]; removeTags?: Buffer[]; moveTags?: boolean },
): Promise<void> {
  const add = JSON.stringify((c.addTags ?? []).map(hex));
  await db.batch([
    ...(c.name !== undefined ? [{ sql: 'UPDATE sets SET name = ?, explicit = 1 WHERE id = ?', args: [c.name, id] }] : []),
    ...(c.priority !== undefined ? [{ sql: 'UPDATE sets SET priority = ? WHERE id = ?', args: [c.priority, id] }] : []),
    ...(c.locked !== undefined ? [{ sql: 'UPDATE sets SET locked = ? WHERE id = ?', args: [c.locked ? 1 : 0, id] }] : []),
    ...(c.removeTags?.length ? [{ sql: 'DELETE FROM tags WHERE set_id = ? AND name IN (SELECT unhex(value) FROM json_each(?))', args: [id, JSON.stringify(c.removeTags.map(hex))] }] : []),
    ...(c.moveTags ? [{ sql: 'DELETE FROM tags WHERE name IN (SELECT unhex(value) FROM json_each(?))', args: [add] }] : []),
    { sql: 'INSERT OR IGNORE INTO tags (name, set_id) SELECT unhex(value), ? FROM json_each(?)', args: [id, add] },
  ]);
}

/**
 * What deleting set `setId` alone would free, roughly (`sonic info`'s "purgeable"): the contents
 * that only versions visible in no other set use, counted and summed by their logical size.
 * Chunks shared with other contents still stay, so the space returned can be less.
 */
export async function exclusiveUsage(db: CatalogDb, setId: number): Promise<{ files: number; bytes: number }> {
  const rs = await db.execute(
    `WITH only AS (
       SELECT v.id, v.content FROM versions v
       WHERE v.content IS NOT NULL AND v.first_set <= ?1 AND (v.last_set IS NULL OR v.last_set >= ?1)
         AND NOT EXISTS (SELECT 1 FROM sets s WHERE s.id != ?1 AND s.id >= v.first_set AND (v.last_set IS NULL OR s.id <= v.last_set))),
     freed AS (
       SELECT content FROM versions WHERE content IN (SELECT content FROM only)
       GROUP BY content HAVING sum(CASE WHEN id IN (SELECT id FROM only) THEN 0 ELSE 1 END) = 0)
     SELECT count(*) AS files, coalesce(sum(c.size), 0) AS bytes FROM contents c WHERE c.id IN (SELECT content FROM freed)`,
    [setId],
  );
  return { files: Number(rs.rows[0]!.files), bytes: Number(rs.rows[0]!.bytes) };
}
