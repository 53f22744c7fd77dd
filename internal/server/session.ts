// One repository session: the server side of every client request. tardisd runs one per
// connection; file: repositories run it in-process, so both modes share this code.
import { randomBytes } from 'node:crypto';
import type { Stmt } from '../catalog/index.ts';
import * as cat from '../catalog/index.ts';
import { chunkUsers, nodePaths } from '../catalog/check.ts';
import { NotFoundError, UsageError } from '../errors/errors.ts';
import { T_DIR, type NamedEntry, type VisibleEntry } from '../model/entry.ts';
import type { OpenVersion } from '../catalog/index.ts';
import type {
  BeginBackupReply, BeginBackupRequest, ChunkUpload, DirRef, DirReply, DirRequest, FileCommit, FinishReply, FinishRequest,
  ChangesPage, GcOptions, GcReport, KeysChange, PurgeRule, RepoInfo, RepoSession, SetChange, SetInfo, SettingsReport, VersionsPage,
} from '../model/session.ts';
import { collectGarbage, deleteSets, purge, purgeCandidates } from './maintenance.ts';
import { PackBuilder } from '../pack/index.ts';
import { autoName } from '../retention/naming.ts';
import { applyPolicyValues, autoPurgeRule, DEFAULT_POLICY, POLICY_KEYS, policyKey, policyValues, type RepoPolicy } from '../retention/policy.ts';
import { decide, NEED_CONTENT, NEW_VERSION } from './decide.ts';
import { BackupLock } from './lock.ts';
import type { ServerRepository } from './repository.ts';
import { Serial } from './serial.ts';
import { checkRepository } from './check.ts';
import { readStoredChunks } from './chunks.ts';
import { syncSetRecords, writeSetRecords } from './setrecord.ts';
import { packChunks } from '../catalog/maintenance.ts';
import { isValidName } from '../store/index.ts';
import { CHECK_MAX_IDS, type CheckReport, type ChunkUsers } from '../model/session.ts';

export interface SessionOptions {
  /** The configured policy (tardisd's, or the client's for file:); default DEFAULT_POLICY. */
  policy?: RepoPolicy;
  /** Whether the repository's own settings (sonic setconfig) override `policy` (default true). */
  allowOverrides?: boolean;
  /** Flush pending file versions once this many wait for their pack (bounds memory). */
  maxPendingFiles?: number;
  packSize?: number;
}

const MAX_DIR_ENTRIES = 1_000_000;
const MAX_NAME = 4096;
const MAX_PAGE = 10_000;
const MAX_SNAPSHOT = 64 << 20;

interface PendingDir {
  hash: Buffer;
  waiting: number;
}

/**
 * Catalog writes of directory listings not yet committed: they ride in the next transaction
 * (a pack's, or when this grows large), so a tree of new directories costs a few transactions
 * instead of one per directory. Reads of the catalog during the walk happen only after these
 * are written.
 */
class DirWrites {
  nodes: [number, number, string][] = [];
  closeTrees: number[] = [];
  closeNodes: number[] = [];
  versions: { node: number; e: NamedEntry; content: number | null }[] = [];
  unlisted: number[] = [];
  hashes: [number, Buffer][] = [];

  get size(): number {
    return this.nodes.length + this.versions.length + this.closeTrees.length + this.closeNodes.length;
  }

  /** The statements, in the order one directory's writes must run. */
  statements(b: { setId: number; lastSet: number }): Stmt[] {
    return [
      ...(this.nodes.length ? [cat.stmtInsertNodes(this.nodes)] : []),
      ...(this.closeTrees.length ? cat.stmtCloseSubtrees(this.closeTrees, b.lastSet) : []),
      ...(this.closeNodes.length ? [cat.stmtCloseNodes(this.closeNodes, b.lastSet)] : []),
      ...cat.stmtInsertNodeVersions(b.setId, this.versions),
      ...(this.unlisted.length ? [cat.stmtDeleteDirHashes(this.unlisted)] : []),
      ...(this.hashes.length ? [cat.stmtSetDirHashes(this.hashes)] : []),
    ];
  }
}

/** Pending directory writes are committed on their own once they hold this many rows. */
const MAX_DIR_ROWS = 20_000;
// Listings waiting for their subdirectories' listings: a walk's frontier, far below this.
const MAX_REFS = 1_000_000;

/** A DirRequest whose directory is known by node id. */
type ResolvedDir = DirRequest & { dir: number };

/** State of the backup a session is running. */
class Backup {
  readonly setId: number;
  readonly req: BeginBackupRequest;
  readonly lock: BackupLock;
  readonly startTime: number;
  openDirs: Map<string, number>;
  hashes: Map<number, string>;
  builder: PackBuilder;
  commits: FileCommit[] = [];
  pendingDirs = new Map<number, PendingDir>();
  readyHashes: [number, Buffer][] = [];
  partialSeen = new Map<number, Set<string>>();
  dirWrites = new DirWrites();
  /** Node ids from here on were added by this run (the backup lock keeps other writers out). */
  readonly freshFrom: number;
  nextNode: number;
  /** Directories listed in this run: a second listing must read what the first one wrote. */
  listed = new Set<number>();
  /** Listings sent with a ref: the node ids of their subdirectories not referred to yet, by index. */
  refs = new Map<number, Map<number, number>>();
  /** Node ids of the entries whose content was asked for, by `${dir}/${hex name}`, until committed. */
  needNodes = new Map<string, number>();
  /** Directories this run created and listed once: their names have no open versions to close. */
  freshDirs = new Set<number>();
  /** The catalog records file content: moved and hard-linked files can be found in it. */
  readonly hasFiles: boolean;
  /** The pack being stored in the background, until the catalog batch that waits for it ran. */
  storing: PackBuilder | null = null;
  writing: Promise<void> = Promise.resolve();
  /** Why a repository write failed: what is pending may name chunks of a pack never written. */
  failure: unknown = undefined;

  constructor(setId: number, req: BeginBackupRequest, lock: BackupLock, startTime: number, catalog: { openDirs: Map<string, number>; hashes: Map<number, string>; maxNode: number; hasFiles: boolean }, packSize?: number) {
    this.setId = setId;
    this.req = req;
    this.lock = lock;
    this.startTime = startTime;
    this.openDirs = catalog.openDirs;
    this.hashes = catalog.hashes;
    this.freshFrom = this.nextNode = catalog.maxNode + 1;
    this.hasFiles = catalog.hasFiles;
    this.builder = new PackBuilder(packSize);
  }

  /** The node a DirRequest names; a DirRef is used up by the listing it names. */
  resolveDir(d: number | DirRef): number {
    if (typeof d === 'number') return d;
    const dirs = this.refs.get(d.ref);
    const node = dirs?.get(d.index);
    if (node === undefined) throw new UsageError(`sendDir: entry ${d.index} of listing ${d.ref} is not a directory waiting for its listing`);
    dirs!.delete(d.index);
    if (dirs!.size === 0) this.refs.delete(d.ref);
    return node;
  }

  /** Keeps a listing's subdirectory nodes for the DirRefs that will name them. */
  remember(ref: number, req: DirRequest, nodes: number[]): void {
    if (this.refs.has(ref)) throw new UsageError(`sendDir: listing reference ${ref} is already in use`);
    const dirs = new Map<number, number>();
    req.entries.forEach((e, i) => {
      if (e.type === T_DIR && nodes[i]! > 0) dirs.set(i, nodes[i]!);
    });
    if (dirs.size === 0) return;
    if (this.refs.size >= MAX_REFS) throw new UsageError(`sendDir: more than ${MAX_REFS} listings wait for their subdirectories`);
    this.refs.set(ref, dirs);
  }

  /** Closed versions end in the set before this one. */
  get lastSet(): number {
    return this.setId - 1;
  }

  /** A chunk this run sent that is not in the catalog yet. */
  holds(id: Buffer): boolean {
    return this.builder.has(id) || (this.storing?.has(id) ?? false);
  }
}

function setInfo(s: cat.SetRow): SetInfo {
  return {
    id: s.id, name: s.name, completed: s.completed, priority: s.priority, keepDays: s.keepDays, full: s.full,
    locked: s.locked, startTime: s.startTime, endTime: s.endTime, clientTime: s.clientTime, stats: s.stats,
    error: s.error, tags: s.tags.map((t) => Buffer.from(t, 'hex')),
  };
}

function checkIds(ids: Buffer[]): Buffer[] {
  if (!Array.isArray(ids) || ids.length > MAX_SNAPSHOT / 32 || !ids.every((id) => Buffer.isBuffer(id) && id.length === 32)) {
    throw new UsageError('malformed chunk id list');
  }
  return ids;
}

function checkEntries(entries: NamedEntry[]): void {
  if (!Array.isArray(entries) || entries.length > MAX_DIR_ENTRIES) throw new UsageError('directory batch too large');
  const seen = new Set<string>();
  for (const e of entries) {
    if (!Buffer.isBuffer(e.name) || e.name.length === 0 || e.name.length > MAX_NAME) throw new UsageError('bad entry name in directory batch');
    const k = e.name.toString('hex');
    if (seen.has(k)) throw new UsageError('duplicate entry name in directory batch');
    seen.add(k);
  }
}

export class RepositorySession implements RepoSession {
  readonly repo: ServerRepository;
  private readonly opts: SessionOptions;
  private readonly serial = new Serial();
  private backup: Backup | null = null;

  constructor(repo: ServerRepository, opts: SessionOptions = {}) {
    this.repo = repo;
    this.opts = opts;
  }

  private get db(): cat.CatalogDb {
    return this.repo.db;
  }

  private active(): Backup {
    if (!this.backup) throw new UsageError('no backup in progress in this session');
    // The backup cannot go on after a failed repository write: its error (disk full…) says why.
    if (this.backup.failure !== undefined) throw this.backup.failure;
    return this.backup;
  }

  async info(): Promise<RepoInfo> {
    return { client: this.repo.client, config: this.repo.config, keySlots: await this.repo.keySlots() };
  }

  beginBackup(req: BeginBackupRequest): Promise<BeginBackupReply> {
    return this.serial.run(async () => {
      if (this.backup) throw new UsageError('a backup is already running in this session');
      const policy = await this.policy();
      if (policy.disabled) throw new UsageError(`backups of ${this.repo.client} are disabled by its setting Disabled (sonic setconfig --key Disabled --value false)`);
      const session = randomBytes(8).toString('hex');
      const lock = await BackupLock.acquire(this.repo.root, session, req.force === true);
      try {
        for (const tag of req.tags) {
          const holder = await cat.tagExists(this.db, tag);
          if (holder !== null && !req.moveTags) throw new UsageError(`a tag given with --tag already names set ${holder}; use --movetag to move it`);
        }
        if (req.name && (await cat.setNameExists(this.db, req.name))) throw new UsageError(`a set named ${req.name} already exists`);
        const sets = await cat.listSets(this.db);
        const last = sets[sets.length - 1];
        const startTime = Date.now();
        // ForceFull: the name this set will most likely get decides whether it is a full backup.
        const taken = new Set(sets.filter((s) => s.completed).map((s) => s.name));
        const full = req.full || (!req.name && autoName(new Date(startTime), (n) => taken.has(n), policy.naming).full);
        const fields = { startTime, clientTime: req.clientTime, session, clientVersion: req.clientVersion, full, name: req.name };
        let setId: number;
        let resumed = false;
        if (last && !last.completed) {
          // Resume: the interrupted set's committed versions are already current.
          setId = last.id;
          resumed = true;
          await cat.resumeSet(this.db, setId, fields);
        } else {
          setId = await cat.createSet(this.db, fields);
        }
        const [openDirs, hashes, maxNode, hasFiles] = await Promise.all([
          cat.openDirNodes(this.db), cat.dirHashes(this.db), cat.maxNodeId(this.db), cat.hasFileVersions(this.db),
        ]);
        this.backup = new Backup(setId, { ...req, full }, lock, startTime, { openDirs, hashes: full ? new Map() : hashes, maxNode, hasFiles }, this.opts.packSize);
        return { setId, name: req.name ?? null, resumed };
      } catch (err) {
        await lock.release();
        throw err;
      }
    });
  }

  sendDir(sent: DirRequest): Promise<DirReply> {
    return this.serial.run(async () => {
      const b = this.active();
      checkEntries(sent.entries);
      const dir = b.resolveDir(sent.dir);
      const req = { ...sent, dir };
      const reply = await this.listing(b, req);
      if (req.ref !== undefined) b.remember(req.ref, req, reply.nodes);
      return { ...reply, dir };
    });
  }

  /** Records one listing; an unchanged directory (same listing hash) costs no catalog work. */
  private async listing(b: Backup, req: ResolvedDir): Promise<Omit<DirReply, 'dir'>> {
    const dir = req.dir;
    const names = req.entries.map((e) => e.name.toString('hex'));
    if (req.partial) {
      const seen = b.partialSeen.get(dir) ?? new Set<string>();
      names.forEach((n) => seen.add(n));
      b.partialSeen.set(dir, seen);
    }
    const hashHex = req.hash ? req.hash.toString('hex') : null;
    if (!req.partial && hashHex && b.hashes.get(dir) === hashHex) {
      const nodes = names.map((n, i) => (req.entries[i]!.type === T_DIR ? (b.openDirs.get(`${dir}/${n}`) ?? -1) : 0));
      if (!nodes.includes(-1)) return { unchanged: true, nodes, need: [] };
    }
    return this.applyDir(b, req, names);
  }

  private async applyDir(b: Backup, req: ResolvedDir, names: string[]): Promise<Omit<DirReply, 'dir'>> {
    const dir = req.dir;
    // A directory this run created has no children in the catalog yet: nothing to read.
    const fresh = dir >= b.freshFrom && !b.listed.has(dir);
    b.listed.add(dir);
    let known = new Map<string, number>();
    let open = new Map<string, OpenVersion>();
    if (!fresh) {
      await this.settle(b);
      const children = await cat.dirChildren(this.db, dir);
      known = children.nodes;
      open = new Map(children.open.map((o) => [o.name.toString('hex'), o]));
    }
    if (fresh) b.freshDirs.add(dir);
    else b.freshDirs.delete(dir);
    const w = b.dirWrites;
    const nodes = names.map((n) => {
      let id = known.get(n);
      if (id === undefined) {
        id = b.nextNode++;
        w.nodes.push([id, dir, n]);
      }
      return id;
    });
    const needIdx: number[] = [];
    req.entries.forEach((e, i) => {
      const o = open.get(names[i]!);
      const d = decide(o, e, b.req.full);
      if (d === NEED_CONTENT) {
        needIdx.push(i);
      } else if (d === NEW_VERSION) {
        if (o) (o.type === T_DIR && e.type !== T_DIR ? w.closeTrees : w.closeNodes).push(o.node);
        w.versions.push({ node: nodes[i]!, e, content: e.type === 0 ? o!.content : null });
      }
    });
    // A file that moved or is a hard link of one already stored needs no reading.
    const moved = b.req.full || !b.hasFiles ? new Map<number, number>() : await cat.findMoved(
      this.db,
      needIdx.map((i) => ({ i, ...req.entries[i]! })),
      b.lastSet,
    );
    const need = needIdx.filter((i) => {
      const content = moved.get(i);
      if (content === undefined) {
        b.needNodes.set(`${dir}/${names[i]}`, nodes[i]!);
        return true;
      }
      const o = open.get(names[i]!);
      if (o) (o.type === T_DIR ? w.closeTrees : w.closeNodes).push(o.node);
      w.versions.push({ node: nodes[i]!, e: req.entries[i]!, content });
      return false;
    });
    if (!req.partial) {
      const listed = new Set(names);
      for (const [n, o] of open) if (!listed.has(n)) w.closeTrees.push(o.node);
      w.unlisted.push(dir);
      b.hashes.delete(dir);
      if (req.hash && need.length === 0) {
        w.hashes.push([dir, req.hash]);
        b.hashes.set(dir, req.hash.toString('hex'));
      } else if (req.hash) {
        b.pendingDirs.set(dir, { hash: req.hash, waiting: need.length });
      }
    }
    for (const o of open.values()) if (o.type === T_DIR) b.openDirs.delete(`${dir}/${o.name.toString('hex')}`);
    req.entries.forEach((e, i) => {
      if (e.type === T_DIR) b.openDirs.set(`${dir}/${names[i]}`, nodes[i]!);
    });
    if (w.size >= MAX_DIR_ROWS) await this.settle(b);
    return { unchanged: false, nodes, need };
  }

  missingChunks(ids: Buffer[]): Promise<number[]> {
    return this.serial.run(async () => {
      const b = this.backup;
      const missing = await cat.missingChunks(this.db, ids);
      return b ? missing.filter((i) => !b.holds(ids[i]!)) : missing;
    });
  }

  putChunks(chunks: ChunkUpload[]): Promise<void> {
    return this.serial.run(async () => {
      const b = this.active();
      for (const c of chunks) {
        if (!Buffer.isBuffer(c.id) || c.id.length !== 32 || !Buffer.isBuffer(c.blob)) throw new UsageError('malformed chunk upload');
        if (b.holds(c.id)) continue;
        b.builder.add(c.id, c.type, c.blob);
        if (b.builder.isFull()) await this.guard(b, () => this.rotate(b));
      }
    });
  }

  commitFiles(files: FileCommit[]): Promise<void> {
    return this.serial.run(async () => {
      const b = this.active();
      const ids = files.flatMap((f) => (f.hash ? f.chunks : []));
      const missing = (await cat.missingChunks(this.db, ids)).filter((i) => !b.holds(ids[i]!));
      if (missing.length) throw new UsageError(`file commit refers to ${missing.length} chunk(s) the repository does not have`);
      for (const f of files) {
        b.commits.push(f);
        const p = b.pendingDirs.get(f.dir);
        if (p && f.hash === null) {
          // A file that could not be read: the listing must not vouch for the directory, or the
          // next run would skip it as unchanged instead of trying the file again.
          b.pendingDirs.delete(f.dir);
          continue;
        }
        if (p) p.waiting--;
        if (p && p.waiting <= 0) {
          b.pendingDirs.delete(f.dir);
          b.readyHashes.push([f.dir, p.hash]);
        }
      }
      if (b.commits.length >= (this.opts.maxPendingFiles ?? 2000)) await this.guard(b, () => this.rotate(b));
    });
  }

  /** Makes everything sent so far durable and recorded. */
  private flush(b: Backup): Promise<void> {
    return this.guard(b, async () => {
      await this.rotate(b);
      await b.writing;
    });
  }

  /** Records the pending directory listings (and waits for the pack being stored): reads see all. */
  private settle(b: Backup): Promise<void> {
    return this.guard(b, async () => {
      await b.writing;
      const stmts = b.dirWrites.statements(b);
      b.dirWrites = new DirWrites();
      if (stmts.length) await this.db.batch(stmts, { lazy: true });
    });
  }

  private async guard(b: Backup, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // Nothing more may be recorded for this backup: a commit accepted earlier could refer
      // to chunks of the pack that failed, and would then name content the repository lacks.
      b.failure ??= err;
      throw err;
    }
  }

  /**
   * Starts storing the open pack; the file versions that wait for it (and the listings before
   * them) are recorded once it is durable, while the session takes the next chunks. One pack
   * at a time is in the background.
   */
  private async rotate(b: Backup): Promise<void> {
    await b.writing;
    const stmts: Stmt[] = b.dirWrites.statements(b);
    b.dirWrites = new DirWrites();
    const builder = b.builder.count > 0 ? b.builder : null;
    const pack = builder?.finish();
    if (builder) b.builder = new PackBuilder(this.opts.packSize);
    const commits = b.commits;
    b.commits = [];
    if (commits.length) {
      const stored = commits.filter((c) => c.hash);
      stmts.push(cat.stmtInsertContents(stored.map((c) => ({ hash: c.hash!, size: c.entry.size, chunks: c.chunks }))));
      const reopened = commits.filter((c) => !b.freshDirs.has(c.dir));
      if (reopened.length) stmts.push(cat.stmtCloseNamed(reopened.map((c) => ({ parent: c.dir, name: c.entry.name })), b.lastSet));
      // Versions of entries this session asked for go by node id; any other name by lookup.
      const byNode: { node: number; e: NamedEntry; content: Buffer }[] = [];
      const byName: { parent: number; e: NamedEntry; content: Buffer }[] = [];
      for (const c of commits) {
        const k = `${c.dir}/${c.entry.name.toString('hex')}`;
        const node = b.needNodes.get(k);
        b.needNodes.delete(k);
        if (!c.hash) continue;
        if (node === undefined) byName.push({ parent: c.dir, e: c.entry, content: c.hash });
        else byNode.push({ node, e: c.entry, content: c.hash });
      }
      stmts.push(...cat.stmtInsertNodeVersions(b.setId, byNode));
      if (byName.length) stmts.push(cat.stmtInsertVersions(b.setId, byName));
    }
    if (b.readyHashes.length) {
      stmts.push(cat.stmtSetDirHashes(b.readyHashes));
      for (const [n, h] of b.readyHashes) b.hashes.set(n, h.toString('hex'));
      b.readyHashes = [];
    }
    b.storing = builder;
    const put = pack ? this.repo.store.put('packs', pack.name, pack.data) : Promise.resolve();
    b.writing = (async () => {
      await put;
      if (pack) stmts.unshift(...cat.stmtInsertPack({ name: pack.name, size: pack.data.length, entries: pack.entries }));
      if (stmts.length) await this.db.batch(stmts, { lazy: true });
      b.storing = null;
    })();
    b.writing.catch((err: unknown) => {
      b.failure ??= err;
    });
  }

  endWalk(): Promise<void> {
    return this.serial.run(async () => {
      const b = this.active();
      await this.flush(b);
      // Names under the ancestors of this run's roots that this run did not visit are gone.
      for (const [dir, seen] of b.partialSeen) {
        const gone = (await cat.openVersions(this.db, dir)).filter((o) => !seen.has(o.name.toString('hex'))).map((o) => o.node);
        if (gone.length) await this.db.batch(cat.stmtCloseSubtrees(gone, b.lastSet), { lazy: true });
      }
      b.partialSeen.clear();
    });
  }

  finishBackup(req: FinishRequest): Promise<FinishReply> {
    return this.serial.run(async () => {
      const b = this.active();
      await this.flush(b); // the snapshot's chunks are durable before the manifest names them
      let snapshot: string | null = null;
      if (req.snapshot) {
        if (!Buffer.isBuffer(req.snapshot) || req.snapshot.length > MAX_SNAPSHOT) throw new UsageError('malformed snapshot manifest');
        snapshot = `${b.setId}-${randomBytes(8).toString('hex')}`;
        await this.repo.store.put('snapshots', snapshot, req.snapshot);
      }
      const policy = await this.policy();
      const taken = new Set((await cat.listSets(this.db)).filter((s) => s.id !== b.setId).map((s) => s.name));
      const auto = autoName(new Date(b.startTime), (n) => taken.has(n), policy.naming);
      const name = b.req.name ?? auto.name;
      await cat.completeSet(this.db, b.setId, {
        name, priority: auto.priority, keepDays: auto.keepDays, endTime: Date.now(), stats: req.stats ?? {},
        snapshot, snapshotChunks: checkIds(req.snapshotChunks ?? []), tags: b.req.tags, moveTags: b.req.moveTags === true,
      });
      this.backup = null;
      // Best effort: the set is complete whatever happens here, and the next sync (or check) mends a miss.
      await syncSetRecords(this.repo).catch(() => undefined);
      await this.db.checkpoint();
      await b.lock.release();
      const reply: FinishReply = { setId: b.setId, name, priority: auto.priority };
      const rule = policy.autoPurge ? autoPurgeRule({ id: b.setId, priority: auto.priority, keepDays: auto.keepDays, startTime: b.startTime }) : null;
      if (rule) {
        // AutoPurge (reference §6.2): what the new set makes redundant goes, with its data.
        const purged = await purge(this.repo, rule);
        if (purged.length) await collectGarbage(this.repo, { repackBelow: 0.5, packSize: this.opts.packSize });
        reply.autoPurged = purged.map((p) => p.name);
      }
      return reply;
    });
  }

  abortBackup(reason: string): Promise<void> {
    return this.serial.run(async () => {
      const b = this.backup;
      if (!b) return;
      this.backup = null;
      try {
        await b.writing.catch(() => undefined);
        if (b.failure === undefined) await this.flush(b); // what was sent is kept for the next run
        await cat.failSet(this.db, b.setId, reason, {});
      } finally {
        await b.lock.release();
      }
    });
  }

  async listSets(): Promise<SetInfo[]> {
    return (await cat.listSets(this.db)).map(setInfo);
  }

  listDir(setId: number, dir: number): Promise<VisibleEntry[]> {
    return cat.visibleEntries(this.db, dir, setId);
  }

  lookup(setId: number, dir: number, name: Buffer): Promise<VisibleEntry | null> {
    return cat.lookupChild(this.db, dir, name, setId);
  }

  async setVersions(setId: number, after: number, limit: number): Promise<VersionsPage> {
    const n = Math.max(1, Math.min(Number(limit) || 1, MAX_PAGE));
    const page = await cat.setVersionsPage(this.db, setId, Number(after) || 0, n);
    return { entries: page.entries, next: page.entries.length === n ? page.last : null };
  }

  async setUsage(setId: number): Promise<{ files: number; bytes: number }> {
    return cat.exclusiveUsage(this.db, setId);
  }

  async setChanges(setId: number, after: number, limit: number): Promise<ChangesPage> {
    const n = Math.max(1, Math.min(Number(limit) || 1, MAX_PAGE));
    const sets = await cat.listSets(this.db);
    if (!sets.some((s) => s.id === setId)) throw new NotFoundError(`no set with id ${setId}`);
    const prev = sets.filter((s) => s.id < setId).at(-1)?.id ?? null;
    const page = await cat.setChangesPage(this.db, setId, prev, Number(after) || 0, n);
    const dirs = await nodePaths(this.db, [...new Set(page.entries.map((e) => e.parent))]);
    return {
      entries: page.entries.map(({ parent, status, ...entry }) => ({ dir: dirs.get(parent) ?? [], entry, status })),
      next: page.entries.length === n ? page.last : null,
    };
  }

  async readSnapshot(setId: number): Promise<Buffer | null> {
    const set = await cat.getSet(this.db, setId);
    if (!set?.snapshot) return null;
    return this.repo.store.get('snapshots', set.snapshot);
  }

  readChunks(ids: Buffer[]): Promise<(Buffer | null)[]> {
    return readStoredChunks(this.repo.store, this.db, ids);
  }


  updateSet(id: number, change: SetChange): Promise<SetInfo> {
    return this.serial.run(async () => {
      const sets = await cat.listSets(this.db);
      const set = sets.find((s) => s.id === id);
      if (!set) throw new NotFoundError(`no set with id ${id}`);
      if (change.name !== undefined) {
        if (!change.name.trim() || change.name.length > 256) throw new UsageError('a set name must be 1 to 256 characters');
        if (sets.some((s) => s.name === change.name && s.id !== id)) throw new UsageError(`a set named ${change.name} already exists`);
      }
      const holders = [id];
      for (const tag of change.addTags ?? []) {
        const holder = await cat.tagExists(this.db, tag);
        if (holder !== null && holder !== id && !change.moveTags) throw new UsageError(`the tag already names set ${holder}; use --move to move it`);
        if (holder !== null) holders.push(holder);
      }
      await cat.updateSet(this.db, id, change);
      await writeSetRecords(this.repo, holders).catch(() => undefined); // best effort, like finishBackup's
      return setInfo((await cat.listSets(this.db)).find((s) => s.id === id)!);
    });
  }

  deleteSets(ids: number[]): Promise<number> {
    return this.serial.run(() => {
      if (this.backup) throw new UsageError('cannot delete sets while this session runs a backup');
      return deleteSets(this.repo, ids);
    });
  }

  purge(rule: PurgeRule, dryRun: boolean): Promise<SetInfo[]> {
    return this.serial.run(async () => {
      if (this.backup) throw new UsageError('cannot purge while this session runs a backup');
      const chosen = dryRun ? await purgeCandidates(this.repo, rule) : await purge(this.repo, rule);
      return chosen.map(setInfo);
    });
  }

  collectGarbage(opts: GcOptions): Promise<GcReport> {
    return this.serial.run(() => {
      if (this.backup) throw new UsageError('cannot collect garbage while this session runs a backup');
      const repackBelow = Math.min(1, Math.max(0, Number(opts.repackBelow ?? 0.5)));
      return collectGarbage(this.repo, { repackBelow, packSize: this.opts.packSize });
    });
  }

  /** The configured policy with this repository's overrides, if the server allows them. */
  private async policy(): Promise<RepoPolicy> {
    const base = this.opts.policy ?? DEFAULT_POLICY;
    if (this.opts.allowOverrides === false) return base;
    return applyPolicyValues(base, await cat.policyOverrides(this.db), (k) => `the repository's setting ${k} (sonic setconfig)`);
  }

  async getSettings(): Promise<SettingsReport> {
    const overridesAllowed = this.opts.allowOverrides !== false;
    return {
      effective: policyValues(await this.policy()),
      overrides: overridesAllowed ? await cat.policyOverrides(this.db) : {},
      overridesAllowed,
    };
  }

  setSettings(changes: Record<string, string | null>): Promise<SettingsReport> {
    return this.serial.run(async () => {
      if (this.opts.allowOverrides === false) throw new UsageError('this server does not let repositories override its settings (AllowClientOverrides is off)');
      const named: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(changes)) {
        const key = policyKey(k);
        if (!key) throw new UsageError(`unknown setting '${k.slice(0, 64)}' (known: ${POLICY_KEYS.join(', ')})`);
        if (v !== null && (typeof v !== 'string' || v.length > 4096)) throw new UsageError(`the value of ${key} must be text of at most 4096 characters`);
        named[key] = v;
      }
      const merged = { ...(await cat.policyOverrides(this.db)), ...named };
      for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
      // Checked as a whole: Priorities must still fit Formats once every change is in.
      applyPolicyValues(this.opts.policy ?? DEFAULT_POLICY, merged as Record<string, string>, () => 'setconfig');
      await cat.setPolicyOverrides(this.db, named);
      return this.getSettings();
    });
  }

  setKeys(change: KeysChange): Promise<void> {
    return this.serial.run(async () => {
      if (this.backup) throw new UsageError('cannot change the keys while this session runs a backup');
      const lock = await BackupLock.acquire(this.repo.root, `keys-${randomBytes(6).toString('hex')}`);
      try {
        await this.repo.replaceKeys(change.slots, change.encrypted, change.login);
      } finally {
        await lock.release();
      }
    });
  }

  checkRepository(): Promise<CheckReport> {
    return checkRepository(this.repo);
  }

  async packChunkIds(pack: string): Promise<Buffer[]> {
    if (!isValidName('packs', pack)) throw new UsageError('invalid pack name');
    return (await packChunks(this.db, pack)).map((c) => c.id);
  }

  chunkUsers(ids: Buffer[]): Promise<ChunkUsers> {
    return chunkUsers(this.db, checkIds(ids).slice(0, CHECK_MAX_IDS));
  }

  async close(): Promise<void> {
    if (this.backup) await this.abortBackup('session closed before the backup finished').catch(() => undefined);
    this.repo.close();
  }
}

