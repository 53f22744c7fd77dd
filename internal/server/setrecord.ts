// Set records: sets/<id> in the store, a plain JSON copy of each completed set's catalog row,
// rewritten whenever the row changes. The sealed snapshot manifest carries what the client knew
// when it sealed it; the name and priority chosen here, and later changes (lock, tags, rename),
// happen on this side afterwards, so `sonic rebuild` needs these records as well. They hold
// nothing the catalog does not hold in the clear already (tags stay encrypted).
import { getSet, listSets, type SetRow } from '../catalog/index.ts';
import type { Store } from '../store/index.ts';
import type { ServerRepository } from './repository.ts';
import { Serial } from './serial.ts';

export const RECORD_VERSION = 1;

export interface SetRecord extends SetRow {
  v: typeof RECORD_VERSION;
}

// One writer per repository in this process, and each write reads the catalog row only once it
// has its turn: whatever order sessions commit in, the file written last reflects every change
// committed before it. (Two processes on one repository can still race; the next sync mends it.)
const writers = new Map<string, Serial>();

function writer(repo: ServerRepository): Serial {
  let s = writers.get(repo.root);
  if (!s) writers.set(repo.root, (s = new Serial()));
  return s;
}

function encode(row: SetRow): Buffer {
  const rec: SetRecord = { v: RECORD_VERSION, ...row };
  return Buffer.from(JSON.stringify(rec) + '\n');
}

/** Rewrites the records of these sets from the catalog (removes those of sets that are gone or incomplete). */
export function writeSetRecords(repo: ServerRepository, ids: number[]): Promise<void> {
  return writer(repo).run(async () => {
    for (const id of new Set(ids)) {
      const row = await getSet(repo.db, id);
      if (row?.completed) await repo.store.put('sets', String(id), encode(row));
      else await repo.store.remove('sets', String(id));
    }
  });
}

/**
 * Makes sets/ match the catalog: writes missing or outdated records (repositories from before
 * records existed, a write lost in a crash) and removes those of sets that are gone. Returns
 * how many files it changed.
 */
export function syncSetRecords(repo: ServerRepository): Promise<number> {
  return writer(repo).run(async () => {
    const rows = new Map((await listSets(repo.db)).filter((s) => s.completed).map((s) => [String(s.id), s]));
    let changed = 0;
    for await (const name of repo.store.list('sets')) {
      if (rows.has(name)) continue;
      await repo.store.remove('sets', name);
      changed++;
    }
    for (const [name, row] of rows) {
      const want = encode(row);
      const have = await repo.store.get('sets', name).catch(() => null);
      if (have?.equals(want)) continue;
      await repo.store.put('sets', name, want);
      changed++;
    }
    return changed;
  });
}

/** Which completed sets lack a record or have an outdated one (for `sonic check`). */
export async function staleSetRecords(repo: ServerRepository, rows: SetRow[]): Promise<number[]> {
  const out: number[] = [];
  for (const row of rows) {
    if (!row.completed) continue;
    const have = await repo.store.get('sets', String(row.id)).catch(() => null);
    if (!have?.equals(encode(row))) out.push(row.id);
  }
  return out;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
const isIntOrNull = (x: unknown) => x === null || isInt(x);
const isStrOrNull = (x: unknown) => x === null || typeof x === 'string';

/** A record as read back: checked field by field, since the file may be damaged. */
function parseRecord(text: string, name: string): SetRecord | null {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const ok = r !== null && typeof r === 'object' && r.v === RECORD_VERSION && isInt(r.id) && String(r.id) === name &&
    typeof r.name === 'string' && r.name !== '' && typeof r.completed === 'boolean' && isInt(r.priority) && isInt(r.keepDays) &&
    typeof r.full === 'boolean' && typeof r.locked === 'boolean' && typeof r.explicit === 'boolean' && isInt(r.startTime) &&
    isIntOrNull(r.endTime) && isIntOrNull(r.clientTime) && isStrOrNull(r.session) && isStrOrNull(r.clientVersion) &&
    isStrOrNull(r.error) && isStrOrNull(r.snapshot) && (r.stats === null || (typeof r.stats === 'object' && !Array.isArray(r.stats))) &&
    Array.isArray(r.tags) && r.tags.every((t) => typeof t === 'string' && /^[0-9a-fA-F]{2,8192}$/.test(t) && t.length % 2 === 0);
  return ok ? (r as unknown as SetRecord) : null;
}

/** Every readable set record by set id, and the names of the files that could not be used. */
export async function readSetRecords(store: Store): Promise<{ records: Map<number, SetRecord>; bad: string[] }> {
  const records = new Map<number, SetRecord>();
  const bad: string[] = [];
  for await (const name of store.list('sets')) {
    const rec = parseRecord((await store.get('sets', name).catch(() => Buffer.alloc(0))).toString('utf8'), name);
    if (rec) records.set(rec.id, rec);
    else bad.push(name);
  }
  return { records, bad };
}
