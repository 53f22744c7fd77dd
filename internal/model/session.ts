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

/** scrypt cost of a login's password stretching. */
export interface ScryptParams {
  n: number;
  r: number;
  p: number;
}

/** A login for a tardisd: what the client sends when it creates its repository or changes its password. */
export interface AuthSetup {
  salt: Buffer;
  verifier: Buffer;
  kdf: ScryptParams;
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

/**
 * A directory by where it was listed: entry `index` of the listing sent earlier in this backup
 * with `ref`. It lets a client send a subdirectory's listing before the reply that names its
 * node has come back, so listings stream over a network instead of one round trip each.
 */
export interface DirRef {
  ref: number;
  index: number;
}

export interface DirRequest {
  dir: number | DirRef; // node id of the directory (ROOT_NODE for "/"), or where it was listed
  ref?: number; // names this listing for later DirRefs to its subdirectories (unique per backup)
  partial: boolean; // true for ancestors of a backup root: entries not listed are kept
  hash: Buffer | null; // keyed hash of the full listing (null for partial listings)
  entries: NamedEntry[];
}

export interface DirReply {
  dir: number; // node id of the directory listed
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
  /** Names of the sets AutoPurge deleted after this one completed. */
  autoPurged?: string[];
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

/** How a set changed a path against the set before it. */
export type ChangeStatus = 'new' | 'changed' | 'deleted';

/** A page of what a set changed (`sonic files`). */
export interface ChangesPage {
  entries: { dir: Buffer[]; entry: VisibleEntry; status: ChangeStatus }[];
  /** Pass as `after` for the next page; null when this was the last. */
  next: number | null;
}

/** A repository's policy settings (`sonic getconfig`). */
export interface SettingsReport {
  /** Every policy key (Formats, Priorities, KeepDays, ForceFull, AutoPurge, Disabled) as in effect. */
  effective: Record<string, string>;
  /** The keys this repository overrides, with their values. */
  overrides: Record<string, string>;
  /** Whether the server lets a repository override its settings (tardisd's AllowClientOverrides). */
  overridesAllowed: boolean;
}

/** New key slots for a repository: `sonic setpass`, `chpass` and `keys`. */
export interface KeysChange {
  /** Replaces every key slot; empty when the keys now live only in a key file. */
  slots: KeySlotData[];
  /** Whether opening now takes a password (the repository config's `encrypted`). */
  encrypted: boolean;
  /** The new tardisd login; absent keeps the current one. */
  login?: AuthSetup;
}

/** Damaged chunk ids one check report or users question carries at most (the rest are counted). */
export const CHECK_MAX_IDS = 100_000;

/** One finding of `sonic check`'s structural pass. */
export interface CheckFinding {
  /** catalog, pack, chunk, content, snapshot, stray, set-record. */
  kind: string;
  /** What it is about: a pack or snapshot name, a set id, "catalog". */
  subject: string;
  message: string;
}

/** The repository side's consistency check of the store against the catalog (no keys needed). */
export interface CheckReport {
  /** The packs the catalog lists, to choose which to read back (`--read-data-subset`). */
  packs: { name: string; size: number; chunks: number }[];
  /** Damage: something the catalog names cannot be read back as it records it. */
  problems: CheckFinding[];
  /** Harmless: leftovers of killed runs that gc removes, set records the next backup rewrites. */
  notes: CheckFinding[];
  /** Chunk ids that are missing or not where the catalog says (at most CHECK_MAX_IDS). */
  damaged: Buffer[];
  /** How many damaged chunks there are in all. */
  damagedCount: number;
  counts: { sets: number; packs: number; chunks: number; contents: number; versions: number };
}

/** Who uses some chunks; `chunks` are indexes into the ids asked about. */
export interface ChunkUsers {
  /** Files by encrypted path (root first) and the sets that hold the damaged versions. */
  files: { path: Buffer[]; sets: number[]; chunks: number[] }[];
  /** Sets whose snapshot (the rebuild source of their tree) uses the chunks. */
  snapshots: { setId: number; chunks: number[] }[];
  /** More files use them than are listed. */
  truncated: boolean;
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
  /** What deleting this set alone would free: contents no other set uses (`sonic info`). */
  setUsage(setId: number): Promise<{ files: number; bytes: number }>;
  /** What a set added or changed, and what of the set before it is gone, with directories as encrypted paths. */
  setChanges(setId: number, after: number, limit: number): Promise<ChangesPage>;
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
  /** The policy in effect and this repository's overrides. */
  getSettings(): Promise<SettingsReport>;
  /** Sets (or, with null, drops) policy overrides, checked as a whole. */
  setSettings(changes: Record<string, string | null>): Promise<SettingsReport>;
  /** Replaces the key slots (and the login): a password change re-wraps, it never re-encrypts. */
  setKeys(change: KeysChange): Promise<void>;
  // Checking (`sonic check`; the repository side needs no keys for these).
  /** Structure and catalog-against-store consistency. */
  checkRepository(): Promise<CheckReport>;
  /** The chunk ids the catalog places in a pack, in pack order. */
  packChunkIds(pack: string): Promise<Buffer[]>;
  /** The files (by encrypted path) and set snapshots that use these chunks (at most CHECK_MAX_IDS). */
  chunkUsers(ids: Buffer[]): Promise<ChunkUsers>;
  close(): Promise<void>;
}
