// tardis --purge: after a completed backup, delete older sets of low priority, then collect the
// garbage. Tardis' rule (reference §6.2) with its inverted relative/absolute flag fixed.
import type { Connection } from '../../internal/connect/connect.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import type { GcReport, SetInfo } from '../../internal/model/session.ts';
import { parseDate } from '../../internal/restore/index.ts';
import { autoPurgeRule } from '../../internal/retention/policy.ts';

export interface PurgeFlags {
  purgePriority?: unknown;
  keepDays?: unknown;
  keepHours?: unknown;
  keepTime?: unknown;
}

function number(v: unknown, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of at least 0 (got '${String(v)}')`);
  return n;
}

/** Checks the flags before the backup runs, so a typo does not wait for the whole run. */
export function checkPurgeFlags(f: PurgeFlags): void {
  const given = [f.keepDays, f.keepHours, f.keepTime].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('give one of --keep-days, --keep-hours and --keep-time');
  if (f.purgePriority !== undefined && !Number.isInteger(Number(f.purgePriority))) throw new UsageError(`--purge-priority must be a whole number (got '${String(f.purgePriority)}')`);
  if (f.keepDays !== undefined) number(f.keepDays, 'keep-days');
  if (f.keepHours !== undefined) number(f.keepHours, 'keep-hours');
  if (f.keepTime !== undefined) parseDate(String(f.keepTime));
}

/**
 * Purges relative to the set just made: sets before it with priority at most --purge-priority
 * (default: its own) that ended before the cut-off: --keep-days/--keep-hours before now,
 * --keep-time as a date, or by default the new set's own keep-days (0: keep everything).
 */
export async function purgeAfter(conn: Connection, setId: number, f: PurgeFlags): Promise<{ purged: SetInfo[]; gc: GcReport | null; why: string }> {
  const set = (await conn.session.listSets()).find((s) => s.id === setId);
  if (!set) throw new UsageError(`set ${setId} vanished before the purge`);
  const priority = f.purgePriority === undefined ? set.priority : Number(f.purgePriority);
  const now = Date.now();
  let before: number;
  if (f.keepTime !== undefined) before = parseDate(String(f.keepTime));
  else if (f.keepDays !== undefined) before = now - number(f.keepDays, 'keep-days') * 86_400_000;
  else if (f.keepHours !== undefined) before = now - number(f.keepHours, 'keep-hours') * 3_600_000;
  else {
    const rule = autoPurgeRule(set);
    if (!rule) return { purged: [], gc: null, why: `${set.name} keeps everything (keep days 0)` };
    before = rule.before;
  }
  const purged = await conn.session.purge({ priority, before, belowId: setId }, false);
  const gc = purged.length ? await conn.session.collectGarbage({}) : null;
  return { purged, gc, why: `priority ≤ ${priority}, ended before ${new Date(before).toISOString()}` };
}
