// Choosing a set: by id, `Current`, name, tag, or date (the newest set started at or before it).
import * as chrono from 'chrono-node';
import { NotFoundError, UsageError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { SetInfo } from '../model/session.ts';

export const CURRENT = 'Current';

/** The date in `text` or null: ISO forms exactly, else free text ("3 days ago", "last tuesday 14:00"). */
export function tryParseDate(text: string, now: Date = new Date()): number | null {
  const iso = isoDate(text);
  if (iso !== null) return iso;
  const d = chrono.parseDate(text, now);
  return d ? d.getTime() : null;
}

/**
 * Like tryParseDate, but all of `text` must be the date: chrono finds dates inside prose
 * ("x 10:00 y" holds one), which is wrong where text is split at guessed places (--dates A:B).
 */
export function tryParseWholeDate(text: string, now: Date = new Date()): number | null {
  const iso = isoDate(text);
  if (iso !== null) return iso;
  const t = text.trim();
  const found = chrono.parse(t, now);
  if (found.length !== 1 || found[0]!.index !== 0 || found[0]!.text.length !== t.length) return null;
  return found[0]!.start.date().getTime();
}

function isoDate(text: string): number | null {
  const iso = text.includes('T') || !/^\d{4}-\d{2}-\d{2} \d/.test(text) ? text : text.replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso)) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function parseDate(text: string, now?: Date): number {
  const t = tryParseDate(text, now);
  if (t === null) throw new UsageError(`cannot understand the date '${text}' (try YYYY-MM-DD[ HH:MM[:SS]], "3 days ago", "last tuesday")`);
  return t;
}

/** The newest completed set started at or before `t` (ms), if any. */
export function setAt(sets: SetInfo[], t: number): SetInfo | null {
  return sets.filter((x) => x.completed && x.startTime <= t).pop() ?? null;
}

/** The set `want` names as an id, `Current`, a name or a tag (no date fallback), if any. */
export function namedSet(sets: SetInfo[], keyring: Keyring, want: string): SetInfo | null {
  if (/^\d+$/.test(want)) {
    const s = sets.find((x) => x.id === Number(want));
    if (s) return s;
  }
  if (want === CURRENT) return sets.filter((s) => s.completed).pop() ?? null;
  const byName = sets.find((x) => x.name === want);
  if (byName) return byName;
  const tag = keyring.encString(want)!;
  return sets.find((x) => x.tags.some((t) => t.equals(tag))) ?? null;
}

export function selectSet(sets: SetInfo[], keyring: Keyring, spec: { backup?: string; date?: string }): SetInfo {
  if (spec.backup !== undefined && spec.date !== undefined) throw new UsageError('--backup and --date are mutually exclusive');
  if (spec.date !== undefined) {
    const s = setAt(sets, parseDate(spec.date));
    if (!s) throw new NotFoundError(`no backup set at or before ${spec.date}`);
    return s;
  }
  const want = spec.backup ?? CURRENT;
  const s = namedSet(sets, keyring, want);
  if (s) return s;
  if (want === CURRENT) throw new NotFoundError('the repository has no completed backup set yet');
  // A date text names the newest set started by then; digits alone are an id, never a year.
  if (!/^\d+$/.test(want) && tryParseDate(want) !== null) return selectSet(sets, keyring, { date: want });
  throw new NotFoundError(`no backup set named '${want}' (by id, name, tag or date)`);
}
