// The client side of a backup run: walk the roots, send each directory's listing, upload the
// content the repository asks for, then complete the set.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CompressAlg } from '../compress/index.ts';
import { TardisError } from '../errors/errors.ts';
import type { Excluder } from '../exclude/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { ROOT_NODE, T_DIR, type NamedEntry } from '../model/entry.ts';
import type { DirRef, DirReply, FileCommit, RepoSession } from '../model/session.ts';
import { VERSION } from '../version/version.ts';
import { entryFromStats, joinPath, printable, walk, type FsEntry, type Problem, type WalkOptions } from '../walk/index.ts';
import { EntryEncoder } from './entries.ts';
import { placeRoots, type BasePath } from './rooting.ts';
import { newStats, type Stats } from './stats.ts';
import { Inflight, Turn } from './inflight.ts';
import { SealPool } from './sealpool.ts';
import { readWeight, Uploader } from './upload.ts';
import { sealManifest, SNAPSHOT_VERSION } from '../snapshot/snapshot.ts';
import { snapshotSet } from './snapshot.ts';

export interface BackupOptions {
  roots: string[];
  basePath?: BasePath;
  maxDepth?: number;
  crossDevice?: boolean;
  full?: boolean;
  name?: string;
  tags?: string[];
  moveTags?: boolean;
  force?: boolean;
  /** Compression for this run's new chunks (default: the repository's). */
  compression?: CompressAlg;
  /** What to leave out (see internal/exclude). */
  exclude?: Excluder;
  /** Called for every problem (vanished, unreadable, changed, skipped socket). */
  onProblem?: (kind: string, path: string, message: string) => void;
  /** Called for every entry left out by `exclude`, with the reason. */
  onExclude?: (path: string, reason: string) => void;
  onProgress?: (s: Stats, current: string) => void;
}

export interface BackupResult {
  setId: number;
  name: string;
  resumed: boolean;
  stats: Stats;
  /** Sets the repository's AutoPurge deleted after this one completed. */
  autoPurged: string[];
}

const key = (p: Buffer) => p.toString('latin1');

// Files being read at once, across directories: enough to keep every worker busy while the
// main thread walks on, few enough bytes that memory stays bounded (a file's sealed chunks
// are held until its batch is sent).
const READERS = 64;
const READ_BYTES = 16 << 20;
// Directory listings sent ahead of their replies: over tardisd each reply is a round trip away.
const LISTINGS = 32;
// The walk's calls are synchronous, so without a pause now and then the workers' replies (and a
// large file's questions) would wait for the whole walk: they are handled at least this often.
const TURN_MS = 2;

export async function runBackup(session: RepoSession, keyring: Keyring, opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const stats = newStats();
  const enc = new EntryEncoder(keyring);
  const pool = new SealPool(keyring.fileKeys);
  const uploader = new Uploader(session, keyring, stats, { compression: opts.compression, pool });
  const problem = (kind: string, p: Buffer | string, message: string) => {
    if (kind !== 'skipped-socket') stats.problems++;
    else stats.skipped++;
    if (kind === 'vanished') stats.vanished++;
    if (kind === 'unreadable') stats.unreadable++;
    opts.onProblem?.(kind, typeof p === 'string' ? p : printable(p), message);
  };
  const placements = placeRoots(opts.roots, opts.basePath ?? 'full');
  for (const pl of placements) {
    const st = await lstat(pl.path).catch(() => null);
    if (!st) throw new TardisError(`cannot back up ${pl.path}: no such directory`);
    if (!st.isDirectory()) throw new TardisError(`cannot back up ${pl.path}: not a directory`);
  }

  const encTags = (opts.tags ?? []).map((t) => keyring.encString(t)!);
  const begin = await session.beginBackup({
    name: opts.name, tags: encTags, moveTags: opts.moveTags,
    full: opts.full === true, clientTime: started, clientVersion: VERSION, force: opts.force,
  });
  // Hard links already sent in this run: the later names reuse the content.
  const linked = new Map<string, Promise<{ hash: Buffer; chunks: Buffer[]; size: number } | null>>();
  const reads = new Inflight(READERS, READ_BYTES);
  const turn = new Turn(TURN_MS);
  try {
    // Listings are named so that a subdirectory's can go out before its parent's reply is back.
    let nextRef = 1;
    for (const pl of placements) {
      const rootNode = await sendChain(session, enc, pl.chain);
      // Directories whose listing is due, by path: the root by node, the others by where they were listed.
      const dirTargets = new Map<string, number | DirRef>([[key(Buffer.from(pl.path)), rootNode]]);
      // Replies being handled, in the order sent; each waits for the one before.
      const handling: Promise<void>[] = [];
      const walkOpts: WalkOptions = {
        maxDepth: opts.maxDepth ?? 0, crossDevice: opts.crossDevice === true, exclude: opts.exclude,
        onProblem: (p: Problem) => problem(p.kind, p.path, p.error?.message ?? p.kind),
        onExclude: (p: Buffer, reason: string) => {
          stats.excluded++;
          opts.onExclude?.(printable(p), reason);
        },
      };
      for await (const listing of walk([Buffer.from(pl.path)], walkOpts)) {
        await turn.yield();
        const k = key(listing.path);
        const target = dirTargets.get(k);
        if (target === undefined) continue;
        dirTargets.delete(k);
        const wire = listing.entries.map((e) => enc.encode(e));
        const ref = nextRef++;
        const reply = session.sendDir({ dir: target, ref, partial: false, hash: enc.listingHash(listing.entries), entries: wire });
        reply.catch(() => {}); // observed through `handling`, once the replies before it are handled
        listing.entries.forEach((e, i) => {
          if (e.type === 'dir') dirTargets.set(key(joinPath(listing.path, e.name)), { ref, index: i });
        });
        const before = handling.at(-1) ?? Promise.resolve();
        const handled = before.then(() => reply).then((r) => onListed(listing.path, listing.entries, wire, r));
        handled.catch(() => {}); // awaited below or when the window moves on
        handling.push(handled);
        if (handling.length >= LISTINGS) await handling.shift();
      }
      for (const h of handling) await h;
      // Directories the walk did not enter (depth limit, other device, unreadable) are
      // recorded empty, so a set never shows contents it did not look at.
      for (const dir of dirTargets.values()) {
        await session.sendDir({ dir, partial: false, hash: null, entries: [] });
      }
    }
    await reads.drain();
    await uploader.flush();
    await session.endWalk();
    // The set's tree, sealed, so the catalog can be rebuilt from the store alone.
    const snap = await snapshotSet(session, keyring, pool, begin.setId, begin.resumed);
    stats.snapshotBytes = snap.size;
    stats.snapshotNew = snap.bytesNew;
    stats.durationMs = Date.now() - started;
    // The set's own metadata rides along, sealed, so a rebuild recovers it (see internal/snapshot).
    const manifest = sealManifest(keyring, {
      v: SNAPSHOT_VERSION, setId: begin.setId, versions: snap.versions, size: snap.size, hash: snap.hash, chunks: snap.chunks,
      set: { name: opts.name ?? null, tags: encTags, full: opts.full === true, clientTime: started, clientVersion: VERSION, stats: { ...stats } },
    });
    const done = await session.finishBackup({ stats: { ...stats }, snapshot: manifest, snapshotChunks: snap.chunks });
    stats.durationMs = Date.now() - started;
    return { setId: done.setId, name: done.name, resumed: begin.resumed, stats, autoPurged: done.autoPurged ?? [] };
  } catch (err) {
    // What already reached the repository is kept for the next run to resume from.
    await reads.drain().catch(() => undefined);
    await uploader.flush().catch(() => undefined);
    await session.abortBackup(err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  } finally {
    await pool.close();
  }

  /** Counts a listing the repository took and starts reading what it asked for. */
  async function onListed(dirPath: Buffer, entries: FsEntry[], wire: NamedEntry[], reply: DirReply): Promise<void> {
    stats.dirs++;
    if (reply.unchanged) stats.dirsUnchanged++;
    for (const e of entries) count(stats, e);
    stats.filesUnchanged += entries.filter((e) => e.type === 'file').length - reply.need.length;
    for (const i of reply.need) {
      const e = entries[i]!;
      const p = joinPath(dirPath, e.name);
      await reads.start(readWeight(e.size), async () => {
        opts.onProgress?.(stats, printable(p));
        await uploader.commit(await contentOf(p, e, wire[i]!, reply.dir));
      });
    }
    opts.onProgress?.(stats, printable(dirPath));
  }

  async function contentOf(p: Buffer, e: FsEntry, wire: NamedEntry, dir: number): Promise<FileCommit> {
    const linkKey = e.nlink > 1 ? `${e.dev}:${e.ino}` : null;
    // Names of one inode may be read at the same time: the first one reads, the others wait.
    const prior = linkKey ? linked.get(linkKey) : undefined;
    if (prior) {
      const r = await prior;
      if (r) return { dir, entry: { ...wire, size: r.size }, hash: r.hash, chunks: r.chunks };
    }
    const reading = readContent(p, e);
    if (linkKey && !prior) linked.set(linkKey, reading);
    const r = await reading;
    return r ? { dir, entry: { ...wire, size: r.size }, hash: r.hash, chunks: r.chunks } : { dir, entry: wire, hash: null, chunks: [] };
  }

  /** The file's content, or null (counted as a problem) if it could not be read. */
  async function readContent(p: Buffer, e: FsEntry): Promise<{ hash: Buffer; chunks: Buffer[]; size: number } | null> {
    try {
      const r = await uploader.file(p, e);
      stats.filesRead++;
      if (r.changed) {
        stats.changedDuringRead++;
        problem('changed', p, 'file changed while it was read; the next backup will read it again');
      }
      // The version records what was read with the metadata seen before reading, so a file
      // that changed meanwhile differs from it next time and is read again.
      return { hash: r.hash, chunks: r.chunks, size: r.size };
    } catch (err) {
      // Only the file's own errors skip it; a repository that fails (disk full) ends the run.
      if (uploader.failure !== undefined) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const kind = code === 'ENOENT' ? 'vanished' : code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'other';
      problem(kind, p, (err as Error).message);
      return null;
    }
  }
}

function count(stats: Stats, e: FsEntry): void {
  if (e.type === 'file') stats.files++;
  else if (e.type === 'symlink') stats.symlinks++;
  else if (e.type !== 'dir') stats.others++;
}

/** Sends the single-entry listings of a root's ancestors; returns the root's node. */
async function sendChain(session: RepoSession, enc: EntryEncoder, chain: string[]): Promise<number> {
  let node = ROOT_NODE;
  for (const p of chain) {
    const st = await lstat(p, { bigint: true });
    const entry = enc.encode(entryFromStats(Buffer.from(path.basename(p)), st));
    const reply = await session.sendDir({ dir: node, partial: true, hash: null, entries: [entry] });
    node = reply.nodes[0]!;
    if (entry.type !== T_DIR || !node) throw new TardisError(`cannot back up ${p}: not a directory`);
  }
  return node;
}


