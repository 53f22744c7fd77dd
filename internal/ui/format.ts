// Formatting for terminal output: times, terminal-safe text, display widths.
export { formatBytes } from '../config/size.ts';
export { formatDuration } from '../config/duration.ts';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return 'invalid date';
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Make text safe for one terminal line: control characters (file names may hold newlines or
 * escape sequences) become visible escapes such as `\n` and `\x1b`.
 */
export function escapeControl(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

// East Asian wide and fullwidth blocks, and the emoji blocks: two terminal cells.
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60],
  [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];
const ZERO = /^[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]$/u;

/** Terminal cells taken by one code point. */
function cellWidth(ch: string): number {
  if (ZERO.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  return WIDE.some(([a, b]) => cp >= a && cp <= b) ? 2 : 1;
}

/** Terminal cells taken by `s` (approximate: wide CJK/emoji count 2, combining marks 0). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += cellWidth(ch);
  return w;
}

/** Cut `s` to at most `width` cells, marking the cut with '…'. */
export function truncateEnd(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = cellWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** Cut `s` to at most `width` cells by replacing its middle with '…' (keeps both ends of a path). */
export function truncateMiddle(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 1) return width === 1 ? '…' : '';
  const chars = Array.from(s);
  const budget = width - 1;
  const headBudget = Math.floor(budget / 2);
  let head = '';
  let w = 0;
  let i = 0;
  for (; i < chars.length && w + cellWidth(chars[i]) <= headBudget; i++) {
    head += chars[i];
    w += cellWidth(chars[i]);
  }
  let tail = '';
  for (let j = chars.length - 1; j >= i && w + cellWidth(chars[j]) <= budget; j--) {
    tail = chars[j] + tail;
    w += cellWidth(chars[j]);
  }
  return `${head}…${tail}`;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', chardev: 'c', blockdev: 'b', socket: 's' };

/** `ls -l`'s mode column: the type letter, then rwx triplets with setuid/setgid/sticky (s, S, t, T). */
export function formatMode(type: string, mode: number): string {
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const special = (x: boolean, s: boolean, set: string) => (s ? (x ? set : set.toUpperCase()) : x ? 'x' : '-');
  return (TYPE_CHAR[type] ?? '?') +
    bit(0o400, 'r') + bit(0o200, 'w') + special(!!(mode & 0o100), !!(mode & 0o4000), 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(!!(mode & 0o010), !!(mode & 0o2000), 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(!!(mode & 0o001), !!(mode & 0o1000), 't');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A modification time as `ls -l` and Tardis show it: `Nov 20 14:03` within a year of `now`, else `Nov 20, 2024`. */
export function formatLsTime(date: Date | number, now: Date | number = Date.now()): string {
  const d = typeof date === 'number' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return 'invalid date';
  const age = Number(now) - d.getTime();
  const day = `${MONTHS[d.getMonth()]} ${pad2(d.getDate())}`;
  return Math.abs(age) < 365 * 86_400_000 ? `${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}` : `${day}, ${d.getFullYear()}`;
}
