// Line diffs of two texts in the three styles Tardis' tardiff prints (Python difflib's): unified,
// context and ndiff. The differences are jsdiff's; this file only lays them out.
import { diffArrays, diffChars, structuredPatch, type StructuredPatchHunk } from 'diff';
import { utf8SeqLen } from '../walk/index.ts';

export type DiffFormat = 'unified' | 'context' | 'ndiff';

export interface DiffLabel {
  /** The file's name in the headers. */
  name: string;
  /** What follows the name after a tab: which version this is. */
  header: string;
}

/** How far into a file binary detection looks (as git and GNU diff: a NUL byte there). */
export const BINARY_PROBE = 8000;

/** True when `head` (the start of a file) holds a NUL byte: not text. */
export function isBinary(head: Buffer): boolean {
  return head.subarray(0, BINARY_PROBE).includes(0);
}

/** Bytes as text: UTF-8, each byte that is not part of a valid sequence shown as `\xNN` (Python's backslashreplace). */
export function decodeText(b: Buffer): string {
  const s = b.toString('utf8');
  if (!s.includes('\ufffd') || Buffer.from(s, 'utf8').equals(b)) return s;
  let out = '';
  let start = 0;
  let i = 0;
  while (i < b.length) {
    if (b[i]! < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += b.toString('utf8', start, i) + `\\x${b[i]!.toString(16).padStart(2, '0')}`;
    i++;
    start = i;
  }
  return out + b.toString('utf8', start);
}

/**
 * The lines of `a` → `b` in `format` with `context` lines around changes (ndiff shows every line),
 * after a `---`/`+++` header naming both; [] when equal.
 */
export function renderDiff(a: string, b: string, format: DiffFormat, context: number, labels: { a: DiffLabel; b: DiffLabel }): string[] {
  if (a === b) return [];
  // ndiff has no header of its own; a directory's diffs need one to say which file each is.
  if (format === 'ndiff') return [`--- ${labels.a.name}\t${labels.a.header}`, `+++ ${labels.b.name}\t${labels.b.header}`, ...ndiff(splitLines(a), splitLines(b))];
  const patch = structuredPatch(labels.a.name, labels.b.name, a, b, labels.a.header, labels.b.header, { context });
  return format === 'unified' ? unified(patch.hunks, labels) : contextDiff(patch.hunks, labels);
}

function splitLines(s: string): string[] {
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** difflib's and GNU diff's range of a unified hunk: "START,COUNT", ",1" left out, an empty range starting one line early. */
function unifiedRange(start: number, count: number): string {
  if (count === 1) return String(start);
  return `${count === 0 ? start - 1 : start},${count}`;
}

function unified(hunks: StructuredPatchHunk[], labels: { a: DiffLabel; b: DiffLabel }): string[] {
  const out = [`--- ${labels.a.name}\t${labels.a.header}`, `+++ ${labels.b.name}\t${labels.b.header}`];
  for (const h of hunks) {
    out.push(`@@ -${unifiedRange(h.oldStart, h.oldLines)} +${unifiedRange(h.newStart, h.newLines)} @@`);
    out.push(...h.lines);
  }
  return out;
}

/** A context hunk's range: "FIRST,LAST", or one number for one line or none. */
function contextRange(start: number, count: number): string {
  const first = count === 0 ? start - 1 : start;
  return count <= 1 ? String(first) : `${first},${first + count - 1}`;
}

/**
 * The context format: each hunk's old lines, then its new lines; a run of removals next to
 * additions is a change ("! " on both sides), lone removals "- ", lone additions "+ ".
 */
function contextDiff(hunks: StructuredPatchHunk[], labels: { a: DiffLabel; b: DiffLabel }): string[] {
  const out = [`*** ${labels.a.name}\t${labels.a.header}`, `--- ${labels.b.name}\t${labels.b.header}`];
  for (const h of hunks) {
    // Mark each line with the kind of the run of changes it belongs to.
    const tags: string[] = new Array(h.lines.length).fill('  ');
    for (let i = 0; i < h.lines.length;) {
      if (h.lines[i]![0] === ' ') {
        i++;
        continue;
      }
      let j = i;
      while (j < h.lines.length && h.lines[j]![0] !== ' ') j++;
      const run = h.lines.slice(i, j);
      const both = run.some((l) => l[0] === '-') && run.some((l) => l[0] === '+');
      for (let k = i; k < j; k++) tags[k] = both ? '! ' : `${h.lines[k]![0]} `;
      i = j;
    }
    // "\ No newline at end of file" belongs to the line before it, on that line's side.
    const side = (i: number): string => {
      let k = i;
      while (k > 0 && h.lines[k]![0] === '\\') k--;
      return h.lines[k]![0]!;
    };
    const lines = (keep: string) => h.lines.flatMap((l, i) => {
      const s = side(i);
      if (s !== ' ' && s !== keep) return [];
      return l[0] === '\\' ? [l] : [tags[i] + l.slice(1)];
    });
    out.push('***************');
    out.push(`*** ${contextRange(h.oldStart, h.oldLines)} ****`);
    if (h.lines.some((l) => l[0] === '-')) out.push(...lines('-'));
    out.push(`--- ${contextRange(h.newStart, h.newLines)} ----`);
    if (h.lines.some((l) => l[0] === '+')) out.push(...lines('+'));
  }
  return out;
}

// ndiff: every line, "- " / "+ " / "  ", and for a changed line that is similar to its old
// version, "? " guide lines marking the characters that differ (^ changed, - removed, + added).

/** How similar two lines must be to be shown as one changed line (difflib's cutoff). */
const CUTOFF = 0.75;
/** Above this many line pairs in one replaced block, lines are not paired (the search is quadratic). */
const MAX_PAIRS = 10_000;

function ratio(a: string, b: string): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  let same = 0;
  for (const c of diffChars(a, b)) if (!c.added && !c.removed) same += c.value.length;
  return (2 * same) / total;
}

function ndiff(a: string[], b: string[]): string[] {
  const out: string[] = [];
  const changes = diffArrays(a, b);
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    if (!c.added && !c.removed) {
      for (const l of c.value) out.push(`  ${l}`);
      continue;
    }
    // A removal followed by an addition (or the reverse) is one replaced block.
    const next = changes[i + 1];
    let removed: string[] = [];
    let added: string[] = [];
    if (next && (next.added || next.removed) && next.added !== c.added) {
      removed = c.removed ? c.value : next.value;
      added = c.added ? c.value : next.value;
      i++;
    } else if (c.removed) removed = c.value;
    else added = c.value;
    fancyReplace(removed, 0, removed.length, added, 0, added.length, out);
  }
  return out;
}

function dump(tag: string, lines: string[], lo: number, hi: number, out: string[]): void {
  for (let i = lo; i < hi; i++) out.push(`${tag} ${lines[i]}`);
}

/** difflib's _fancy_replace: pair the most similar lines, recurse on what is before and after. */
function fancyReplace(a: string[], alo: number, ahi: number, b: string[], blo: number, bhi: number, out: string[]): void {
  if (alo >= ahi) return dump('+', b, blo, bhi, out);
  if (blo >= bhi) return dump('-', a, alo, ahi, out);
  let best = CUTOFF - 0.01;
  let bi = -1;
  let bj = -1;
  let eqi = -1;
  let eqj = -1;
  if ((ahi - alo) * (bhi - blo) <= MAX_PAIRS) {
    for (let j = blo; j < bhi; j++) {
      for (let i = alo; i < ahi; i++) {
        if (a[i] === b[j]) {
          if (eqi < 0) [eqi, eqj] = [i, j];
          continue;
        }
        // The best ratio two lengths allow, before computing the real one.
        const la = a[i]!.length;
        const lb = b[j]!.length;
        if ((2 * Math.min(la, lb)) / (la + lb || 1) <= best) continue;
        const r = ratio(a[i]!, b[j]!);
        if (r > best) [best, bi, bj] = [r, i, j];
      }
    }
  }
  let identical = false;
  if (best < CUTOFF) {
    if (eqi < 0) {
      // Nothing alike: the shorter side first, as difflib.
      if (bhi - blo < ahi - alo) {
        dump('+', b, blo, bhi, out);
        dump('-', a, alo, ahi, out);
      } else {
        dump('-', a, alo, ahi, out);
        dump('+', b, blo, bhi, out);
      }
      return;
    }
    [bi, bj, identical] = [eqi, eqj, true];
  }
  fancyReplace(a, alo, bi, b, blo, bj, out);
  if (identical) out.push(`  ${a[bi]}`);
  else guided(a[bi]!, b[bj]!, out);
  fancyReplace(a, bi + 1, ahi, b, bj + 1, bhi, out);
}

/** "- old", "? marks", "+ new", "? marks" for two similar lines. */
function guided(a: string, b: string, out: string[]): void {
  let atags = '';
  let btags = '';
  const parts = diffChars(a, b);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const next = parts[i + 1];
    if ((p.removed && next?.added) || (p.added && next?.removed)) {
      const [r, ad] = p.removed ? [p, next] : [next, p];
      atags += '^'.repeat(r.value.length);
      btags += '^'.repeat(ad.value.length);
      i++;
    } else if (p.removed) atags += '-'.repeat(p.value.length);
    else if (p.added) btags += '+'.repeat(p.value.length);
    else {
      atags += ' '.repeat(p.value.length);
      btags += ' '.repeat(p.value.length);
    }
  }
  // Keep the line's own tabs in the guide, so the marks stay under their characters.
  const keepWs = (line: string, tags: string) => [...tags].map((t, i) => (t === ' ' && (line[i] === '\t' || line[i] === ' ') ? line[i] : t)).join('').trimEnd();
  out.push(`- ${a}`);
  const ga = keepWs(a, atags);
  if (ga) out.push(`? ${ga}`);
  out.push(`+ ${b}`);
  const gb = keepWs(b, btags);
  if (gb) out.push(`? ${gb}`);
}
