// Restores files and trees from one set: catalog → chunk lists → sealed chunks → verified
// plaintext → files, then each directory's metadata after its children (so restrictive modes
// and times survive). Every write goes through SafeRoot: nothing lands outside the target.
import { T_BLOCKDEV, T_CHARDEV, T_DIR, T_FIFO, T_FILE, T_SYMLINK, TYPE_NAMES, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession } from '../model/session.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { TardisError } from '../errors/errors.ts';
import { SafeRoot, SparseWriter } from '../fsutil/index.ts';
import { printable } from '../walk/index.ts';

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

const READ_BATCH = 8;

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
  private readonly links = new Map<string, Buffer[]>();

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

  /** Streams a file's plaintext in order; verifies every chunk and the whole-file hash. */
  async *content(entry: VisibleEntry, damaged: { bad: number }): AsyncGenerator<Buffer> {
    const chunks = entry.chunks ?? Buffer.alloc(0);
    const ids: Buffer[] = [];
    for (let i = 0; i + 32 <= chunks.length; i += 32) ids.push(chunks.subarray(i, i + 32));
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const blobs = await this.session.readChunks(batch);
      for (let j = 0; j < batch.length; j++) {
        const blob = blobs[j];
        if (!blob) {
          damaged.bad++;
          continue;
        }
        try {
          yield this.keyring.openChunk(batch[j]!, blob);
        } catch (err) {
          if (!(err instanceof TardisError)) throw err;
          damaged.bad++;
        }
      }
    }
  }

  /** Restores `found` as `dest` (components relative to the root). */
  async restore(root: SafeRoot, dest: Buffer[], found: Found): Promise<void> {
    const e = found.entry;
    if (e.type === T_DIR) return this.restoreDir(root, dest, e);
    if (!(await this.makeRoom(root, dest, e))) return;
    try {
      if (e.type === T_FILE) await this.restoreFile(root, dest, e);
      else if (e.type === T_SYMLINK) {
        await root.symlink(dest, this.keyring.decName(e.target!));
        this.stats.links++;
      } else if (e.type === T_FIFO) await root.mkfifo(dest);
      else if (e.type === T_CHARDEV || e.type === T_BLOCKDEV) await root.mknod(dest, e.type === T_CHARDEV ? 'chardev' : 'blockdev', e.mode, e.rdev);
      await this.meta(root, dest, e);
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err || err instanceof TardisError)) throw err;
      this.fail(printable(root.resolve(dest)), err.message);
    }
  }

  private async restoreDir(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    try {
      if (dest.length > 0) await root.mkdir(dest);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      this.fail(printable(root.resolve(dest)), err.message);
      return;
    }
    this.stats.dirs++;
    if (this.opts.recurse !== false) {
      for (const child of await this.children(e.node)) await this.restore(root, [...dest, child.name], child);
    }
    if (dest.length > 0) await this.meta(root, dest, e).catch((err: Error) => this.fail(printable(root.resolve(dest)), err.message));
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
      this.opts.onProblem?.(printable(root.resolve(dest)), 'exists, not overwritten (see --overwrite)');
      return false;
    }
    await root.remove(dest);
    return true;
  }

  private async restoreFile(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    const linkKey = this.opts.hardlinks !== false && e.nlink > 1 ? `${e.dev}:${e.ino}` : null;
    const first = linkKey ? this.links.get(linkKey) : undefined;
    if (first) {
      await root.link(first, dest);
      this.stats.links++;
      return;
    }
    const fh = await root.openForWrite(dest);
    const writer = new SparseWriter(fh);
    const hasher = this.keyring.contentHasher();
    const damaged = { bad: 0 };
    let size = 0;
    try {
      for await (const data of this.content(e, damaged)) {
        hasher.update(data);
        await writer.write(data);
        size += data.length;
      }
    } finally {
      await writer.close(size);
    }
    this.stats.bytes += size;
    this.opts.onFile?.(printable(root.resolve(dest)), size);
    const ok = damaged.bad === 0 && size === e.size && (!e.hash || hasher.digest().equals(e.hash));
    if (!ok) {
      await this.verifyFailed(root, dest, damaged.bad ? `${damaged.bad} damaged chunk(s)` : 'content does not match its checksum');
      return;
    }
    this.stats.files++;
    if (linkKey) this.links.set(linkKey, dest);
  }

  /** --verify-action: keep the damaged file, rename it NAME-CORRUPT, or delete it. */
  private async verifyFailed(root: SafeRoot, dest: Buffer[], why: string): Promise<void> {
    const where = printable(root.resolve(dest));
    const action = this.opts.verifyAction ?? 'rename';
    if (action === 'delete') {
      await root.remove(dest);
      this.fail(where, `${why}: deleted`);
    } else if (action === 'rename') {
      const renamed = [...dest.slice(0, -1), Buffer.concat([dest[dest.length - 1]!, Buffer.from('-CORRUPT')])];
      await root.rename(dest, renamed);
      this.fail(where, `${why}: kept as ${printable(root.resolve(renamed))}`);
    } else {
      this.fail(where, `${why}: kept`);
    }
  }

  private async meta(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    await root.applyMetadata(dest, {
      type: TYPE_NAMES[e.type] ?? 'file',
      mode: e.mode, uid: e.uid, gid: e.gid,
      user: this.keyring.decString(e.user), group: this.keyring.decString(e.group),
      mtimeNs: BigInt(e.mtimeS) * 1_000_000_000n + BigInt(e.mtimeNs),
      atimeNs: BigInt(e.atimeS) * 1_000_000_000n + BigInt(e.atimeNs),
    }, { perms: this.opts.setPerms !== false, times: this.opts.setTimes !== false, owners: this.opts.setOwners !== false });
  }
}


