// A restore is correct when it matches the source tree: content byte for byte and metadata
// (type, mode, owner, mtime to the nanosecond, symlink targets, hard links), via internal/treecmp.
import { compareTrees } from '../../internal/treecmp/compare.ts';

export interface Verification {
  ok: boolean;
  differences: number;
  /** The first few differences, for the report. */
  sample: string[];
  seconds: number;
}

export async function verifyRestore(source: string, restored: string): Promise<Verification> {
  const t0 = performance.now();
  const diffs = await compareTrees(source, restored, { dirTimes: true, owners: true });
  return { ok: diffs.length === 0, differences: diffs.length, sample: diffs.slice(0, 5), seconds: (performance.now() - t0) / 1000 };
}
