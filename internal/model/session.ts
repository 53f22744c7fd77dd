// The repository session API: what a client may ask of a repository. The server implements it
// (internal/server); for file: repositories the client calls that implementation in-process,
// for tardisd the protocol carries the same requests. Everything here is msgpack-safe data.
import type { NamedEntry, SetVersion, VisibleEntry } from './entry.ts';

export interface ChunkerConfig {
  min: number;
  avg: number;
  max: number;
}

/** The plain `config` file of a repository (no secrets). */
export interface RepoConfig {
  version: 1;
  id: string;
  created: string;
  chunker: ChunkerConfig;
  aead: 'chacha20-poly1305' | 'aes-256-gcm';
  compression: 'zstd' | 'gzip' | 'none';
  encrypted: boolean; // false: the key slot is not password-protected
}

/** A password-wrapped master key (see internal/crypto). Opaque to the server. */
export type KeySlotData = Record<string, unknown>;

export interface RepoInfo {
  client: string;
  config: RepoConfig;
  keySlots: KeySlotData[];
}

export interface SetInfo {
  id: number;
  name: string;
  completed: boolean;
  priority: number;
  keepDays: number;
  full: boolean;
  locked: boolean;
  startTime: number;
  endTime: number | null;
  clientTime: number | null;
  stats: Record<string, number> | null;
  error: string | null;
  tags: Buffer[]; // encrypted
}

export interface BeginBackupRequest {
  name?: string;
  tags: Buffer[]; // encrypted tag names
  moveTags?: boolean;
  full: boolean;
  clientTime: number;
  clientVersion: string;
  force?: boolean;
}

export interface BeginBackupReply {
  setId: number;
  name: string | null; // explicit name, if any
  resumed: boolean;
}

export interface DirRequest {
  dir: number; // node id of the directory (ROOT_NODE for "/")
  partial: boolean; // true for ancestors of a backup root: entries not listed are kept
  hash: Buffer | null; // keyed hash of the full listing (null for partial listings)
  entries: NamedEntry[];
}

export interface DirReply {
  unchanged: boolean; // the listing hash matched: nothing in this directory changed
  nodes: number[]; // node id per entry (0 where not needed)
  need: number[]; // indexes of entries whose content must be sent
}

export interface ChunkUpload {
  id: Buffer;
  type: number;
  blob: Buffer; // sealed (compressed + encrypted) by the client
}

export interface FileCommit {
  dir: number;
  entry: NamedEntry;
  hash: Buffer | null; // keyed content hash; null when the file could not be read
  chunks: Buffer[]; // chunk ids in order
}

export interface FinishRequest {
  stats: Record<string, number>;
  /** Sealed snapshot manifest (see internal/snapshot); its chunks were uploaded before. */
  snapshot: Buffer | null;
  /** The chunk ids the manifest lists, in the clear (keyed ids reveal nothing): garbage collection keeps them. */
  snapshotChunks?: Buffer[];
}

export interface VersionsPage {
  entries: SetVersion[];
  /** Pass as `after` for the next page; null when this was the last. */
  next: number | null;
}

export interface FinishReply {
  setId: number;
  name: string;
  priority: number;
}

/** Which sets a purge deletes: all of these must hold (locked sets never go). */
export interface PurgeRule {
  /** Priority at most this. */
  priority: number;
  /** Ended (or, if incomplete, started) at or before this time (ms since the epoch). */
  before: number;
  /** Id below this one (the reference set is never purged). */
  belowId: number;
  /** Only incomplete sets. */
  incompleteOnly?: boolean;
}

export interface GcOptions {
  /** Rewrite a pack when less than this fraction of its bytes is still used (0..1; default 0.5). */
  repackBelow?: number;
}

export interface GcReport {
  contentsDeleted: number;
  chunksDeleted: number;
  packsDeleted: number;
  packsRepacked: number;
  packsWritten: number;
  strayFilesDeleted: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** What `updateSet` changes; absent fields stay. Tags are encrypted names. */
export interface SetChange {
  name?: string;
  priority?: number;
  locked?: boolean;
  addTags?: Buffer[];
  removeTags?: Buffer[];
  /** Take an added tag from the set that has it (else that is an error). */
  moveTags?: boolean;
}

export interface RepoSession {
  info(): Promise<RepoInfo>;
  // Backup.
  beginBackup(req: BeginBackupRequest): Promise<BeginBackupReply>;
  sendDir(req: DirRequest): Promise<DirReply>;
  missingChunks(ids: Buffer[]): Promise<number[]>;
  putChunks(chunks: ChunkUpload[]): Promise<void>;
  commitFiles(files: FileCommit[]): Promise<void>;
  /** The walk is over: make everything sent durable and settle the set's tree. */
  endWalk(): Promise<void>;
  finishBackup(req: FinishRequest): Promise<FinishReply>;
  abortBackup(reason: string): Promise<void>;
  // Reading.
  listSets(): Promise<SetInfo[]>;
  listDir(setId: number, dir: number): Promise<VisibleEntry[]>;
  lookup(setId: number, dir: number, name: Buffer): Promise<VisibleEntry | null>;
  /** Versions visible in a set, in pages (snapshots, rebuilds, exports). */
  setVersions(setId: number, after: number, limit: number): Promise<VersionsPage>;
  /** The sealed snapshot manifest of a set, if it has one. */
  readSnapshot(setId: number): Promise<Buffer | null>;
  /** Sealed blobs in the order asked; null where a chunk is missing or its pack unreadable. */
  readChunks(ids: Buffer[]): Promise<(Buffer | null)[]>;
  // Maintenance (each takes the repository's backup lock while it runs).
  /** Renames, re-prioritises, locks/unlocks or (un)tags a set. */
  updateSet(id: number, change: SetChange): Promise<SetInfo>;
  /** Deletes sets and what only they could see; their data goes at the next collectGarbage. */
  deleteSets(ids: number[]): Promise<number>;
  /** The sets `rule` selects; deleted unless `dryRun`. */
  purge(rule: PurgeRule, dryRun: boolean): Promise<SetInfo[]>;
  /** Removes data no set needs and rewrites mostly unused packs, so the space is returned. */
  collectGarbage(opts: GcOptions): Promise<GcReport>;
  close(): Promise<void>;
}
