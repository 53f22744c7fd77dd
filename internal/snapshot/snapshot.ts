// Per-set snapshots: the set's whole tree (every visible version, with its content's chunk
// list) as a stream of msgpack pages, stored as ordinary deduplicated chunks, plus a small
// sealed manifest naming them. The catalog can be rebuilt from snapshots and packs alone, and
// an unchanged tree costs no new chunks.
import { Packr } from 'msgpackr';
import { IntegrityError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { SetVersion } from '../model/entry.ts';
import type { RepoSession } from '../model/session.ts';

export const SNAPSHOT_VERSION = 1;
const PAGE = 5000;
const AAD = 'tardis-snapshot-v1';
// Plain msgpack: no records/structured clone extensions, so decoding is data only.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

export interface Manifest {
  v: number;
  setId: number;
  versions: number;
  size: number;
  hash: Buffer;
  chunks: Buffer[];
}

/** The set's versions as length-prefixed msgpack pages. */
export async function* encodeSet(session: RepoSession, setId: number, counter: { versions: number }): AsyncGenerator<Buffer> {
  let after = 0;
  for (;;) {
    const page = await session.setVersions(setId, after, PAGE);
    counter.versions += page.entries.length;
    if (page.entries.length) {
      const body = packr.pack(page.entries);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      yield Buffer.concat([head, body]);
    }
    if (page.next === null) return;
    after = page.next;
  }
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

export function openManifest(keyring: Keyring, setId: number, blob: Buffer): Manifest {
  const m = packr.unpack(keyring.open(`${AAD}:${setId}`, blob)) as Manifest;
  if (!m || m.v !== SNAPSHOT_VERSION || m.setId !== setId || !Array.isArray(m.chunks)) throw new IntegrityError(`snapshot of set ${setId} is malformed`);
  return m;
}

/** Reads a set's snapshot back: every version it recorded. */
export async function readSnapshot(session: RepoSession, keyring: Keyring, setId: number): Promise<SetVersion[] | null> {
  const blob = await session.readSnapshot(setId);
  if (!blob) return null;
  const m = openManifest(keyring, setId, blob);
  const parts: Buffer[] = [];
  for (let i = 0; i < m.chunks.length; i += 16) {
    const ids = m.chunks.slice(i, i + 16).map((c) => Buffer.from(c));
    const blobs = await session.readChunks(ids);
    blobs.forEach((b, j) => {
      if (!b) throw new IntegrityError(`snapshot of set ${setId}: chunk ${ids[j]!.toString('hex').slice(0, 16)} is missing`);
      parts.push(keyring.openChunk(ids[j]!, b));
    });
  }
  const data = Buffer.concat(parts);
  if (!keyring.contentHasher().update(data).digest().equals(Buffer.from(m.hash))) throw new IntegrityError(`snapshot of set ${setId} does not match its hash`);
  return decodePages(data);
}
