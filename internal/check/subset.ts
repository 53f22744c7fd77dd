// Which packs `sonic check --read-data-subset` reads back: `N/M` splits the packs into M fixed
// groups by name (run 1/M … M/M on successive days and every pack is read once), `N%` reads
// about that share of them, picked at random each time.
import { UsageError } from '../errors/errors.ts';

export type Subset = { kind: 'all' } | { kind: 'part'; n: number; of: number } | { kind: 'share'; percent: number };

export function parseSubset(text: string): Subset {
  const part = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (part) {
    const n = Number(part[1]);
    const of = Number(part[2]);
    if (of < 1 || n < 1 || n > of) throw new UsageError(`--read-data-subset ${text}: N/M needs 1 <= N <= M`);
    return { kind: 'part', n, of };
  }
  const share = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (share) {
    const percent = Number(share[1]);
    if (percent <= 0 || percent > 100) throw new UsageError(`--read-data-subset ${text}: the share must be above 0% and at most 100%`);
    return { kind: 'share', percent };
  }
  throw new UsageError(`--read-data-subset takes N/M (group N of M) or N% (a share), not '${text}'`);
}

/** The group (1..of) a pack belongs to: its random name makes the groups about even. */
export function packGroup(name: string, of: number): number {
  return (parseInt(name.slice(0, 8), 16) % of) + 1;
}

export function choosePacks<T extends { name: string }>(packs: T[], subset: Subset, random: () => number = Math.random): T[] {
  switch (subset.kind) {
    case 'all':
      return packs;
    case 'part':
      return packs.filter((p) => packGroup(p.name, subset.of) === subset.n);
    case 'share': {
      const want = Math.min(packs.length, Math.max(packs.length ? 1 : 0, Math.round((packs.length * subset.percent) / 100)));
      const pool = [...packs];
      // A partial Fisher-Yates shuffle: the first `want` places are a uniform sample.
      for (let i = 0; i < want; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, want);
    }
  }
}
