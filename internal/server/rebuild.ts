// `sonic rebuild`: a new catalog from the store alone. The chunk index comes from the packs' own
// indexes; each set's tree from its sealed snapshot (the caller opens those: it holds the
// keys); each set's metadata from its record in sets/, else from its manifest (v2), else what
// can be told (v1). File versions get back the version ranges of the catalog: a node whose
// metadata and content stay the same over consecutive sets is one row.
//
// Crash-safe: the catalog is built in tmp/ and renamed over catalog.db only once complete, the
// old one (if any) moved aside to catalog.db.old first. A kill leaves the old state, or no
// catalog at all (the state a rebuild starts from), never a half-built one. It holds the
// backup lock, so no backup or gc of this process's kind runs meanwhile; a tardisd serving
// the repository should be stopped (its sessions keep the old catalog file open).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import * as cat from '../catalog/index.ts';
import { splitIds } from '../catalog/check.ts';
import {
  inspectCatalog, stmtCloseVersionRows, stmtInsertConfig, stmtInsertNodeRows, stmtInsertSetRow, stmtInsertVersionRows,
} from '../catalog/rebuild.ts';
import { metaRow } from '../catalog/tree.ts';
import { NotFoundError, UsageError } from '../errors/errors.ts';
import type { SetVersion } from '../model/entry.ts';
import { readPackIndex } from '../pack/index.ts';
import type { ChunkReader, ManifestSet } from '../snapshot/snapshot.ts';
import { LocalStore } from '../store/index.ts';
import { readStoredChunks } from './chunks.ts';
import { BackupLock } from './lock.ts';
import { readSetRecords, type SetRecord } from './setrecord.ts';

/** What a snapshot holds, opened with the keys. */
export interface OpenedSnapshot {
  /** The set's metadata as the client sealed it (v2), or null (v1). */
  set: ManifestSet | null;
  /** The chunks the snapshot is stored in. */
  chunks: Buffer[];
  versions: SetVersion[];
}

export type SnapshotOpener = (setId: number, manifest: Buffer, read: ChunkReader) => Promise<OpenedSnapshot>;

export interface RebuildOptions {
  /** Replace a catalog that is healthy. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

export interface RebuildReport {
  packs: number;
  chunks: number;
  /** Where each set's metadata came from: its record, its manifest (v2), or guesses (v1). */
  sets: { id: number; name: string; source: 'record' | 'manifest' | 'snapshot only' }[];
  versions: number;
  contents: number;
  /** What could not be used, and why. */
  skipped: { what: string; why: string }[];
  /** Where the catalog that was replaced went, if there was one. */
  previous: string | null;
}

const BATCH = 5000;
const SNAPSHOT_NAME = /^(\d+)-/;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What makes two versions of a node the same version (name and parent are the node's). */
function versionKey(e: SetVersion): string {
  return createHash('sha1').update(JSON.stringify([metaRow(e).slice(1), e.hash ? Buffer.from(e.hash).toString('hex') : null])).digest('base64');
}

/** Turns each set's visible versions, in set order, into version rows with [first, last] ranges. */
class VersionRanges {
  private nextId = 1;
  private readonly open = new Map<number, { id: number; last: number; key: string }>();
  private readonly nodes = new Set<number>();
  private readonly contents = new Set<string>();
  private readonly db: cat.CatalogDb;
  versions = 0;

  constructor(db: cat.CatalogDb) {
    this.db = db;
  }

  async addSet(setId: number, entries: SetVersion[]): Promise<void> {
    const nodes: { id: number; parent: number; name: Buffer }[] = [];
    const contents: { hash: Buffer; size: number; chunks: Buffer[] }[] = [];
    const rows: { id: number; node: number; firstSet: number; e: SetVersion; hash: Buffer | null }[] = [];
    const closes: [number, number][] = [];
    const seen = new Set<number>();
    for (const e of entries) {
      if (seen.has(e.node)) continue;
      seen.add(e.node);
      const key = versionKey(e);
      const cur = this.open.get(e.node);
      if (cur?.key === key) {
        cur.last = setId;
        continue;
      }
      if (cur) closes.push([cur.id, cur.last]);
      const id = this.nextId++;
      this.open.set(e.node, { id, last: setId, key });
      const hash = e.hash ? Buffer.from(e.hash) : null;
      rows.push({ id, node: e.node, firstSet: setId, e: { ...e, name: Buffer.from(e.name) }, hash });
      if (!this.nodes.has(e.node)) {
        this.nodes.add(e.node);
        nodes.push({ id: e.node, parent: e.parent, name: Buffer.from(e.name) });
      }
      if (hash && !this.contents.has(hash.toString('hex'))) {
        this.contents.add(hash.toString('hex'));
        contents.push({ hash, size: e.size, chunks: splitIds(Buffer.from(e.chunks ?? Buffer.alloc(0))) });
      }
    }
    // What this set no longer shows ended with the set before.
    for (const [node, cur] of this.open) {
      if (cur.last === setId) continue;
      closes.push([cur.id, cur.last]);
      this.open.delete(node);
    }
    for (let i = 0; i < Math.max(nodes.length, contents.length); i += BATCH) {
      const stmts = [
        ...(i < nodes.length ? [stmtInsertNodeRows(nodes.slice(i, i + BATCH))] : []),
        ...(i < contents.length ? [cat.stmtInsertContents(contents.slice(i, i + BATCH))] : []),
      ];
      if (stmts.length) await this.db.batch(stmts, { lazy: true });
    }
    for (let i = 0; i < rows.length; i += BATCH) await this.db.batch([stmtInsertVersionRows(rows.slice(i, i + BATCH))], { lazy: true });
    for (let i = 0; i < closes.length; i += BATCH) await this.db.batch([stmtCloseVersionRows(closes.slice(i, i + BATCH))], { lazy: true });
    this.versions += rows.length;
  }

  get contentCount(): number {
    return this.contents.size;
  }
}

/** The set's row: from its record if the record speaks of this snapshot, else from the manifest. */
function setRowOf(id: number, snapshot: string, record: SetRecord | undefined, opened: OpenedSnapshot, mtime: number): { row: cat.SetRow; source: RebuildReport['sets'][number]['source'] } {
  if (record && record.snapshot === snapshot) {
    const { v: _v, ...row } = record;
    return { row: { ...row, completed: true }, source: 'record' };
  }
  const m = opened.set;
  const base: cat.SetRow = {
    id, name: `Rebuilt-${id}`, completed: true, priority: 0, keepDays: 0, full: false, locked: false, explicit: false,
    startTime: mtime, endTime: mtime, clientTime: null, session: null, clientVersion: null, stats: null, error: null, snapshot, tags: [],
  };
  if (!m) return { row: base, source: 'snapshot only' };
  return {
    row: {
      ...base, name: m.name ?? base.name, explicit: m.name !== null, full: m.full, startTime: m.clientTime,
      endTime: m.clientTime + (m.stats.durationMs ?? 0), clientTime: m.clientTime, clientVersion: m.clientVersion, stats: m.stats,
      tags: m.tags.map((t) => t.toString('hex').toUpperCase()),
    },
    source: 'manifest',
  };
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await fsp.open(p, 'r');
  try {
    await fh.sync();
  } catch {
    // a filesystem that cannot sync a directory: the data itself was synced
  } finally {
    await fh.close();
  }
}

async function removeDb(file: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await fsp.rm(file + suffix, { force: true });
}

export async function rebuildCatalog(root: string, open: SnapshotOpener, opts: RebuildOptions = {}): Promise<RebuildReport> {
  if (!existsSync(join(root, 'config'))) throw new NotFoundError(`no repository at ${root}`);
  const lock = await BackupLock.acquire(root, `rebuild-${randomBytes(6).toString('hex')}`);
  try {
    return await rebuild(root, open, opts);
  } finally {
    await lock.release();
  }
}

async function rebuild(root: string, open: SnapshotOpener, opts: RebuildOptions): Promise<RebuildReport> {
  const progress = opts.onProgress ?? (() => undefined);
  const target = join(root, 'catalog.db');
  const old = await inspectCatalog(target);
  if (old.state === 'healthy' && !opts.force) {
    throw new UsageError(`the catalog of ${root} is healthy (${old.sets} sets): a rebuild would replace it; give --force to do so anyway`);
  }
  const store = new LocalStore(root);
  const tmpDir = join(root, 'tmp');
  await fsp.mkdir(tmpDir, { recursive: true, mode: 0o700 });
  // Leftovers of a rebuild killed earlier (we hold the lock: no other rebuild runs).
  for (const f of await fsp.readdir(tmpDir)) if (f.startsWith('catalog-rebuild-')) await fsp.rm(join(tmpDir, f), { force: true });
  const tmp = join(tmpDir, `catalog-rebuild-${randomBytes(8).toString('hex')}.db`);
  const report: RebuildReport = { packs: 0, chunks: 0, sets: [], versions: 0, contents: 0, skipped: [], previous: null };
  const db = await cat.CatalogDb.open(tmp, { create: true });
  try {
    if (old.state !== 'missing' && old.config.length) await db.batch([stmtInsertConfig(old.config)]);
    await indexPacks(store, db, report, progress);
    await rebuildSets(store, db, open, report, progress);
    await db.checkpoint();
    // One self-contained file: no -wal next to it that could outlive the rename.
    await db.execute('PRAGMA journal_mode=DELETE');
  } catch (err) {
    db.close();
    await removeDb(tmp);
    throw err;
  }
  db.close();
  await fsyncPath(tmp);

  // The switch. Old catalog (and its log) aside first; any log left without its database must
  // go before the new file takes the name, or SQLite would replay it into the new one.
  if (old.state !== 'missing') {
    report.previous = `${target}.old`;
    await fsp.rename(target, report.previous);
    if (existsSync(`${target}-wal`)) await fsp.rename(`${target}-wal`, `${report.previous}-wal`);
  }
  await fsp.rm(`${target}-wal`, { force: true });
  await fsp.rm(`${target}-shm`, { force: true });
  await fsp.rename(tmp, target);
  await fsyncPath(root);
  return report;
}

async function indexPacks(store: LocalStore, db: cat.CatalogDb, report: RebuildReport, progress: (l: string) => void): Promise<void> {
  for await (const name of store.list('packs')) {
    try {
      const st = await store.stat('packs', name);
      if (!st) continue;
      const entries = await readPackIndex((offset, length) => store.getRange('packs', name, offset, length), st.size);
      // A chunk two packs hold (a repack killed halfway) stays with the first; gc drops the other copy.
      await db.batch(cat.stmtInsertPack({ name, size: st.size, entries }), { lazy: true });
      report.packs++;
      report.chunks += entries.length;
    } catch (err) {
      report.skipped.push({ what: `pack ${name}`, why: message(err) });
    }
  }
  progress(`indexed ${report.packs} packs (${report.chunks} chunks)`);
}

async function rebuildSets(store: LocalStore, db: cat.CatalogDb, open: SnapshotOpener, report: RebuildReport, progress: (l: string) => void): Promise<void> {
  const { records, bad } = await readSetRecords(store);
  for (const b of bad) report.skipped.push({ what: `set record ${b}`, why: 'unreadable' });
  const bySet = new Map<number, string[]>();
  for await (const name of store.list('snapshots')) {
    const m = SNAPSHOT_NAME.exec(name);
    if (!m) {
      report.skipped.push({ what: `snapshot ${name}`, why: 'not a snapshot name' });
      continue;
    }
    const id = Number(m[1]);
    bySet.set(id, [...(bySet.get(id) ?? []), name]);
  }
  const read: ChunkReader = (ids) => readStoredChunks(store, db, ids);
  const ranges = new VersionRanges(db);
  const names = new Set<string>();
  for (const id of [...bySet.keys()].sort((a, b) => a - b)) {
    // Several manifests for one id (an id reused after a delete whose cleanup was cut short):
    // the one the set's record names, else the newest.
    const mtimes = new Map<string, number>();
    for (const n of bySet.get(id)!) mtimes.set(n, (await fsp.stat(store.pathOf('snapshots', n))).mtimeMs);
    const rec = records.get(id);
    const candidates = [...mtimes.keys()].sort((a, b) => Number(b === rec?.snapshot) - Number(a === rec?.snapshot) || mtimes.get(b)! - mtimes.get(a)!);
    let done = false;
    for (const snap of candidates) {
      let opened: OpenedSnapshot;
      try {
        opened = await open(id, await store.get('snapshots', snap), read);
      } catch (err) {
        report.skipped.push({ what: `set ${id} (snapshot ${snap})`, why: message(err) });
        continue;
      }
      const { row, source } = setRowOf(id, snap, rec, opened, Math.round(mtimes.get(snap)!));
      // Names are unique; a guessed or outdated one gives way.
      if (names.has(row.name)) row.name = `${row.name}-${id}`;
      names.add(row.name);
      await ranges.addSet(id, opened.versions);
      await db.batch(stmtInsertSetRow(row, opened.chunks));
      report.sets.push({ id, name: row.name, source });
      progress(`set ${id} (${row.name}): ${opened.versions.length} entries`);
      done = true;
      break;
    }
    if (!done && candidates.length > 1) report.skipped.push({ what: `set ${id}`, why: 'no snapshot of it could be read' });
  }
  report.versions = ranges.versions;
  report.contents = ranges.contentCount;
}
