// Per-set snapshots: the set's whole tree (every visible version, with its content's chunk
// list) as a stream of msgpack pages, stored as ordinary deduplicated chunks, plus a small
// sealed manifest naming them. The catalog can be rebuilt from snapshots and packs alone, and
// an unchanged tree costs no new chunks.
import { Packr } from 'msgpackr';
import type { ChunkerParams } from '../chunker/index.ts';
import { IntegrityError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { SetVersion } from '../model/entry.ts';
import type { RepoSession } from '../model/session.ts';

/** v2 adds `set`; v1 manifests (no set metadata) are still read. */
export const SNAPSHOT_VERSION = 2;
/** Versions asked of the repository at a time. */
const FETCH = 5000;
/**
 * A page ends after a version whose node id hashes into 1/PAGE_SPREAD of the range, so page
 * boundaries depend on the entries, not on their count: a version added or gone changes its own
 * page only, and the stream's other bytes (so its chunks) stay as they were.
 */
const PAGE_SPREAD_BITS = 6;
/** A bound that random ids practically never reach (e^-64), so it costs no stability. */
const PAGE_MAX = 4096;
/**
 * Trees are chunked finer than file data: a day's changes touch a few scattered versions, and
 * each touched chunk is stored anew (with 512 KiB..8 MiB chunks, the whole tree of a small set).
 */
export const TREE_CHUNKER: Readonly<ChunkerParams> = Object.freeze({ min: 2 * 1024, avg: 8 * 1024, max: 64 * 1024 });
const AAD = 'tardis-snapshot-v1'; // a domain label, not the format version: v1 and v2 share it
// Plain msgpack: no records/structured clone extensions, so decoding is data only.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

/**
 * What the client knew of its set when it sealed the manifest (v2). The name the repository
 * chose, the priority and later changes (lock, tags, renames) are not here: the repository
 * side keeps those in its set records (internal/server/setrecord.ts).
 */
export interface ManifestSet {
  /** The name asked for with --name, if any. */
  name: string | null;
  /** Encrypted tag names given with --tag. */
  tags: Buffer[];
  full: boolean;
  /** When the client started the backup (ms since the epoch). */
  clientTime: number;
  clientVersion: string;
  stats: Record<string, number>;
}

export interface Manifest {
  v: number;
  setId: number;
  versions: number;
  size: number;
  hash: Buffer;
  chunks: Buffer[];
  /** v2 on. */
  set?: ManifestSet;
}

function endsPage(node: number): boolean {
  return Math.imul(node, 0x9e3779b1) >>> (32 - PAGE_SPREAD_BITS) === 0;
}

function encodePage(page: SetVersion[]): Buffer {
  const body = packr.pack(page);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** The set's versions as length-prefixed msgpack pages, in version-id order. */
export async function* encodeSet(session: RepoSession, setId: number, counter: { versions: number }): AsyncGenerator<Buffer> {
  let after = 0;
  let page: SetVersion[] = [];
  for (;;) {
    const got = await session.setVersions(setId, after, FETCH);
    counter.versions += got.entries.length;
    for (const e of got.entries) {
      page.push(e);
      if (endsPage(e.node) || page.length >= PAGE_MAX) {
        yield encodePage(page);
        page = [];
      }
    }
    if (got.next === null) break;
    after = got.next;
  }
  if (page.length) yield encodePage(page);
}

export function decodePages(data: Buffer): SetVersion[] {
  const out: SetVersion[] = [];
  for (let at = 0; at < data.length;) {
    if (at + 4 > data.length) throw new IntegrityError('snapshot stream is truncated');
    const len = data.readUInt32BE(at);
    if (at + 4 + len > data.length) throw new IntegrityError('snapshot stream is truncated');
    const page = packr.unpack(data.subarray(at + 4, at + 4 + len)) as SetVersion[];
    if (!Array.isArray(page)) throw new IntegrityError('snapshot page is malformed');
    out.push(...page);
    at += 4 + len;
  }
  return out;
}

export function sealManifest(keyring: Keyring, m: Manifest): Buffer {
  return keyring.seal(`${AAD}:${m.setId}`, packr.pack(m));
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The v2 set metadata, checked field by field (a sealed blob is authentic, not necessarily well formed). */
function checkSet(s: unknown): s is ManifestSet {
  if (typeof s !== 'object' || s === null) return false;
  const m = s as Record<string, unknown>;
  return (m.name === null || typeof m.name === 'string') && Array.isArray(m.tags) && m.tags.every((t) => t instanceof Uint8Array) &&
    typeof m.full === 'boolean' && isNum(m.clientTime) && typeof m.clientVersion === 'string' &&
    typeof m.stats === 'object' && m.stats !== null && Object.values(m.stats).every(isNum);
}

export function openManifest(keyring: Keyring, setId: number, blob: Buffer): Manifest {
  const m = packr.unpack(keyring.open(`${AAD}:${setId}`, blob)) as Manifest;
  const known = m && (m.v === 1 || (m.v === SNAPSHOT_VERSION && checkSet(m.set)));
  if (!known || m.setId !== setId || !Array.isArray(m.chunks)) throw new IntegrityError(`snapshot of set ${setId} is malformed`);
  if (m.set) m.set = { ...m.set, tags: m.set.tags.map((t) => Buffer.from(t)) };
  return m;
}

/** Reads chunks by id: null where one is missing (RepoSession.readChunks, or a rebuild's own reader). */
export type ChunkReader = (ids: Buffer[]) => Promise<(Buffer | null)[]>;

/** Opens a sealed manifest and reads the tree it names: the manifest and every version recorded. */
export async function loadSnapshot(keyring: Keyring, setId: number, blob: Buffer, read: ChunkReader): Promise<{ manifest: Manifest; versions: SetVersion[] }> {
  const m = openManifest(keyring, setId, blob);
  const parts: Buffer[] = [];
  for (let i = 0; i < m.chunks.length; i += 16) {
    const ids = m.chunks.slice(i, i + 16).map((c) => Buffer.from(c));
    const blobs = await read(ids);
    blobs.forEach((b, j) => {
      if (!b) throw new IntegrityError(`snapshot of set ${setId}: chunk ${ids[j]!.toString('hex').slice(0, 16)} is missing`);
      parts.push(keyring.openChunk(ids[j]!, b));
    });
  }
  const data = Buffer.concat(parts);
  if (!keyring.contentHasher().update(data).digest().equals(Buffer.from(m.hash))) throw new IntegrityError(`snapshot of set ${setId} does not match its hash`);
  return { manifest: m, versions: decodePages(data) };
}

/** Reads a set's snapshot back: every version it recorded. */
export async function readSnapshot(session: RepoSession, keyring: Keyring, setId: number): Promise<SetVersion[] | null> {
  const blob = await session.readSnapshot(setId);
  if (!blob) return null;
  return (await loadSnapshot(keyring, setId, blob, (ids) => session.readChunks(ids))).versions;
}

/** Opens snapshots with the keys for a rebuild (the SnapshotOpener of internal/server/rebuild.ts). */
export function snapshotOpener(keyring: Keyring) {
  return async (setId: number, blob: Buffer, read: ChunkReader) => {
    const s = await loadSnapshot(keyring, setId, blob, read);
    return { set: s.manifest.set ?? null, chunks: s.manifest.chunks.map((c) => Buffer.from(c)), versions: s.versions };
  };
}
