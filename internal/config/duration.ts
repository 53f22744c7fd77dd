// Durations: parse user input ("90s", "1h30m", "2w") and format elapsed times ("4m05s").
import { UsageError } from '../errors/errors.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Parse `30`, `30s`, `5m`, `1h30m`, `7d`, `2w`, `250ms` into milliseconds; a bare number is seconds. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;
  let ms = 0;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) break;
    ms += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
    while (t[pos] === ' ') pos++;
  }
  if (t === '' || pos !== t.length) {
    throw new UsageError(`invalid duration '${s}': expected e.g. 90s, 15m, 1h30m, 7d or 2w`);
  }
  return Math.round(ms);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "850ms", "12.3s", "4m05s", "2h03m05s", "3d04h05m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d${pad2(h)}h${pad2(m)}m`;
  if (h > 0) return `${h}h${pad2(m)}m${pad2(s)}s`;
  return `${m}m${pad2(s)}s`;
}
