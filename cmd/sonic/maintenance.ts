// sonic delete, purge and orphans: choose sets, confirm, then let the repository side do the work
// (the same requests over tardisd as on a local repository).
import { createInterface } from 'node:readline/promises';
import { formatBytes } from '../../internal/config/index.ts';
import type { Connection } from '../../internal/connect/connect.ts';
import { NotFoundError, UsageError } from '../../internal/errors/errors.ts';
import type { GcReport, SetInfo } from '../../internal/model/session.ts';
import { selectSet } from '../../internal/restore/index.ts';

type Out = (line: string) => void;

export interface MaintenanceFlags {
  confirm?: boolean;
  dryRun?: boolean;
  json?: boolean;
  repackBelow?: unknown;
}

/** Asks on the terminal; without one, only --no-confirm lets a destructive command go on. */
async function confirmed(question: string, flags: MaintenanceFlags): Promise<boolean> {
  if (flags.confirm === false) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${question.replace(/\?$/, '')}: confirm on a terminal, or pass --no-confirm`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Set specs: id, name, tag, Current, date text, or an id range A-B. */
export function chooseSets(sets: SetInfo[], conn: Connection, specs: string[]): SetInfo[] {
  if (specs.length === 0) throw new UsageError('name the sets to delete (id, name, tag, date or a range A-B)');
  const chosen = new Map<number, SetInfo>();
  for (const spec of specs) {
    const range = /^(\d+)-(\d+)$/.exec(spec);
    if (range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])].sort((a, b) => a - b) as [number, number];
      const inRange = sets.filter((s) => s.id >= lo && s.id <= hi);
      if (inRange.length === 0) throw new NotFoundError(`no sets with ids ${lo} to ${hi}`);
      for (const s of inRange) chosen.set(s.id, s);
    } else {
      const s = selectSet(sets, conn.keyring, { backup: spec });
      chosen.set(s.id, s);
    }
  }
  return [...chosen.values()].sort((a, b) => a.id - b.id);
}

function gcLine(r: GcReport): string {
  return `freed ${formatBytes(r.bytesBefore - r.bytesAfter)} (${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)}): ` +
    `${r.chunksDeleted} chunks, ${r.packsDeleted} packs deleted, ${r.packsRepacked} rewritten into ${r.packsWritten}, ${r.strayFilesDeleted} stray files`;
}

function repackFraction(v: unknown): number {
  if (v === undefined) return 0.5;
  const n = Number(String(v).replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--repack-below must be a percentage from 0 to 100 (got '${String(v)}')`);
  return n / 100;
}

export async function orphans(conn: Connection, flags: MaintenanceFlags, out: Out): Promise<void> {
  const r = await conn.session.collectGarbage({ repackBelow: repackFraction(flags.repackBelow) });
  out(flags.json ? JSON.stringify(r) : gcLine(r));
}

export async function deleteCommand(conn: Connection, sets: SetInfo[], specs: string[], flags: MaintenanceFlags & { purge?: boolean }, out: Out): Promise<void> {
  const chosen = chooseSets(sets, conn, specs);
  for (const s of chosen) out(`${flags.dryRun ? 'would delete' : 'delete'} ${s.name} (id ${s.id})${s.locked ? ' [locked]' : ''}`);
  if (flags.dryRun) return;
  const locked = chosen.filter((s) => s.locked);
  if (!(await confirmed(`delete ${chosen.length} set(s)?`, flags))) throw new UsageError('nothing deleted');
  if (locked.length && !(await confirmed(`${locked.length} of them locked; delete anyway?`, flags))) throw new UsageError('nothing deleted');
  await conn.session.deleteSets(chosen.map((s) => s.id));
  if (flags.purge !== false) await orphans(conn, flags, out);
}

export async function purgeCommand(
  conn: Connection, sets: SetInfo[], flags: MaintenanceFlags & { priority?: unknown; incomplete?: boolean; backup?: unknown; date?: unknown },
  out: Out,
): Promise<void> {
  const priority = flags.priority === undefined ? 0 : Number(flags.priority);
  if (!Number.isInteger(priority)) throw new UsageError(`--priority must be a whole number (got '${String(flags.priority)}')`);
  const ref = selectSet(sets, conn.keyring, {
    backup: flags.backup === undefined ? undefined : String(flags.backup),
    date: flags.date === undefined ? undefined : String(flags.date),
  });
  const rule = { priority, before: ref.endTime ?? ref.startTime, belowId: ref.id, incompleteOnly: flags.incomplete === true };
  const doomed = await conn.session.purge(rule, true);
  if (doomed.length === 0) {
    out(`nothing to purge (priority ≤ ${priority}, before ${ref.name})`);
    return;
  }
  for (const s of doomed) out(`${flags.dryRun ? 'would purge' : 'purge'} ${s.name} (id ${s.id}, priority ${s.priority})`);
  if (flags.dryRun) return;
  if (!(await confirmed(`purge ${doomed.length} set(s)?`, flags))) throw new UsageError('nothing purged');
  await conn.session.purge(rule, false);
  await orphans(conn, flags, out);
}
