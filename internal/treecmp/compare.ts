// Compares two trees byte for byte and by metadata (type, mode, owner, mtime to the
// nanosecond, symlink targets, hard-link groups). Used by `make run`, tests and benchmarks.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';

export interface CompareOptions {
  /** Compare directory mtimes too (false when the comparison itself may touch them). */
  dirTimes?: boolean;
  owners?: boolean;
  /** Names (relative paths) to ignore. */
  ignore?: (rel: string) => boolean;
}

function join(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, Buffer.from('/'), b]);
}

// Small files are read whole: a stream per file allocates a full highWaterMark buffer per read,
// and on trees of many small files that garbage, not the reading, was most of the time.
const WHOLE_FILE = 1 << 20;

async function sameContent(a: Buffer, b: Buffer, size: bigint): Promise<boolean> {
  if (size <= BigInt(WHOLE_FILE)) {
    const [x, y] = await Promise.all([readFile(a), readFile(b)]);
    return x.equals(y);
  }
  const ra = createReadStream(a, { highWaterMark: 1 << 20 });
  const rb = createReadStream(b, { highWaterMark: 1 << 20 });
  const ia = ra[Symbol.asyncIterator]();
  const ib = rb[Symbol.asyncIterator]();
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  let doneA = false;
  let doneB = false;
  try {
    for (;;) {
      if (bufA.length === 0 && !doneA) {
        const r = await ia.next();
        if (r.done) doneA = true;
        else bufA = r.value as Buffer;
      }
      if (bufB.length === 0 && !doneB) {
        const r = await ib.next();
        if (r.done) doneB = true;
        else bufB = r.value as Buffer;
      }
      if (bufA.length === 0 && bufB.length === 0) return doneA && doneB;
      if (bufA.length === 0 || bufB.length === 0) return false;
      const n = Math.min(bufA.length, bufB.length);
      if (!bufA.subarray(0, n).equals(bufB.subarray(0, n))) return false;
      bufA = bufA.subarray(n);
      bufB = bufB.subarray(n);
    }
  } finally {
    ra.destroy();
    rb.destroy();
  }
}

/** Differences between tree `a` and tree `b`, one line each; empty when they match. */
export async function compareTrees(a: string | Buffer, b: string | Buffer, opts: CompareOptions = {}): Promise<string[]> {
  const diffs: string[] = [];
  const linksA = new Map<string, string>();
  const linksB = new Map<string, string>();
  const walk = async (pa: Buffer, pb: Buffer, rel: string): Promise<void> => {
    let sa: BigIntStats;
    let sb: BigIntStats;
    try {
      [sa, sb] = await Promise.all([lstat(pa, { bigint: true }), lstat(pb, { bigint: true })]);
    } catch (err) {
      diffs.push(`${rel}: ${(err as Error).message}`);
      return;
    }
    const what = (s: BigIntStats) => (s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : s.isFIFO() ? 'fifo' : 'other');
    if (what(sa) !== what(sb)) {
      diffs.push(`${rel}: type ${what(sa)} != ${what(sb)}`);
      return;
    }
    if (!sa.isSymbolicLink() && (sa.mode & 0o7777n) !== (sb.mode & 0o7777n)) diffs.push(`${rel}: mode ${(sa.mode & 0o7777n).toString(8)} != ${(sb.mode & 0o7777n).toString(8)}`);
    if (opts.owners !== false && (sa.uid !== sb.uid || sa.gid !== sb.gid)) diffs.push(`${rel}: owner ${sa.uid}:${sa.gid} != ${sb.uid}:${sb.gid}`);
    const times = !sa.isDirectory() || opts.dirTimes !== false;
    if (times && sa.mtimeNs !== sb.mtimeNs) diffs.push(`${rel}: mtime ${sa.mtimeNs} != ${sb.mtimeNs}`);
    if (sa.isFile()) {
      if (sa.size !== sb.size) diffs.push(`${rel}: size ${sa.size} != ${sb.size}`);
      else if (!(await sameContent(pa, pb, sa.size))) diffs.push(`${rel}: content differs`);
      if (sa.nlink > 1n) {
        const ka = `${sa.dev}:${sa.ino}`;
        const kb = `${sb.dev}:${sb.ino}`;
        const firstA = linksA.get(ka);
        const firstB = linksB.get(kb);
        if (firstA === undefined) linksA.set(ka, rel);
        if (firstB === undefined) linksB.set(kb, rel);
        if ((firstA ?? rel) !== (firstB ?? rel)) diffs.push(`${rel}: hard link to ${firstA ?? '(none)'} != ${firstB ?? '(none)'}`);
      }
    } else if (sa.isSymbolicLink()) {
      const [ta, tb] = await Promise.all([readlink(pa, { encoding: 'buffer' }), readlink(pb, { encoding: 'buffer' })]);
      if (!ta.equals(tb)) diffs.push(`${rel}: link target differs`);
    } else if (sa.isDirectory()) {
      const [la, lb] = await Promise.all([readdir(pa, { encoding: 'buffer' }), readdir(pb, { encoding: 'buffer' })]);
      const names = new Map<string, Buffer>();
      for (const n of [...la, ...lb]) names.set(n.toString('latin1'), n);
      const inA = new Set(la.map((n) => n.toString('latin1')));
      const inB = new Set(lb.map((n) => n.toString('latin1')));
      for (const [k, n] of [...names].sort()) {
        const r = rel ? `${rel}/${n.toString()}` : n.toString();
        if (opts.ignore?.(r)) continue;
        if (!inA.has(k)) diffs.push(`${r}: only in the restore`);
        else if (!inB.has(k)) diffs.push(`${r}: missing from the restore`);
        else await walk(join(pa, n), join(pb, n), r);
      }
    }
  };
  await walk(Buffer.from(a), Buffer.from(b), '');
  return diffs;
}
