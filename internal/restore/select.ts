// Choosing a set: by id, `Current`, name, tag, or date (the newest set started at or before it).
import * as chrono from 'chrono-node';
import { NotFoundError, UsageError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { SetInfo } from '../model/session.ts';

export const CURRENT = 'Current';

/** The date in `text` or null: ISO forms exactly, else free text ("3 days ago", "last tuesday 14:00"). */
export function tryParseDate(text: string, now: Date = new Date()): number | null {
  const iso = text.includes('T') || !/^\d{4}-\d{2}-\d{2} \d/.test(text) ? text : text.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}/.test(iso)) {
    const t = Date.parse(iso);
    if (!Number.isNaN(t)) return t;
  }
  const d = chrono.parseDate(text, now);
  return d ? d.getTime() : null;
}

export function parseDate(text: string, now?: Date): number {
  const t = tryParseDate(text, now);
  if (t === null) throw new UsageError(`cannot understand the date '${text}' (try YYYY-MM-DD[ HH:MM[:SS]], "3 days ago", "last tuesday")`);
  return t;
}

export function selectSet(sets: SetInfo[], keyring: Keyring, spec: { backup?: string; date?: string }): SetInfo {
  if (spec.backup !== undefined && spec.date !== undefined) throw new UsageError('--backup and --date are mutually exclusive');
  const completed = sets.filter((s) => s.completed);
  if (spec.date !== undefined) {
    const t = parseDate(spec.date);
    const s = completed.filter((x) => x.startTime <= t).pop();
    if (!s) throw new NotFoundError(`no backup set at or before ${spec.date}`);
    return s;
  }
  const want = spec.backup ?? CURRENT;
  if (/^\d+$/.test(want)) {
    const s = sets.find((x) => x.id === Number(want));
    if (s) return s;
  }
  if (want === CURRENT) {
    const s = completed[completed.length - 1];
    if (!s) throw new NotFoundError('the repository has no completed backup set yet');
    return s;
  }
  const byName = sets.find((x) => x.name === want);
  if (byName) return byName;
  const tag = keyring.encString(want)!;
  const byTag = sets.find((x) => x.tags.some((t) => t.equals(tag)));
  if (byTag) return byTag;
  // A date text names the newest set started by then; digits alone are an id, never a year.
  if (!/^\d+$/.test(want) && tryParseDate(want) !== null) return selectSet(sets, keyring, { date: want });
  throw new NotFoundError(`no backup set named '${want}' (by id, name, tag or date)`);
}
