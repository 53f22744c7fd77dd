// Applies recorded metadata to a restored entry: owner, then mode (chown clears setuid/setgid),
// then times with nanosecond precision. No step follows a final symlink.

import { constants as C, existsSync, fchmodSync, fchownSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { TardisError } from '../errors/errors.ts';
import type { EntryType } from '../walk/entry.ts';
import { groupId, userId } from '../walk/owners.ts';
import { printable } from '../walk/names.ts';
import { native, runWithPath } from './native.ts';

export interface MetaEntry {
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  user: string | null;
  group: string | null;
  mtimeNs: bigint;
  atimeNs: bigint;
}

export interface MetaOptions {
  perms: boolean;
  times: boolean;
  owners: boolean;
}

/** How times were set: in-process exactly, via a double that happens to be exact, or by `touch`. */
export type TimesMethod = 'ffi' | 'utimes' | 'touch';

const NS = 1_000_000_000n;
/** open(2) flag of Linux (x86-64, arm64): a handle to the inode only, no read/write access. */
const O_PATH = 0o10000000;
const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd/' : null;

/** The uid/gid to restore: the recorded name's local id when it exists, else the recorded number. */
export function ownerIds(e: Pick<MetaEntry, 'uid' | 'gid' | 'user' | 'group'>): { uid: number; gid: number } {
  return {
    uid: (e.user !== null ? userId(e.user) : null) ?? e.uid,
    gid: (e.group !== null ? groupId(e.group) : null) ?? e.gid,
  };
}

export async function applyMetadata(path: Buffer, e: MetaEntry, opts: MetaOptions): Promise<void> {
  return applyMetadataAt(path, path, e, opts);
}

/** As applyMetadata, on `path` (e.g. a /proc/PID/fd/N/name path), naming `shown` in errors. */
/** Runs one metadata step, naming `shown` and the step in its error. */
async function stepOf(shown: Buffer, what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TardisError(`cannot set ${what} of ${printable(shown)}: ${code}`, { cause: err });
  }
}

export async function applyMetadataAt(path: Buffer, shown: Buffer, e: MetaEntry, opts: MetaOptions): Promise<void> {
  const step = (what: string, fn: () => unknown) => stepOf(shown, what, fn);
  if (opts.owners) {
    const { uid, gid } = ownerIds(e);
    await step('owner', () => fsp.lchown(path, uid, gid)); // lchown never follows, also for non-symlinks
  }
  if (opts.perms && e.type !== 'symlink') await step('mode', () => chmodNoFollow(path, e.mode & 0o7777));
  if (opts.times) await step('times', () => setTimes(path, e.atimeNs, e.mtimeNs));
}

/**
 * As applyMetadataAt, on a regular file still open as `fd`: no path lookups, and the calls are
 * quick enough to make synchronously. False when the times are left for setTimes (no
 * in-process futimens: Node's own takes a double, not exact nanoseconds).
 */
export async function applyMetadataFd(fd: number, shown: Buffer, e: MetaEntry, opts: MetaOptions): Promise<boolean> {
  if (opts.owners) {
    const { uid, gid } = ownerIds(e);
    await stepOf(shown, 'owner', () => fchownSync(fd, uid, gid));
  }
  if (opts.perms) await stepOf(shown, 'mode', () => fchmodSync(fd, e.mode & 0o7777));
  if (!opts.times) return true;
  const n = native();
  if (!n) return false;
  await stepOf(shown, 'times', () => n.futimens(fd, e.atimeNs, e.mtimeNs));
  return true;
}

/** chmod that refuses a symlink in place of the expected entry (Linux has no lchmod). */
async function chmodNoFollow(path: Buffer, mode: number): Promise<void> {
  if (!PROC_FD) {
    if ((await fsp.lstat(path)).isSymbolicLink()) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    return fsp.chmod(path, mode);
  }
  // An O_PATH handle pins the inode without opening it (no side effects on fifos or devices);
  // chmod through /proc acts on exactly that inode.
  const fh = await fsp.open(path, O_PATH | C.O_NOFOLLOW);
  try {
    if ((await fh.stat()).isSymbolicLink()) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    await fsp.chmod(PROC_FD + fh.fd, mode);
  } finally {
    await fh.close();
  }
}

/** libuv's conversion of a seconds double to a timespec (uv__fs_to_timespec), in nanoseconds. */
function libuvNs(d: number): bigint {
  const sec = Math.trunc(d);
  return BigInt(sec) * NS + BigInt(Math.trunc((d - sec) * 1e9));
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
function nextDouble(d: number, dir: 1 | -1): number {
  f64[0] = d;
  i64[0] += BigInt(dir); // positive doubles: adjacent bit patterns are adjacent values
  return f64[0];
}

/**
 * A seconds value that fs.utimes turns into exactly `ns`, or null. Node maps negative times to
 * "now", and past 2^23 s (April 1970) doubles are over 1 ns apart: only ~1 in 100-250 of today's times has one.
 */
export function exactSeconds(ns: bigint): number | null {
  if (ns < 0n) return null;
  const guess = Number(ns / NS) + Number(ns % NS) / 1e9;
  let lo = guess;
  let hi = guess;
  for (let k = 0; k < 4; k++) {
    if (libuvNs(lo) === ns) return lo;
    if (libuvNs(hi) === ns) return hi;
    lo = lo > 0 ? nextDouble(lo, -1) : lo;
    hi = nextDouble(hi, 1);
  }
  return null;
}

/** `@SECONDS.NANOSECONDS` as GNU touch -d reads it, exact also before 1970. */
export function touchDate(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  return `@${ns < 0n ? '-' : ''}${abs / NS}.${(abs % NS).toString().padStart(9, '0')}`;
}

/**
 * Sets atime and mtime to the nanosecond without following a final symlink. In-process via
 * utimensat when node:ffi is available; otherwise fs.lutimes for times a double carries
 * exactly, and `touch -h` for the rest.
 */
export async function setTimes(path: Buffer, atimeNs: bigint, mtimeNs: bigint): Promise<TimesMethod> {
  const n = native();
  if (n) {
    n.utimens(path, atimeNs, mtimeNs);
    return 'ffi';
  }
  const a = exactSeconds(atimeNs);
  const m = exactSeconds(mtimeNs);
  if (a !== null && m !== null) {
    await fsp.lutimes(path, a, m);
    return 'utimes';
  }
  if (a === null && m === null && atimeNs === mtimeNs) {
    await runWithPath(['touch', '-h', '-d', touchDate(mtimeNs), '--'], path);
    return 'touch';
  }
  if (a !== null || m !== null) await fsp.lutimes(path, a ?? 0, m ?? 0); // the other is fixed below
  if (a === null) await runWithPath(['touch', '-h', '-a', '-d', touchDate(atimeNs), '--'], path);
  if (m === null) await runWithPath(['touch', '-h', '-m', '-d', touchDate(mtimeNs), '--'], path);
  return 'touch';
}
