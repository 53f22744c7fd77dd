// Restores files and trees from one set: catalog → chunk lists → sealed chunks → verified
// plaintext → files, then each directory's metadata after its children (so restrictive modes
// and times survive). Every write goes through SafeRoot: nothing lands outside the target.
import { T_BLOCKDEV, T_CHARDEV, T_DIR, T_FIFO, T_FILE, T_SYMLINK, TYPE_NAMES, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession } from '../model/session.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { TardisError } from '../errors/errors.ts';
import { SafeRoot, SparseWriter } from '../fsutil/index.ts';
import { printable } from '../walk/index.ts';
import { eachLimit } from '../concurrency/each.ts';

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

const READ_BATCH = 8;
// Files written at once within a directory.
const WRITERS = 4;

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
  async *content(entry: VisibleEntry, check: ContentCheck): AsyncGenerator<Buffer> {
    const chunks = entry.chunks ?? Buffer.alloc(0);
    const hasher = this.keyring.contentHasher();
    let size = 0;
    const ids: Buffer[] = [];
    for (let i = 0; i + 32 <= chunks.length; i += 32) ids.push(chunks.subarray(i, i + 32));
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const blobs = await this.session.readChunks(batch);
      for (let j = 0; j < batch.length; j++) {
        const blob = blobs[j];
        if (!blob) {
          check.bad++;
          continue;
        }
        let plain: Buffer;
        try {
          plain = this.keyring.openChunk(batch[j]!, blob);
        } catch (err) {
          if (!(err instanceof TardisError)) throw err;
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
    const e = found.entry;
    if (e.type === T_DIR) return this.restoreDir(root, dest, e);
    try {
      if (!(await this.makeRoom(root, dest, e))) return;
      // Where the metadata goes: a file that failed verification may be renamed or gone.
      let at: Buffer[] | null = dest;
      if (e.type === T_FILE) at = await this.restoreFile(root, dest, e);
      else if (e.type === T_SYMLINK) {
        await root.symlink(dest, this.keyring.decName(e.target!));
        this.stats.links++;
      } else if (e.type === T_FIFO) await root.mkfifo(dest, this.newMode('file'));
      else if (e.type === T_CHARDEV || e.type === T_BLOCKDEV) await root.mknod(dest, e.type === T_CHARDEV ? 'chardev' : 'blockdev', e.mode, e.rdev);
      if (at) await this.meta(root, at, e);
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err || err instanceof TardisError)) throw err;
      this.fail(shown(root, dest), err.message);
    }
  }

  private async restoreDir(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<void> {
    try {
      if (dest.length > 0) await root.mkdir(dest, this.newMode('dir'));
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      this.fail(shown(root, dest), err.message);
      return;
    }
    this.stats.dirs++;
    if (this.opts.recurse !== false) {
      // Plain entries are written a few at a time (small files are syscall-latency bound);
      // directories and hard-linked files go one by one, so the first name of a link group is
      // complete before another links to it and recursion stays bounded.
      const kids = await this.children(e.node);
      const linked = (k: Found) => k.entry.type === T_FILE && k.entry.nlink > 1 && this.opts.hardlinks !== false;
      const plain = kids.filter((k) => k.entry.type !== T_DIR && !linked(k));
      await eachLimit(plain, WRITERS, (child) => this.restore(root, [...dest, child.name], child));
      for (const child of kids) {
        if (child.entry.type === T_DIR || linked(child)) await this.restore(root, [...dest, child.name], child);
      }
    }
    if (dest.length > 0) await this.meta(root, dest, e).catch((err: Error) => this.fail(shown(root, dest), err.message));
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

  /** Writes the file; returns where it now is (null: deleted after failing verification). */
  private async restoreFile(root: SafeRoot, dest: Buffer[], e: VisibleEntry): Promise<Buffer[] | null> {
    const linkKey = this.opts.hardlinks !== false && e.nlink > 1 ? `${e.dev}:${e.ino}` : null;
    const first = linkKey ? this.links.get(linkKey) : undefined;
    if (first) {
      await root.link(first, dest);
      this.stats.links++;
      return dest;
    }
    const fh = await root.openForWrite(dest, this.newMode('file'));
    const writer = new SparseWriter(fh);
    const check: ContentCheck = { bad: 0 };
    let size = 0;
    try {
      for await (const data of this.content(e, check)) {
        await writer.write(data);
        size += data.length;
      }
    } finally {
      await writer.close(size);
    }
    this.stats.bytes += size;
    this.opts.onFile?.(printable(root.resolve(dest)), size);
    if (check.bad || check.mismatch) {
      return this.verifyFailed(root, dest, check.bad ? `${check.bad} damaged chunk(s), ${e.size - size} of ${e.size} bytes missing` : 'content does not match its checksum');
    }
    this.stats.files++;
    if (linkKey) this.links.set(linkKey, dest);
    return dest;
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


