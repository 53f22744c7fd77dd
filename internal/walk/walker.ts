// Depth-first, parents-first walk of directory trees, yielding one sorted listing per directory.
//
// Race safety: each directory is opened with O_NOFOLLOW and checked (dev, ino) against the entry
// its parent listed, then read and its children lstat'ed through /proc/self/fd/N, so a directory
// swapped for a symlink mid-walk is reported instead of followed. Without /proc, plain paths are used.
//
// The calls are synchronous: with the metadata in the page cache an lstat takes a few
// microseconds, while a promise-based one costs tens of microseconds of main-thread time.

import { closeSync, constants as C, existsSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { NotFoundError, TardisError, UsageError } from '../errors/errors.ts';
import type { DirRules, Excluder } from '../exclude/exclude.ts';
import { entryFromStats, entryTypeOf, type FsEntry } from './entry.ts';
import { joinPath, printable } from './names.ts';

export interface Problem {
  /** 'skipped-socket' is a note; the others mean something could not be recorded. */
  kind: 'unreadable' | 'vanished' | 'skipped-socket' | 'other';
  path: Buffer;
  error?: Error;
}

export interface DirListing {
  /** Absolute path of the directory. */
  path: Buffer;
  /** 0 for a root, 1 for its subdirectories, ... */
  depth: number;
  /** Sorted by name bytes (Buffer.compare). */
  entries: FsEntry[];
}

export interface WalkOptions {
  /** 0 (default) = unlimited; N = list directories at depth < N (1 = only the roots' own entries). */
  maxDepth?: number;
  /** Descend into subdirectories on another device than their root (default false: list, don't enter). */
  crossDevice?: boolean;
  onProblem?: (p: Problem) => void;
  /** Leaves entries out (patterns, exclude files, skip files, CACHEDIR.TAG, permissions). */
  exclude?: Excluder;
  /** Each entry left out, and why, in walk order. */
  onExclude?: (path: Buffer, reason: string) => void;
}

const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd/' : null;

/** Metadata of a root itself (not followed if it is a symlink); name is the path as given. */
export async function statRoot(path: Buffer): Promise<FsEntry> {
  let st: BigIntStats;
  try {
    st = await fsp.lstat(path, { bigint: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new NotFoundError(`no such file or directory: ${printable(path)}`, { cause: err });
    throw new TardisError(`cannot stat ${printable(path)}: ${e.code ?? e.message}`, { cause: err });
  }
  if (entryTypeOf(Number(st.mode)) === null) throw new UsageError(`cannot back up a socket: ${printable(path)}`);
  const target = st.isSymbolicLink() ? await fsp.readlink(path, { encoding: 'buffer' }) : undefined;
  return entryFromStats(path, st, target);
}

interface Pending {
  path: Buffer;
  depth: number;
  /** What the parent listed; absent for a root. */
  expect?: { dev: bigint; ino: bigint };
  /** Device of the root this directory belongs to (learnt when a root is opened). */
  rootDev?: bigint;
  /** The exclude rules inherited from the parent directory. */
  rules?: DirRules;
}

interface ReadResult {
  /** null: the directory could not be listed (see problems) or a root is not a directory. */
  entries: FsEntry[] | null;
  dev: bigint;
  problems: Problem[];
  /** Entries left out by the excluder, in name order. */
  excluded: { path: Buffer; reason: string }[];
  /** Listed directories not to enter (a CACHEDIR.TAG). */
  noEnter: Set<FsEntry>;
  /** The exclude rules inside this directory, for its subdirectories. */
  rules?: DirRules;
}

function classify(err: unknown): Problem['kind'] {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'vanished';
  if (code === 'EACCES' || code === 'EPERM') return 'unreadable';
  return 'other';
}

function problem(kind: Problem['kind'], path: Buffer, err: unknown): Problem {
  return { kind, path, error: err instanceof Error ? err : new Error(String(err)) };
}

async function readDir(item: Pending, exclude: Excluder | undefined): Promise<ReadResult> {
  const problems: Problem[] = [];
  const excluded: ReadResult['excluded'] = [];
  const noEnter = new Set<FsEntry>();
  const none = (dev: bigint): ReadResult => ({ entries: null, dev, problems, excluded, noEnter });
  let fd: number | undefined;
  try {
    try {
      fd = openSync(item.path, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A root that is not a directory has no listing; the caller records it via statRoot.
      if (!item.expect && (code === 'ENOTDIR' || code === 'ELOOP')) return none(0n);
      // ENOTDIR/ELOOP for a subdirectory: it was replaced by something else since its parent was read.
      const kind = code === 'ENOTDIR' || code === 'ELOOP' ? 'vanished' : classify(err);
      problems.push(problem(kind, item.path, err));
      return none(0n);
    }
    const self = fstatSync(fd, { bigint: true });
    if (item.expect && (self.dev !== item.expect.dev || self.ino !== item.expect.ino)) {
      problems.push(problem('vanished', item.path, new Error('directory was replaced during the walk')));
      return none(self.dev);
    }
    const base = PROC_FD ? Buffer.from(PROC_FD + fd) : item.path;
    let names: Buffer[];
    try {
      names = readdirSync(base, { encoding: 'buffer' });
    } catch (err) {
      problems.push(problem(classify(err), item.path, err));
      return none(self.dev);
    }
    names.sort(Buffer.compare);
    let rules: DirRules | undefined;
    if (exclude) {
      const own = await exclude.dirRules(item.rules ?? exclude.rootRules(), item.path, names, base);
      rules = own.rules;
      for (const p of own.problems) problems.push({ kind: 'unreadable', path: Buffer.from(p.path), error: p.error });
    }
    const entries: FsEntry[] = [];
    for (const name of names) {
      const s = statChild(base, item.path, name);
      if ('kind' in s) {
        problems.push(s);
        continue;
      }
      const v = exclude ? await exclude.check(rules!, item.path, s, base) : null;
      if (v) excluded.push({ path: joinPath(item.path, s.name), reason: v.reason });
      if (v?.action === 'omit') continue;
      if (v?.action === 'empty') noEnter.add(s);
      entries.push(s);
    }
    return { entries, dev: self.dev, problems, excluded, noEnter, rules };
  } catch (err) {
    problems.push(problem('other', item.path, err));
    return none(0n);
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // nothing was written through it: a failed close loses nothing
      }
    }
  }
}

function statChild(base: Buffer, dir: Buffer, name: Buffer): FsEntry | Problem {
  const at = joinPath(base, name);
  try {
    const st = lstatSync(at, { bigint: true });
    if (st.isSocket()) return { kind: 'skipped-socket', path: joinPath(dir, name) };
    if (entryTypeOf(Number(st.mode)) === null) {
      return problem('other', joinPath(dir, name), new Error('unsupported file type'));
    }
    const target = st.isSymbolicLink() ? readlinkSync(at, { encoding: 'buffer' }) : undefined;
    return entryFromStats(name, st, target);
  } catch (err) {
    // EINVAL from readlink: no longer a symlink, i.e. replaced since lstat.
    const kind = (err as NodeJS.ErrnoException).code === 'EINVAL' ? 'vanished' : classify(err);
    return problem(kind, joinPath(dir, name), err);
  }
}

/**
 * Walks each root (absolute path) depth-first: a directory's listing comes before its
 * subdirectories' listings, subdirectories in name order. Symlinks are never followed; a root
 * that is not a directory yields nothing. Problems are reported in walk order and the walk goes on.
 */
export async function* walk(roots: Buffer[], opts: WalkOptions = {}): AsyncGenerator<DirListing> {
  const maxDepth = opts.maxDepth ?? 0;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new UsageError(`invalid maximum depth: ${maxDepth}`);
  for (const r of roots) {
    if (r.length === 0 || r[0] !== 0x2f) throw new UsageError(`not an absolute path: ${printable(r)}`);
  }
  const stack: Pending[] = roots.map((path) => ({ path, depth: 0 })).reverse();
  const listed = (depth: number) => maxDepth === 0 || depth < maxDepth;
  const exclude = opts.exclude && !opts.exclude.inactive ? opts.exclude : undefined;

  while (stack.length > 0) {
    const item = stack.pop()!;
    const res = await readDir(item, exclude);
    for (const p of res.problems) opts.onProblem?.(p);
    for (const x of res.excluded) opts.onExclude?.(x.path, x.reason);
    if (res.entries === null) continue;

    const rootDev = item.rootDev ?? res.dev;
    const depth = item.depth + 1;
    if (listed(depth)) {
      for (let i = res.entries.length - 1; i >= 0; i--) {
        const e = res.entries[i];
        if (e.type !== 'dir' || (!opts.crossDevice && e.dev !== rootDev) || res.noEnter.has(e)) continue;
        stack.push({ path: joinPath(item.path, e.name), depth, expect: { dev: e.dev, ino: e.ino }, rootDev, rules: res.rules });
      }
    }
    yield { path: item.path, depth: item.depth, entries: res.entries };
  }
}
