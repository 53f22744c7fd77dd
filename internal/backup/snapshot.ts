// The set's tree as a snapshot in the store (see internal/snapshot). When the run changed nothing
// against the set before it, that set's snapshot is the same byte stream: its chunks and hash are
// reused instead of reading, encoding and hashing the whole tree again.
import type { Keyring } from '../keyring/keyring.ts';
import type { RepoSession } from '../model/session.ts';
import { BLOB_TREE } from '../pack/index.ts';
import { encodeSet, openManifest, SNAPSHOT_VERSION, TREE_CHUNKER } from '../snapshot/snapshot.ts';
import type { SealPool } from './sealpool.ts';
import { newStats } from './stats.ts';
import { Uploader } from './upload.ts';

export interface SetSnapshot {
  versions: number;
  size: number;
  hash: Buffer;
  chunks: Buffer[];
  /** Plaintext bytes of it the repository did not have. */
  bytesNew: number;
}

/** The snapshot of set `setId - 1` if `setId` holds exactly its versions, else null. */
async function unchangedSince(session: RepoSession, keyring: Keyring, setId: number): Promise<SetSnapshot | null> {
  const changes = await session.setChanges(setId, 0, 1);
  if (changes.entries.length > 0) return null;
  // setChanges compares with the set just before; only that one's snapshot has the same stream.
  const prev = (await session.listSets()).filter((s) => s.id < setId).at(-1);
  if (!prev?.completed || prev.id !== setId - 1) return null;
  const blob = await session.readSnapshot(prev.id);
  if (!blob) return null;
  const m = openManifest(keyring, prev.id, blob);
  if (m.v !== SNAPSHOT_VERSION) return null;
  return { versions: m.versions, size: m.size, hash: Buffer.from(m.hash), chunks: m.chunks.map((c) => Buffer.from(c)), bytesNew: 0 };
}

/** Stores the set's tree (or finds it stored already); returns what the manifest names. */
export async function snapshotSet(session: RepoSession, keyring: Keyring, pool: SealPool, setId: number, resumed: boolean): Promise<SetSnapshot> {
  const same = resumed ? null : await unchangedSince(session, keyring, setId).catch(() => null);
  if (same) return same;
  const stats = newStats();
  const counter = { versions: 0 };
  const uploader = new Uploader(session, keyring, stats, { pool });
  const snap = await uploader.stream(encodeSet(session, setId, counter), BLOB_TREE, TREE_CHUNKER);
  await uploader.flush();
  return { versions: counter.versions, ...snap, bytesNew: stats.bytesNew };
}
