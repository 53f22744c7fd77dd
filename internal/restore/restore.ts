// Restores files and trees from one set: catalog → chunk lists → sealed chunks → verified
// plaintext → files, then each directory's metadata after its children (so restrictive modes
// and times survive). Every write goes through SafeRoot: nothing lands outside the target.
import { closeSync } from 'node:fs';
import { T_BLOCKDEV, T_CHARDEV, T_DIR, T_FIFO, T_FILE, T_SYMLINK, TYPE_NAMES, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession } from '../model/session.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { TardisError } from '../errors/errors.ts';
import { applyMetadataFd, SafeRoot, SparseWriter, type MetaEntry } from '../fsutil/index.ts';
import { printable } from '../walk/index.ts';
import { Budget } from './budget.ts';
import { ChunkSource } from './source.ts';

export type OverwriteMode = 'never' | 'always' | 'newer' | 'older';
export type VerifyAction = 'keep' | 'rename' | 'delete';

export interface RestoreOptions {
  setId: number;
  recurse?: boolean;
  overwrite?: OverwriteMode;
  setTimes?: boolean;
  setPerms?: boolean;
  setOwners?: boolean;
  hardlinks?: boolean;
  verifyAction?: VerifyAction;
  onProblem?: (path: string, message: string) => void;
  /** An existing target left alone by the overwrite policy (not a failure); default onProblem. */
  onSkip?: (path: string, message: string) => void;
  onFile?: (path: string, bytes: number) => void;
}

export interface RestoreStats {
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  skipped: number;
  failed: number;
}

// Files in flight at once, from any directories: small files are syscall-latency bound, and
// their chunks are read in batches across files.
const FILES = 64;
// Plaintext bytes in flight (estimated from file sizes): what bounds the memory.
const BYTES = 24 << 20;
// A big file is read this many bytes of chunks at a time, one such group ahead of its writes.
const GROUP = 4 << 20;

/**
 * What content() found wrong: `bad` chunks that are missing or fail authentication (their bytes
 * are left out: chunk plaintext lengths are recorded nowhere, so a hole cannot be zero-filled at
 * the right offset), or, all chunks being good, a size or whole-file hash that does not match.
 */
export interface ContentCheck {
  bad: number;
  mismatch?: boolean;
}

/**
 * Where `dest` would be, for messages: shown as is even when a component is unsafe (a name
 * like ".." or "a/b" from a damaged or hostile repository), which SafeRoot refuses to resolve.
 */
function shown(root: SafeRoot, dest: Buffer[]): string {
  return printable(Buffer.concat([root.root, ...dest.flatMap((c) => [Buffer.from('/'), c])]));
}

/** One plaintext entry: the decrypted name plus the repository's record of it. */
export interface Found {
  name: Buffer;
  entry: VisibleEntry;
}

export class Restorer {
  readonly stats: RestoreStats = { files: 0, dirs: 0, links: 0, bytes: 0, skipped: 0, failed: 0 };
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly opts: RestoreOptions;
  /** Per hard-link group: where its first complete copy is (null: none yet), once known. */
  private readonly links = new Map<string, Promise<Buffer[] | null>>();
  private readonly files = new Budget(FILES);
  private readonly bytes = new Budget(BYTES);
  private source: ChunkSource | null = null;
  private readonly owners = new Map<string, string>();

  constructor(session: RepoSession, keyring: Keyring, opts: RestoreOptions) {
    this.session = session;
    this.keyring = keyring;
    this.opts = opts;
  }

  private fail(where: Buffer[] | string, message: string): void {
    this.stats.failed++;
    this.opts.onProblem?.(typeof where === 'string' ? where : printable(Buffer.from(where.map((c) => c.toString('latin1')).join('/'), 'latin1')), message);
  }

  /** Decrypted children of a directory node in this set, sorted by name. */
  async children(node: number): Promise<Found[]> {
    const list = await this.session.listDir(this.opts.setId, node);
    return list
      .map((entry) => ({ name: this.keyring.decName(entry.name), entry }))
      .sort((a, b) => Buffer.compare(a.name, b.name));
  }

  /** Stops the worker threads (they would not keep the process alive, but hold memory). */
  async close(): Promise<void> {
    await this.source?.close();
    this.source = null;
  }

  /** Streams a file's plaintext in order; verifies every chunk and the whole-file hash. */
  async *content(entry: VisibleEntry, check: ContentCheck): AsyncGenerator<Buffer> {
    const chunks = entry.chunks ?? Buffer.alloc(0);
    const n = Math.floor(chunks.length / 32);
    const hasher = this.keyring.contentHasher();
    // Chunks per read group: what an average chunk of this file makes GROUP bytes.
    const per = Math.max(1, Math.floor(GROUP / Math.max(1, entry.size / Math.max(1, n))));
    const group = (g: number) => {
      const ids: Buffer[] = [];
      for (let i = g * per; i < Math.min(n, (g + 1) * per); i++) ids.push(chunks.subarray(i * 32, i * 32 + 32));
      const got = (this.source ??= new ChunkSource(this.session, this.keyring.openKeys)).get(ids);
      for (const p of got) p.catch(() => {}); // awaited in order below, unless the restore stops first
      return got;
    };
    let size = 0;
    let next = group(0);
    for (let g = 0; g * per < n; g++) {
      const now = next;
      next = (g + 1) * per < n ? group(g + 1) : [];
      for (const p of now) {
        const plain = await p;
        if (!plain) {
          check.bad++;
          continue;
        }
        hasher.update(plain);
        size += plain.length;
        yield plain;
      }
    }
    if (!check.bad && (size !== entry.size || (entry.hash !== null && !hasher.digest().equals(entry.hash)))) check.mismatch = true;
  }

  /** Restores `found` as `dest` (components relative to the root). */
  async restore(root: SafeRoot, dest: Buffer[], found: Found): Promise<void> {
    await (await this.start(root, dest, found)).done;
  }

  /**
   * Starts restoring an entry: resolves once all of it is under way (for a directory: its whole
   * tree), to `done`, which resolves when it is finished (a wrapper: promises do not nest). Files from many directories are in flight
   * at once, within the budgets; a directory's metadata waits for everything in it.
   */
  private async start(root: SafeRoot, dest: Buffer[], found: Found): Promise<{ done: Promise<void> }> {
    const e = found.entry;
    if (e.type === T_DIR) return this.startDir(root, dest, e);
    const weight = e.type === T_FILE ? Math.min(e.size, 2 * GROUP) : 0;
    await this.files.take(1);
    await this.bytes.take(weight);
    const done = this.entry(root, dest, e).finally(() => {
      this.files.give(1);
      this.bytes.give(weight);
    });
    return { done };
  }

  private async startDir(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<{ done: Promise<void> }> {
    try {
      if (dest.length > 0) await root.mkdir(dest, this.newMode('dir'));
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      this.fail(shown(root, dest), err.message);
      return { done: Promise.resolve() };
    }
    this.stats.dirs++;
    const running: Promise<void>[] = [];
    if (this.opts.recurse !== false) {
      for (const child of await this.children(e.node)) {
        const { done } = await this.start(root, [...dest, child.name], child);
        done.catch(() => {}); // observed below; this keeps a failure before then from being "unhandled"
        running.push(done);
      }
    }
    const done = Promise.all(running).then(async () => {
      if (dest.length > 0) await this.meta(root, dest, e).catch((err: Error) => this.fail(shown(root, dest), err.message));
    });
    return { done };
  }

  /** Restores a non-directory entry; problems are reported and counted, not thrown. */
  private async entry(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    try {
      if (e.type === T_FILE) return await this.restoreFile(root, dest, e);
      const made = await this.create(root, dest, e, async () => {
        if (e.type === T_SYMLINK) {
          await root.symlink(dest, this.keyring.decName(e.target!));
          this.stats.links++;
        } else if (e.type === T_FIFO) await root.mkfifo(dest, this.newMode('file'));
        else if (e.type === T_CHARDEV || e.type === T_BLOCKDEV) await root.mknod(dest, e.type === T_CHARDEV ? 'chardev' : 'blockdev', e.mode, e.rdev);
        return true;
      });
      if (made) await this.meta(root, dest, e);
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err || err instanceof TardisError)) throw err;
      this.fail(shown(root, dest), err.message);
    }
  }

  /**
   * Runs `make` (which creates the entry), first straight away: a target is usually new, and
   * trying saves a lookup per entry. Where something is in the way, the overwrite policy
   * decides; false means it stays.
   */
  private async create<T>(root: SafeRoot, dest: Buffer[], e: VisibleEntry, make: () => Promise<T>): Promise<T | false> {
    try {
      return await make();
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code !== 'EEXIST') throw err;
    }
    if (!(await this.makeRoom(root, dest, e))) return false;
    return make();
  }

  /** Applies the overwrite policy to an existing target; false means "leave it alone". */
  private async makeRoom(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<boolean> {
    const old = await root.existing(dest);
    if (!old) return true;
    const mode = this.opts.overwrite ?? 'never';
    const backupNs = BigInt(e.mtimeS) * 1_000_000_000n + BigInt(e.mtimeNs);
    const replace = mode === 'always' || (mode === 'newer' && backupNs > old.mtimeNs) || (mode === 'older' && backupNs < old.mtimeNs);
    if (!replace) {
      this.stats.skipped++;
      (this.opts.onSkip ?? this.opts.onProblem)?.(printable(root.resolve(dest)), 'exists, not overwritten (see --overwrite)');
      return false;
    }
    await root.remove(dest);
    return true;
  }

  /**
   * The mode a new entry is created with: private until meta() applies the recorded one, or,
   * with --no-set-perms (nothing applied later), the usual default that the umask reduces.
   */
  private newMode(kind: 'dir' | 'file'): number {
    if (this.opts.setPerms === false) return kind === 'dir' ? 0o777 : 0o666;
    return kind === 'dir' ? 0o700 : 0o600;
  }

  /** Writes a file (or links it to the first of its hard-link group) with its metadata. */
  private async restoreFile(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    if (this.opts.hardlinks === false || e.nlink <= 1) {
      await this.writeFile(root, dest, e);
      return;
    }
    // Each name of a group waits for the one before: the first complete copy is linked to.
    const key = `${e.dev}:${e.ino}`;
    const before = this.links.get(key);
    let first: Buffer[] | null = null;
    const done = (before ?? Promise.resolve(null)).then((d) => (first = d));
    let settle!: (d: Buffer[] | null) => void;
    this.links.set(key, new Promise((resolve) => (settle = resolve)));
    try {
      await done;
      if (!first) {
        first = await this.writeFile(root, dest, e);
        return;
      }
      const from = first;
      if (await this.create(root, dest, e, () => root.link(from, dest).then(() => true))) this.stats.links++;
    } finally {
      settle(first);
    }
  }

  /** Writes the file and its metadata; returns where it is if it verified (else null). */
  private async writeFile(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<Buffer[] | null> {
    const fd = await this.create(root, dest, e, () => root.openForWrite(dest, this.newMode('file')));
    if (fd === false) return null;
    const writer = new SparseWriter(fd);
    const check: ContentCheck = { bad: 0 };
    let size = 0;
    let timesLater = false;
    let failed = false;
    try {
      for await (const data of this.content(e, check)) {
        writer.write(data);
        size += data.length;
      }
      writer.end(size);
      failed = check.bad > 0 || check.mismatch === true;
      // A file that is to be deleted gets no metadata; one kept or renamed keeps its own.
      if (!failed || this.opts.verifyAction !== 'delete') {
        timesLater = !(await applyMetadataFd(fd, root.resolve(dest), this.metaEntry(e), this.metaOpts()));
      }
    } finally {
      closeSync(fd);
    }
    this.stats.bytes += size;
    this.opts.onFile?.(printable(root.resolve(dest)), size);
    let at: Buffer[] | null = dest;
    if (failed) {
      at = await this.verifyFailed(root, dest, check.bad ? `${check.bad} damaged chunk(s), ${e.size - size} of ${e.size} bytes missing` : 'content does not match its checksum');
    } else this.stats.files++;
    if (at && timesLater) await root.applyMetadata(at, this.metaEntry(e), { perms: false, owners: false, times: true });
    return failed ? null : at;
  }

  /**
   * --verify-action: keep the damaged file (every chunk that authenticated, in order), rename it
   * NAME-CORRUPT (with its metadata, replacing an older NAME-CORRUPT), or delete it.
   */
  private async verifyFailed(root: SafeRoot, dest: Buffer[], why: string): Promise<Buffer[] | null> {
    const where = printable(root.resolve(dest));
    const action = this.opts.verifyAction ?? 'rename';
    if (action === 'delete') {
      await root.remove(dest);
      this.fail(where, `${why}: deleted`);
      return null;
    }
    if (action === 'rename') {
      const renamed = [...dest.slice(0, -1), Buffer.concat([dest[dest.length - 1]!, Buffer.from('-CORRUPT')])];
      await root.rename(dest, renamed);
      this.fail(where, `${why}: kept as ${printable(root.resolve(renamed))}`);
      return renamed;
    }
    this.fail(where, `${why}: kept`);
    return dest;
  }

  private metaEntry(e: VisibleEntry): MetaEntry {
    return {
      type: TYPE_NAMES[e.type] ?? 'file',
      mode: e.mode, uid: e.uid, gid: e.gid,
      user: this.owner(e.user), group: this.owner(e.group),
      mtimeNs: BigInt(e.mtimeS) * 1_000_000_000n + BigInt(e.mtimeNs),
      atimeNs: BigInt(e.atimeS) * 1_000_000_000n + BigInt(e.atimeNs),
    };
  }

  /** An owner's name; decrypted once per name (names are encrypted deterministically). */
  private owner(enc: Buffer | null): string | null {
    if (enc === null) return null;
    const k = enc.toString('latin1');
    let name = this.owners.get(k);
    if (name === undefined) this.owners.set(k, (name = this.keyring.decString(enc)!));
    return name;
  }

  private metaOpts() {
    return { perms: this.opts.setPerms !== false, times: this.opts.setTimes !== false, owners: this.opts.setOwners !== false };
  }

  private async meta(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    await root.applyMetadata(dest, this.metaEntry(e), this.metaOpts());
  }
}
