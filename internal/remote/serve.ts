// The server half of a RepoSession over a connection: each request type maps to one session
// method, its body checked (validate.ts) before the engine sees it. Requests are passed on in
// the order they arrive, so pipelined writes keep their order (the session serialises them).
import type { Message } from '../protocol/codec.ts';
import type { Connection, RequestContext } from '../protocol/connection.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { BeginBackupReply, BeginBackupRequest, RepoSession } from '../model/session.ts';
import * as v from './validate.ts';

/** Replies carrying chunk data stop growing at about this size; the client asks for the rest. */
export const REPLY_BUDGET = 48 << 20;
/** What one sealed chunk may take beyond the repository's largest chunk (compression frame, AEAD). */
const SEAL_OVERHEAD = 64 << 10;

export interface ServeOptions {
  /** Called before a backup begins (tardisd refuses a second backup of the same client here). */
  beforeBegin?: (req: BeginBackupRequest) => Promise<void>;
  /** Called when the session's backup is over (finished, aborted, or the session closed). */
  afterBackup?: () => void;
  /** Largest chunk of the repository (its chunker max), to size chunk-reading replies. */
  maxChunk?: number;
}

export type Handler = (type: string, msg: Message, ctx?: RequestContext) => Promise<unknown>;

/**
 * Requests whose replies can be large. One at a time per connection, and the next starts only
 * once the previous reply has gone out: a client that asks much and reads slowly (or not at all)
 * holds at most one such reply in the server's memory.
 */
const HEAVY = new Set(['readChunks', 'readSnapshot', 'setVersions', 'listDir', 'checkRepository', 'packChunkIds', 'chunkUsers']);
const WRITES = new Set(['beginBackup', 'sendDir', 'missingChunks', 'putChunks', 'commitFiles', 'endWalk', 'finishBackup', 'abortBackup']);

class Gate {
  private busy = false;
  private readonly waiters: (() => void)[] = [];

  async acquire(): Promise<void> {
    while (this.busy) await new Promise<void>((r) => this.waiters.push(r));
    this.busy = true;
  }

  release(): void {
    this.busy = false;
    this.waiters.shift()?.();
  }
}

/** Request types, for the fuzz tests and the client. */
export const SESSION_REQUESTS = [
  'info', 'beginBackup', 'sendDir', 'missingChunks', 'putChunks', 'commitFiles', 'endWalk', 'finishBackup', 'abortBackup',
  'listSets', 'listDir', 'lookup', 'setVersions', 'readSnapshot', 'readChunks', 'updateSet', 'deleteSets', 'purge', 'collectGarbage',
  'getSettings', 'setSettings', 'setKeys', 'setChanges', 'setUsage', 'checkRepository', 'packChunkIds', 'chunkUsers', 'close',
] as const;

/**
 * Returns the request handler of `session`. An unknown request type is a protocol error (the
 * connection ends). `close` closes the session; the connection's end must close it too.
 */
export function sessionHandler(session: RepoSession, opts: ServeOptions = {}): Handler {
  const maxBlob = (opts.maxChunk ?? 8 << 20) + SEAL_OVERHEAD;
  let inBackup = false;
  const ended = () => {
    if (!inBackup) return;
    inBackup = false;
    opts.afterBackup?.();
  };

  async function begin(req: BeginBackupRequest): Promise<BeginBackupReply> {
    await opts.beforeBegin?.(req);
    inBackup = true;
    try {
      return await session.beginBackup(req);
    } catch (err) {
      ended();
      throw err;
    }
  }

  /** Chunks in order, as many as fit the reply budget (at least one); the client asks again for the rest. */
  async function readChunks(ids: Buffer[]): Promise<(Buffer | null)[]> {
    const out: (Buffer | null)[] = [];
    let bytes = 0;
    while (out.length < ids.length) {
      let n = Math.floor((REPLY_BUDGET - bytes) / maxBlob);
      if (n === 0) {
        if (out.length > 0) break;
        n = 1;
      }
      const got = await session.readChunks(ids.slice(out.length, out.length + n));
      for (const b of got) {
        out.push(b);
        bytes += b?.length ?? 0;
      }
    }
    return out;
  }

  /** A page of versions, shrunk until it fits a reply (file chunk lists can be long). */
  async function setVersions(setId: number, after: number, limit: number) {
    for (let n = limit; ; n = Math.ceil(n / 4)) {
      const page = await session.setVersions(setId, after, n);
      const size = page.entries.reduce((s, e) => s + 256 + e.name.length + (e.chunks?.length ?? 0) + (e.target?.length ?? 0), 0);
      if (size <= REPLY_BUDGET || n === 1) return page;
    }
  }

  /** A page of changes, shrunk until it fits a reply. */
  async function setChanges(setId: number, after: number, limit: number) {
    for (let n = limit; ; n = Math.ceil(n / 4)) {
      const page = await session.setChanges(setId, after, n);
      const size = page.entries.reduce((s, e) => s + 256 + e.entry.name.length + e.dir.reduce((d, p) => d + p.length + 8, 0) + (e.entry.chunks?.length ?? 0), 0);
      if (size <= REPLY_BUDGET || n === 1) return page;
    }
  }

  const gate = new Gate();
  // Backup requests reach the session one after the other, in arrival order, even when one
  // (beginBackup) must first wait for something else.
  let writes: Promise<unknown> = Promise.resolve();

  return async (type: string, m: Message, ctx?: RequestContext): Promise<unknown> => {
    if (WRITES.has(type)) {
      const p = writes.then(() => run(type, m));
      writes = p.catch(() => undefined);
      return p;
    }
    if (!HEAVY.has(type)) return run(type, m);
    await gate.acquire();
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        gate.release();
      }
    };
    try {
      const r = await run(type, m);
      if (ctx) void ctx.sent.then(release);
      else release();
      return r;
    } catch (err) {
      release();
      throw err;
    }
  };

  async function run(type: string, m: Message): Promise<unknown> {
    switch (type) {
      case 'info': return session.info();
      case 'beginBackup': return begin(v.beginBackupReq(m));
      case 'sendDir': return session.sendDir(v.dirReq(m));
      case 'missingChunks': return session.missingChunks(v.idsReq(type, m));
      case 'putChunks': return session.putChunks(v.putChunksReq(m));
      case 'commitFiles': return session.commitFiles(v.commitFilesReq(m));
      case 'endWalk': return session.endWalk();
      case 'finishBackup': {
        const r = await session.finishBackup(v.finishReq(m));
        ended();
        return r;
      }
      case 'abortBackup':
        try {
          return await session.abortBackup(v.reasonReq(m));
        } finally {
          ended();
        }
      case 'listSets': return session.listSets();
      case 'listDir': {
        const r = v.setDirReq(type, m);
        return session.listDir(r.setId, r.dir);
      }
      case 'lookup': {
        const r = v.lookupReq(m);
        return session.lookup(r.setId, r.dir, r.name);
      }
      case 'setVersions': {
        const r = v.versionsReq(m);
        return setVersions(r.setId, r.after, r.limit);
      }
      case 'readSnapshot': return session.readSnapshot(v.setReq(type, m));
      case 'readChunks': return readChunks(v.idsReq(type, m));
      case 'updateSet': {
        const r = v.updateSetReq(m);
        return session.updateSet(r.id, r.change);
      }
      case 'deleteSets': return session.deleteSets(v.setIdsReq(m));
      case 'purge': {
        const r = v.purgeReq(m);
        return session.purge(r.rule, r.dryRun);
      }
      case 'collectGarbage': return session.collectGarbage(v.gcReq(m));
      case 'setChanges': {
        const r = v.versionsReq(m);
        return setChanges(r.setId, r.after, r.limit);
      }
      case 'setUsage': return session.setUsage(v.setReq(type, m));
      case 'getSettings': return session.getSettings();
      case 'setSettings': return session.setSettings(v.setSettingsReq(m));
      case 'setKeys': return session.setKeys(v.setKeysReq(m));
      case 'checkRepository': return session.checkRepository();
      case 'packChunkIds': return session.packChunkIds(v.packReq(m));
      case 'chunkUsers': return session.chunkUsers(v.idsReq(type, m));
      case 'close':
        try {
          return await session.close();
        } finally {
          ended();
        }
      default:
        throw new ProtocolError(`unknown request '${type.slice(0, 64)}'`);
    }
  }
}

/**
 * Serves `session` on `conn` (already past any login) until the connection ends, then closes
 * the session (an open backup is aborted; what it sent is kept).
 */
export async function serveSession(conn: Connection, session: RepoSession, opts: ServeOptions = {}): Promise<void> {
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= session.close());
  const handle = sessionHandler(session, opts);
  conn.onRequest((type, m, ctx) => (type === 'close' ? close() : handle(type, m, ctx)));
  await conn.closed;
  await close().catch(() => undefined);
}
