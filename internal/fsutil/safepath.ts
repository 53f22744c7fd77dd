// Every restore write goes through a SafeRoot, which never writes outside its root: names
// are single components (no '', '.', '..', '/', NUL) and symlinks already in the target tree
// are never followed. Directories are opened one component at a time with O_NOFOLLOW and
// addressed through /proc/PID/fd/N (an openat() substitute, also usable by child processes),
// so a directory swapped for a symlink mid-restore is refused too. Without /proc, each
// component is lstat-checked instead (same rules, but racy against concurrent changes).

import { close as closeFd, constants as C, existsSync, open as openFd, type BigIntStats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { TardisError, UsageError } from '../errors/errors.ts';
import { joinPath, printable } from '../walk/names.ts';
import { applyMetadataAt, type MetaEntry, type MetaOptions } from './meta.ts';
import { native, runWithPath } from './native.ts';

/** Open directory handles kept for reuse (restores write many files per directory). */
const CACHE_MAX = 64;
const O_DIR = C.O_RDONLY | C.O_DIRECTORY;

interface CachedDir {
  /** A raw descriptor: unlike a FileHandle it is not closed behind our back on garbage collection. */
  fd: Promise<number>;
  refs: number;
  /** Dropped from the cache (removed or evicted); closed when the last user releases it. */
  dropped: boolean;
}

interface Located {
  /** Path to use for the operation (through /proc when available). */
  at: Buffer;
  release: () => void;
}

type Errno = NodeJS.ErrnoException & { where?: Buffer };

function errno(code: string, where: Buffer): Errno {
  return Object.assign(new Error(code), { code, where });
}

/** Checks one name component; returns a reason when it is not safe. */
function badComponent(c: Buffer): string | null {
  if (c.length === 0) return 'empty name';
  if (c.equals(Buffer.from('.')) || c.equals(Buffer.from('..'))) return `"${c}" is not a name`;
  if (c.includes(0x2f)) return 'name contains "/"';
  if (c.includes(0)) return 'name contains NUL';
  return null;
}

const key = (components: Buffer[]) => components.map((c) => c.toString('latin1')).join('/');

/** open(2) on the thread pool, returning the raw descriptor. */
function openRaw(path: Buffer, flags: number, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => openFd(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function release(d: CachedDir): void {
  void d.fd.then((fd) => closeFd(fd, () => {}), () => {});
}

/** Closes the cached descriptors of a SafeRoot its user forgot to close(). */
const finalizer = new FinalizationRegistry((dirs: Map<string, CachedDir>) => {
  for (const d of dirs.values()) release(d);
});

export class SafeRoot {
  readonly root: Buffer;
  private readonly proc: string | null;
  private readonly dirs = new Map<string, CachedDir>();

  constructor(root: string | Buffer) {
    this.root = typeof root === 'string' ? Buffer.from(root) : root;
    if (this.root.length === 0) throw new UsageError('empty restore target path');
    const proc = `/proc/${process.pid}/fd/`;
    this.proc = existsSync(proc) ? proc : null;
    finalizer.register(this, this.dirs, this);
  }

  /** The real path of `components` under the root, after rejecting unsafe components. */
  resolve(components: Buffer[]): Buffer {
    let p = this.root;
    for (const c of components) {
      const why = badComponent(c);
      if (why) throw new TardisError(`unsafe path component "${printable(c)}" (${why}) under ${printable(p)}`);
      p = joinPath(p, c);
    }
    return p;
  }

  /** lstat of the entry, or null if it (or a parent) does not exist. A symlinked parent is an error. */
  async existing(components: Buffer[]): Promise<BigIntStats | null> {
    try {
      return await this.with(components, (at) => fsp.lstat(at, { bigint: true }));
    } catch (err) {
      if (((err as TardisError).cause as Errno | undefined)?.code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Deletes the entry (a directory with its contents; symlinks inside are removed, not followed). */
  async remove(components: Buffer[]): Promise<void> {
    if (components.length === 0) throw new UsageError('refusing to remove the restore target itself');
    await this.with(components, async (at) => {
      let st;
      try {
        st = await fsp.lstat(at);
      } catch (err) {
        if ((err as Errno).code === 'ENOENT') return;
        throw err;
      }
      this.drop(components);
      if (st.isDirectory()) await fsp.rm(at, { recursive: true });
      else await fsp.unlink(at);
    });
  }

  /**
   * Creates a new file (O_EXCL | O_NOFOLLOW: an existing entry is an error, see existing/remove)
   * and returns its descriptor, which the caller closes. The open runs on the thread pool: on
   * some filesystems creating a file takes a millisecond, and several can be under way at once.
   */
  async openForWrite(components: Buffer[], mode = 0o600): Promise<number> {
    return this.with(components, (at) => openRaw(at, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode));
  }

  /** Creates a directory; false if a real directory (not a symlink to one) is already there. */
  async mkdir(components: Buffer[], mode = 0o700): Promise<boolean> {
    if (components.length === 0) {
      // The root itself is trusted, symlinks included.
      return (await fsp.mkdir(this.root, { recursive: true, mode })) !== undefined;
    }
    return this.with(components, async (at) => {
      try {
        await fsp.mkdir(at, mode);
        return true;
      } catch (err) {
        if ((err as Errno).code === 'EEXIST' && (await fsp.lstat(at)).isDirectory()) return false;
        throw err;
      }
    });
  }

  async symlink(components: Buffer[], target: Buffer): Promise<void> {
    await this.with(components, (at) => fsp.symlink(target, at));
  }

  /** Hard link: `components` becomes another name of `existing` (itself not followed if a symlink). */
  async link(existing: Buffer[], components: Buffer[]): Promise<void> {
    await this.with(existing, (from) => this.with(components, (at) => fsp.link(from, at)));
  }

  /** rename(2) within the root: neither name is followed; an existing non-directory `to` is replaced. */
  async rename(from: Buffer[], to: Buffer[]): Promise<void> {
    if (from.length === 0 || to.length === 0) throw new UsageError('refusing to rename the restore target itself');
    await this.with(from, (src) =>
      this.with(to, async (dst) => {
        this.drop(from);
        this.drop(to);
        await fsp.rename(src, dst);
      }),
    );
  }

  async mkfifo(components: Buffer[], mode = 0o600): Promise<void> {
    await this.with(components, async (at) => {
      const n = native()?.mknod;
      if (n) n(at, C.S_IFIFO | (mode & 0o7777), 0n);
      else await runWithPath(['mkfifo', '-m', (mode & 0o7777).toString(8), '--'], at);
    });
  }

  /** A device node; rdev is the raw Linux dev_t as recorded by the walk. */
  async mknod(components: Buffer[], type: 'chardev' | 'blockdev', mode: number, rdev: number): Promise<void> {
    await this.with(components, async (at) => {
      const n = native()?.mknod;
      if (n) return n(at, (type === 'chardev' ? C.S_IFCHR : C.S_IFBLK) | (mode & 0o7777), BigInt(rdev));
      const dev = BigInt(rdev);
      const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
      const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
      const kind = type === 'chardev' ? 'c' : 'b';
      await runWithPath(['mknod', '-m', (mode & 0o7777).toString(8), '{}', kind, `${major}`, `${minor}`], at);
    });
  }

  /** applyMetadata on the entry, reached without following symlinks. */
  async applyMetadata(components: Buffer[], e: MetaEntry, opts: MetaOptions): Promise<void> {
    const shown = this.resolve(components);
    const l = await this.locate(components).catch((err) => {
      throw this.failure(components, err);
    });
    try {
      await applyMetadataAt(l.at, shown, e, opts);
    } finally {
      l.release();
    }
  }

  /** Closes cached directory handles (they are reopened if the SafeRoot is used again). */
  close(): void {
    for (const k of [...this.dirs.keys()]) this.dropKey(k);
  }

  /** Runs fn on the located entry, turning failures into one-line TardisErrors. */
  private async with<T>(components: Buffer[], fn: (at: Buffer) => Promise<T> | T): Promise<T> {
    let l: Located | undefined;
    try {
      l = await this.locate(components);
      return await fn(l.at);
    } catch (err) {
      throw this.failure(components, err);
    } finally {
      l?.release();
    }
  }

  private failure(components: Buffer[], err: unknown): Error {
    if (err instanceof TardisError) return err;
    const e = err as Errno;
    const where = e.where ? ` at ${printable(e.where)}` : '';
    const why =
      e.code === 'ELOOP' ? `a symlink is in the way${where} (not followed)`
      : e.code === 'ENOTDIR' ? `not a directory${where}`
      : e.code === 'ENOENT' ? `no such file or directory${where}`
      : e.code === 'EEXIST' ? 'already exists'
      : (e.code ?? e.message);
    return new TardisError(`cannot write ${printable(this.resolve(components))}: ${why}`, { cause: err });
  }

  /** Where to address the entry: its parent directory reached safely, plus its name. */
  private async locate(components: Buffer[]): Promise<Located> {
    this.resolve(components); // validate every component before touching anything
    if (components.length === 0) return { at: this.root, release: () => {} };
    const parent = await this.dir(components.slice(0, -1));
    return { at: joinPath(parent.at, components[components.length - 1]), release: parent.release };
  }

  /** A directory under the root, opened component by component without following symlinks. */
  private async dir(components: Buffer[]): Promise<Located> {
    if (!this.proc) {
      // No /proc: check each component, then use the plain path.
      for (let i = 1; i <= components.length; i++) {
        const p = this.resolve(components.slice(0, i));
        const st = await fsp.lstat(p).catch((err: Errno) => {
          throw Object.assign(err, { where: p });
        });
        if (st.isSymbolicLink()) throw errno('ELOOP', p);
        if (!st.isDirectory()) throw errno('ENOTDIR', p);
      }
      return { at: this.resolve(components), release: () => {} };
    }
    const k = key(components);
    let d = this.dirs.get(k);
    if (d) {
      this.dirs.delete(k); // re-insert: the Map's order is the LRU order
      this.dirs.set(k, d);
    } else {
      d = { fd: this.openDir(components), refs: 0, dropped: false };
      this.dirs.set(k, d);
    }
    const entry = d;
    entry.refs++;
    let fd: number;
    try {
      fd = await entry.fd;
    } catch (err) {
      entry.refs--;
      if (this.dirs.get(k) === entry) this.dirs.delete(k); // do not cache failures
      throw err;
    }
    this.evict();
    let released = false;
    return {
      at: Buffer.from(this.proc + fd),
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs === 0 && entry.dropped) release(entry);
      },
    };
  }

  private async openDir(components: Buffer[]): Promise<number> {
    if (components.length === 0) {
      return openRaw(this.root, O_DIR).catch((err: Errno) => {
        throw Object.assign(err, { where: this.root });
      });
    }
    const parent = await this.dir(components.slice(0, -1));
    const at = joinPath(parent.at, components[components.length - 1]);
    try {
      return await openRaw(at, O_DIR | C.O_NOFOLLOW);
    } catch (err) {
      const e = err as Errno;
      // O_DIRECTORY wins over O_NOFOLLOW: a symlink fails as ENOTDIR; say what is really there.
      if (e.code === 'ENOTDIR' && (await fsp.lstat(at).catch(() => null))?.isSymbolicLink()) e.code = 'ELOOP';
      throw Object.assign(e, { where: this.resolve(components) });
    } finally {
      parent.release();
    }
  }

  private evict(): void {
    for (const [k, d] of this.dirs) {
      if (this.dirs.size <= CACHE_MAX) break;
      if (d.refs === 0) this.dropKey(k);
    }
  }

  /** Forgets a directory and everything cached below it (after it was removed). */
  private drop(components: Buffer[]): void {
    const k = key(components);
    for (const other of [...this.dirs.keys()]) if (other === k || other.startsWith(k + '/')) this.dropKey(other);
  }

  private dropKey(k: string): void {
    const d = this.dirs.get(k);
    if (!d) return;
    this.dirs.delete(k);
    d.dropped = true;
    if (d.refs === 0) release(d);
  }
}
