// The client half: a RepoSession whose every method is a request over a protocol connection.
// Large batches are split to stay well under the frame limit, and chunk reads are continued
// until the server has sent every chunk asked for.
import { T_DIR, type VisibleEntry } from '../model/entry.ts';
import type {
  BeginBackupReply, BeginBackupRequest, ChangesPage, ChunkUpload, DirReply, DirRequest, FileCommit, FinishReply, FinishRequest,
  CheckReport, ChunkUsers, GcOptions, GcReport, KeysChange, PurgeRule, RepoInfo, RepoSession, SetChange, SetInfo, SettingsReport, VersionsPage,
} from '../model/session.ts';
import { CHECK_MAX_IDS } from '../model/session.ts';
import type { Connection } from '../protocol/connection.ts';
import { ConnectionError, ProtocolError } from '../protocol/errors.ts';

/** Bytes of chunk data per upload request. */
const UPLOAD_BYTES = 32 << 20;
const UPLOAD_COUNT = 4096;
const IDS_PER_REQUEST = 50_000;
const FILES_PER_REQUEST = 20_000;
const COMMIT_BYTES = 32 << 20;
/** The protocol version from which a listing may name its directory by a DirRef. */
const DIR_REFS_SINCE = 2;

function batches<T>(items: T[], maxCount: number, maxBytes: number, size: (t: T) => number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const n = size(it);
    if (cur.length > 0 && (cur.length >= maxCount || bytes + n > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += n;
  }
  if (cur.length > 0 || out.length === 0) out.push(cur);
  return out;
}

export class RemoteSession implements RepoSession {
  readonly conn: Connection;
  private closed = false;
  /** For a protocol-1 server: listings sent with a ref, and how many DirRefs may still name them. */
  private readonly listings = new Map<number, { reply: Promise<DirReply>; left: number }>();

  constructor(conn: Connection) {
    this.conn = conn;
  }

  private call<T>(type: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.conn.request(type, body) as Promise<T>;
  }

  info(): Promise<RepoInfo> {
    return this.call('info');
  }

  beginBackup(req: BeginBackupRequest): Promise<BeginBackupReply> {
    return this.call('beginBackup', { ...req });
  }

  sendDir(req: DirRequest): Promise<DirReply> {
    if (this.conn.version >= DIR_REFS_SINCE) return this.call('sendDir', { ...req });
    const reply = this.sendDirByNode(req);
    const left = req.entries.filter((e) => e.type === T_DIR).length;
    if (req.ref !== undefined && left > 0) {
      reply.catch(() => {}); // the caller observes it; a DirRef waiting for it fails with it
      this.listings.set(req.ref, { reply, left });
    }
    return reply;
  }

  /** A protocol-1 server knows directories by node only: a DirRef waits for the reply naming it. */
  private async sendDirByNode(req: DirRequest): Promise<DirReply> {
    let dir: number;
    if (typeof req.dir === 'number') {
      dir = req.dir;
    } else {
      const listing = this.listings.get(req.dir.ref);
      if (!listing) throw new ProtocolError(`sendDir: no listing ${req.dir.ref} to refer to`);
      if (--listing.left === 0) this.listings.delete(req.dir.ref);
      dir = (await listing.reply).nodes[req.dir.index]!;
    }
    const { ref: _ref, ...byNode } = req;
    const r = await this.call<Omit<DirReply, 'dir'>>('sendDir', { ...byNode, dir });
    return { ...r, dir };
  }

  async missingChunks(ids: Buffer[]): Promise<number[]> {
    const parts = batches(ids, IDS_PER_REQUEST, Infinity, () => 0);
    const replies = await Promise.all(parts.map((p) => this.call<number[]>('missingChunks', { ids: p })));
    let offset = 0;
    return replies.flatMap((r, i) => {
      const base = offset;
      offset += parts[i].length;
      return r.map((x) => x + base);
    });
  }

  async putChunks(chunks: ChunkUpload[]): Promise<void> {
    const parts = batches(chunks, UPLOAD_COUNT, UPLOAD_BYTES, (c) => c.blob.length + 64);
    await Promise.all(parts.map((p) => this.call('putChunks', { chunks: p })));
  }

  async commitFiles(files: FileCommit[]): Promise<void> {
    const parts = batches(files, FILES_PER_REQUEST, COMMIT_BYTES, (f) => 256 + f.entry.name.length + f.chunks.length * 34);
    await Promise.all(parts.map((p) => this.call('commitFiles', { files: p })));
  }

  endWalk(): Promise<void> {
    return this.call('endWalk');
  }

  finishBackup(req: FinishRequest): Promise<FinishReply> {
    return this.call('finishBackup', { ...req });
  }

  abortBackup(reason: string): Promise<void> {
    return this.call('abortBackup', { reason: reason.slice(0, 4000) });
  }

  listSets(): Promise<SetInfo[]> {
    return this.call('listSets');
  }

  listDir(setId: number, dir: number): Promise<VisibleEntry[]> {
    return this.call('listDir', { setId, dir });
  }

  lookup(setId: number, dir: number, name: Buffer): Promise<VisibleEntry | null> {
    return this.call('lookup', { setId, dir, name });
  }

  updateSet(id: number, change: SetChange): Promise<SetInfo> {
    return this.call('updateSet', { id, change: { ...change } });
  }

  deleteSets(ids: number[]): Promise<number> {
    return this.call('deleteSets', { ids });
  }

  purge(rule: PurgeRule, dryRun: boolean): Promise<SetInfo[]> {
    return this.call('purge', { rule: { ...rule }, dryRun });
  }

  collectGarbage(opts: GcOptions): Promise<GcReport> {
    return this.call('collectGarbage', { repackBelow: opts.repackBelow ?? 0.5 });
  }

  setUsage(setId: number): Promise<{ files: number; bytes: number }> {
    return this.call('setUsage', { setId });
  }

  setChanges(setId: number, after: number, limit: number): Promise<ChangesPage> {
    return this.call('setChanges', { setId, after, limit: Math.max(1, Math.min(limit, 10_000)) });
  }

  getSettings(): Promise<SettingsReport> {
    return this.call('getSettings');
  }

  setSettings(changes: Record<string, string | null>): Promise<SettingsReport> {
    return this.call('setSettings', { changes: { ...changes } });
  }

  setKeys(change: KeysChange): Promise<void> {
    return this.call('setKeys', { ...change });
  }

  checkRepository(): Promise<CheckReport> {
    return this.call('checkRepository');
  }

  packChunkIds(pack: string): Promise<Buffer[]> {
    return this.call('packChunkIds', { pack });
  }

  chunkUsers(ids: Buffer[]): Promise<ChunkUsers> {
    return this.call('chunkUsers', { ids: ids.slice(0, CHECK_MAX_IDS) });
  }

  setVersions(setId: number, after: number, limit: number): Promise<VersionsPage> {
    return this.call('setVersions', { setId, after, limit: Math.max(1, Math.min(limit, 10_000)) });
  }

  readSnapshot(setId: number): Promise<Buffer | null> {
    return this.call('readSnapshot', { setId });
  }

  async readChunks(ids: Buffer[]): Promise<(Buffer | null)[]> {
    const parts = batches(ids, IDS_PER_REQUEST, Infinity, () => 0);
    const out = await Promise.all(parts.map(async (part) => {
      const got: (Buffer | null)[] = [];
      // The server sends what fits one reply; ask again for the rest.
      while (got.length < part.length) {
        const r = await this.call<(Buffer | null)[]>('readChunks', { ids: part.slice(got.length) });
        if (!Array.isArray(r) || r.length === 0 || r.length > part.length - got.length) {
          throw new ProtocolError('the server answered a chunk read with the wrong number of chunks');
        }
        got.push(...r);
      }
      return got;
    }));
    return out.flat();
  }

  /** Closes the session on the server, then the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.conn.isOpen) await this.call('close');
    } catch (err) {
      // A lost connection closes the session on the server all the same.
      if (!(err instanceof ConnectionError)) throw err;
    } finally {
      this.conn.close();
      await this.conn.closed;
    }
  }
}
