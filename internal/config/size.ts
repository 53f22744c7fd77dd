// Byte sizes: parse user input ("16MiB", "1.5G", "500kB") and format for people ("1.5 GiB").
import { UsageError } from '../errors/errors.ts';

// Bare letters and the IEC "iB" forms are binary (what a backup user means by "16M");
// the SI "B" forms (kB, MB, ...) are decimal, as their standard says.
const UNITS: Record<string, number> = { '': 1, b: 1 };
'kmgtpe'.split('').forEach((p, i) => {
  const n = i + 1;
  UNITS[p] = 1024 ** n;
  UNITS[`${p}ib`] = 1024 ** n;
  UNITS[`${p}b`] = 1000 ** n;
});

/** Parse a byte size such as `4096`, `16MiB`, `1.5G`, `500 kB`. Returns a whole number of bytes. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) throw new UsageError(`invalid size '${s}': expected a number with an optional unit such as 16MiB`);
  const mult = UNITS[m[2].toLowerCase()];
  if (mult === undefined) {
    throw new UsageError(`invalid size '${s}': unknown unit '${m[2]}' (use B, KiB, MiB, GiB, TiB, K, M, G, kB, MB, GB)`);
  }
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid size '${s}': too large`);
  return n;
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** `formatBytes(1610612736)` → "1.5 GiB"; below 1 KiB the exact count ("512 B"). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${Math.round(v)} B`;
  let i = 0;
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit.
  if (Number(v.toFixed(1)) >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return `${sign}${v.toFixed(1)} ${IEC[i]}`;
}
