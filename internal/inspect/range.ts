// Ranges of backup sets, as lstardis' --range START:END (ids, names, tags, Current or dates)
// and --dates START:END. Set names and times hold colons themselves ("Backup_2026-03-15_14:00:00",
// "2026-03-15 14:00"), so the split is the one where both sides make sense; "A..B" is never ambiguous.
import { NotFoundError, UsageError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { SetInfo } from '../model/session.ts';
import { namedSet, setAt, tryParseWholeDate } from '../restore/index.ts';

/** The ways to cut `spec` into START and END: at "..", else at each colon in turn. */
function splits(spec: string): [string, string][] {
  const dots = spec.indexOf('..');
  if (dots >= 0) return [[spec.slice(0, dots), spec.slice(dots + 2)]];
  const out: [string, string][] = [];
  for (let i = spec.indexOf(':'); i >= 0; i = spec.indexOf(':', i + 1)) out.push([spec.slice(0, i), spec.slice(i + 1)]);
  return out;
}

/** The set a range end names: id, name, tag, Current, or a date (the newest set started by then). */
function endpoint(sets: SetInfo[], keyring: Keyring, text: string, now: Date): SetInfo | null {
  const named = namedSet(sets, keyring, text);
  if (named) return named;
  const t = /^\d+$/.test(text) ? null : tryParseWholeDate(text, now);
  return t === null ? null : setAt(sets, t);
}

/**
 * The completed sets from START to END (by id, both included); either may be left out (the
 * first or the last set). One name alone is that set.
 */
export function setRange(sets: SetInfo[], keyring: Keyring, spec: string, now = new Date()): SetInfo[] {
  const completed = sets.filter((s) => s.completed);
  const whole = spec.includes('..') ? null : endpoint(sets, keyring, spec, now);
  let ends: [SetInfo | null, SetInfo | null] | null = whole ? [whole, whole] : null;
  for (const [a, b] of whole ? [] : splits(spec)) {
    const lo = a === '' ? null : endpoint(sets, keyring, a, now);
    const hi = b === '' ? null : endpoint(sets, keyring, b, now);
    if ((a === '' || lo) && (b === '' || hi)) {
      ends = [lo, hi];
      break;
    }
  }
  if (!ends) {
    const cut = splits(spec);
    if (cut.length === 0) throw new NotFoundError(`--range: no backup set named '${spec}' (by id, name, tag or date)`);
    if (cut.length === 1) {
      const bad = cut[0]!.find((x) => x !== '' && !endpoint(sets, keyring, x, now))!;
      throw new NotFoundError(`--range: no backup set named '${bad}' (by id, name, tag or date)`);
    }
    throw new NotFoundError(`--range '${spec}': no START:END where both name a set (by id, name, tag or date; "START..END" splits unambiguously)`);
  }
  const lo = ends[0]?.id ?? -Infinity;
  const hi = ends[1]?.id ?? Infinity;
  if (hi < lo) throw new UsageError(`--range '${spec}': the end (${ends[1]!.name}) is before the start (${ends[0]!.name})`);
  return completed.filter((s) => s.id >= lo && s.id <= hi);
}

/**
 * The completed sets started from START to END (dates, free text or ISO; both included). A date
 * alone is the start; either end may be left out.
 */
export function dateRange(sets: SetInfo[], spec: string, now = new Date()): { sets: SetInfo[]; start: number; end: number } {
  const date = (t: string) => (t === '' ? undefined : tryParseWholeDate(t, now));
  let ends: [number | undefined, number | undefined] | null = null;
  const alone = spec.includes('..') ? null : date(spec);
  if (alone != null) ends = [alone, undefined];
  for (const [a, b] of ends ? [] : splits(spec)) {
    const lo = date(a);
    const hi = date(b);
    if (lo !== null && hi !== null) {
      ends = [lo, hi];
      break;
    }
  }
  if (!ends) throw new UsageError(`--dates '${spec}': cannot understand it as START:END dates (e.g. "2026-03-01:2026-03-15 18:00", "last monday..yesterday")`);
  const start = ends[0] ?? -Infinity;
  const end = ends[1] ?? Infinity;
  if (end < start) throw new UsageError(`--dates '${spec}': the end is before the start`);
  return { sets: sets.filter((s) => s.completed && s.startTime >= start && s.startTime <= end), start, end };
}
