// A repository in a local directory. Writes go to tmp/ first and are renamed (or hard-linked,
// for immutable kinds) into place, so a crash leaves either the old state or the complete file.

import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { DiskFullError, IntegrityError, NotFoundError, UsageError } from '../errors/errors.ts';
import { checkKind, checkName, CONFIG_NAME, IMMUTABLE_KINDS, isValidName } from './store.ts';
import type { FileKind, Store } from './store.ts';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const LAYOUT_DIRS = ['keys', 'packs', 'snapshots', 'locks', 'sets', 'tmp'] as const;
const FANOUT_DIR = /^[0-9a-f]{2}$/;
/** getRanges reads ranges this close together as one (reading the gap costs less than a call)… */
const GAP = 64 * 1024;
/** …up to this many bytes per read. */
const RUN = 4 << 20;

export class LocalStore implements Store {
  /** Absolute path of the repository directory. */
  readonly root: string;
  // In-flight directory creations, so concurrent puts wait for the parent fsync of a new
  // directory. Not kept afterwards: a directory removed behind our back is simply recreated.
  #dirs = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Creates the directory layout; fails if the directory already holds a repository config. */
  static async init(root: string): Promise<LocalStore> {
    const store = new LocalStore(root);
    const configPath = store.pathOf('config', CONFIG_NAME);
    try {
      await fsp.mkdir(store.root, { recursive: true, mode: DIR_MODE });
      if ((await statOrNull(configPath)) !== null) {
        throw new UsageError(`repository already exists: ${store.root}`);
      }
      for (const dir of LAYOUT_DIRS) await store.#ensureDir(path.join(store.root, dir));
      await fsyncDir(store.root);
    } catch (err) {
      throw diskFull(err, store.root);
    }
    return store;
  }

  location(): string {
    return this.root;
  }

  /** The file path of a (validated) name. */
  pathOf(kind: FileKind, name: string): string {
    checkName(kind, name);
    if (kind === 'config') return path.join(this.root, CONFIG_NAME);
    if (kind === 'packs') return path.join(this.root, 'packs', name.slice(0, 2), name);
    return path.join(this.root, kind, name);
  }

  async put(kind: FileKind, name: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(kind, name);
    const immutable = IMMUTABLE_KINDS.has(kind);
    if (immutable && (await this.#alreadyStored(kind, name, target, data.byteLength))) return;

    const tmpDir = path.join(this.root, 'tmp');
    const tmp = path.join(tmpDir, randomBytes(16).toString('hex'));
    try {
      await this.#ensureDir(tmpDir);
      await this.#ensureDir(path.dirname(target));
      const fh = await fsp.open(tmp, 'wx', FILE_MODE);
      try {
        await this.writeData(fh, data);
        await fh.sync();
      } catch (err) {
        await fh.close().catch(() => {});
        throw err;
      }
      await fh.close();
      if (immutable) await this.#linkNew(kind, name, tmp, target, data.byteLength);
      else await fsp.rename(tmp, target);
      await fsyncDir(path.dirname(target));
    } catch (err) {
      throw diskFull(err, target);
    } finally {
      // After a link the temp name is a second link to the stored file; otherwise it is junk.
      await fsp.rm(tmp, { force: true }).catch(() => {});
    }
  }

  /** Writes all of `data` to a fresh temp file. Overridable so tests can inject write failures. */
  protected async writeData(fh: FileHandle, data: Uint8Array): Promise<void> {
    await fh.writeFile(data);
  }

  async get(kind: FileKind, name: string): Promise<Buffer> {
    const p = this.pathOf(kind, name);
    try {
      return await fsp.readFile(p);
    } catch (err) {
      throw notFound(err, kind, p);
    }
  }

  async getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer> {
    return (await this.getRanges(kind, name, [{ offset, length }]))[0]!;
  }

  /** Several ranges of one file, with one open (a restore reads many chunks of one pack). */
  async getRanges(kind: FileKind, name: string, ranges: { offset: number; length: number }[]): Promise<Buffer[]> {
    const p = this.pathOf(kind, name);
    for (const { offset, length } of ranges) {
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
        throw new RangeError(`invalid range ${offset}+${length} for ${p}`);
      }
    }
    let fh: FileHandle;
    try {
      fh = await fsp.open(p, 'r');
    } catch (err) {
      throw notFound(err, kind, p);
    }
    try {
      // Sorted by offset, and ranges at most GAP apart read as one: a restore asks for many
      // small chunks that were written one after another.
      const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.offset - ranges[b]!.offset);
      const out: Buffer[] = new Array(ranges.length);
      for (let i = 0; i < order.length;) {
        const start = ranges[order[i]!]!.offset;
        let end = start + ranges[order[i]!]!.length;
        let j = i + 1;
        for (; j < order.length; j++) {
          const r = ranges[order[j]!]!;
          const to = Math.max(end, r.offset + r.length);
          if (r.offset > end + GAP || to - start > RUN) break;
          end = to;
        }
        const buf = await readExactly(fh, p, start, end - start);
        for (; i < j; i++) {
          const r = ranges[order[i]!]!;
          out[order[i]!] = buf.subarray(r.offset - start, r.offset - start + r.length);
        }
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async stat(kind: FileKind, name: string): Promise<{ size: number } | null> {
    const st = await statOrNull(this.pathOf(kind, name));
    return st === null ? null : { size: st.size };
  }

  async *list(kind: FileKind): AsyncIterable<string> {
    if (kind === 'config') {
      if ((await this.stat('config', CONFIG_NAME)) !== null) yield CONFIG_NAME;
      return;
    }
    checkKind(kind);
    const dir = path.join(this.root, kind);
    if (kind !== 'packs') {
      yield* fileNames(dir, (n) => isValidName(kind, n));
      return;
    }
    for (const sub of await readDirOrEmpty(dir)) {
      if (!sub.isDirectory() || !FANOUT_DIR.test(sub.name)) continue;
      yield* fileNames(path.join(dir, sub.name), (n) => isValidName('packs', n) && n.startsWith(sub.name));
    }
  }

  async remove(kind: FileKind, name: string): Promise<void> {
    // No directory fsync: a removal lost in a crash only leaves garbage a later prune deletes.
    await fsp.rm(this.pathOf(kind, name), { force: true });
  }

  /** Removes temp files left by killed writers that are older than `maxAgeMs`; returns how many. */
  async cleanTmp(maxAgeMs = 60 * 60 * 1000): Promise<number> {
    const dir = path.join(this.root, 'tmp');
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    for (const ent of await readDirOrEmpty(dir)) {
      const p = path.join(dir, ent.name);
      const st = await statOrNull(p);
      if (st === null || !st.isFile() || st.mtimeMs > cutoff) continue;
      await fsp.rm(p, { force: true });
      removed++;
    }
    return removed;
  }

  /** For immutable kinds: true if the same-size file is already there, throws if it differs. */
  async #alreadyStored(kind: FileKind, name: string, target: string, size: number): Promise<boolean> {
    const st = await statOrNull(target);
    if (st === null) return false;
    if (st.size === size) return true;
    throw new IntegrityError(`${kind} ${name} already exists with a different size (${st.size}, not ${size})`);
  }

  /** link() fails atomically if the target exists, unlike rename(), which would replace it. */
  async #linkNew(kind: FileKind, name: string, tmp: string, target: string, size: number): Promise<void> {
    try {
      await fsp.link(tmp, target);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST') {
        if (await this.#alreadyStored(kind, name, target, size)) return;
        throw err;
      }
      // Filesystems without hard links: check-then-rename leaves only a tiny race window.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EMLINK') {
        if (await this.#alreadyStored(kind, name, target, size)) return;
        await fsp.rename(tmp, target);
        return;
      }
      throw err;
    }
  }

  async #ensureDir(dir: string): Promise<void> {
    let done = this.#dirs.get(dir);
    if (done === undefined) {
      done = makeDirDurable(dir);
      this.#dirs.set(dir, done);
      const forget = () => void this.#dirs.delete(dir);
      done.then(forget, forget);
    }
    await done;
  }
}

/** mkdir -p, then fsync the parent of every directory it created so the entries survive a crash. */
async function makeDirDurable(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (first === undefined) return;
  for (let d = dir; ; d = path.dirname(d)) {
    await fsyncDir(path.dirname(d));
    if (d === first || path.dirname(d) === d) break;
  }
}

/** Exactly `length` bytes at `offset`; IntegrityError where the file ends first. */
async function readExactly(fh: FileHandle, p: string, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(length);
  let got = 0;
  while (got < length) {
    // An explicit position (a double, fine past 4 GiB) keeps reads independent of the fd offset.
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) {
      throw new IntegrityError(`${p} truncated: wanted ${length} bytes at offset ${offset}, file ends at ${offset + got}`);
    }
    got += bytesRead;
  }
  return buf;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems (and platforms) cannot fsync a directory; the data itself is synced.
    const code = errCode(err);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}

async function* fileNames(dir: string, keep: (name: string) => boolean): AsyncIterable<string> {
  const entries = await readDirOrEmpty(dir);
  for (const ent of entries) if (ent.isFile() && keep(ent.name)) yield ent.name;
}

async function readDirOrEmpty(dir: string) {
  try {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function statOrNull(p: string) {
  try {
    return await fsp.stat(p);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function diskFull(err: unknown, where: string): unknown {
  const code = errCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DiskFullError(`repository disk full: ${where}`, { cause: err });
  return err;
}

function notFound(err: unknown, kind: FileKind, p: string): unknown {
  if (errCode(err) === 'ENOENT') return new NotFoundError(`${kind} not found: ${p}`, { cause: err });
  return err;
}
