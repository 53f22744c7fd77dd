// Repository maintenance on the repository side (no keys needed): deleting and purging sets,
// and garbage collection that really returns disk space by rewriting partly used packs.
//
// Everything here holds the backup lock, so no backup can add chunks or packs meanwhile, and
// every step is ordered so that a kill at any point leaves a repository that opens and
// restores: new packs are durable before the catalog points at them, and old packs are
// removed only after the catalog has durably stopped pointing at them.
import { randomBytes } from 'node:crypto';
import * as cat from '../catalog/index.ts';
import { deleteUnusedChunks, packChunks, packUsage, stmtDeleteSets, stmtDeleteUnusedContents, stmtForgetPacks, stmtReplacePacks } from '../catalog/maintenance.ts';
import { UsageError } from '../errors/errors.ts';
import { PackBuilder } from '../pack/index.ts';
import { BackupLock } from './lock.ts';
import type { ServerRepository } from './repository.ts';
import { writeSetRecords } from './setrecord.ts';
import type { GcOptions, GcReport, PurgeRule } from '../model/session.ts';

/** Packing parameters for gc beyond what a client may ask (tests use small packs). */
export interface GcTuning extends GcOptions {
  packSize?: number;
  /** Report what would be done, change nothing. */
  dryRun?: boolean;
}

async function withLock<T>(repo: ServerRepository, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = await BackupLock.acquire(repo.root, `${what}-${randomBytes(6).toString('hex')}`);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Sets a purge with this rule would delete (locked sets never). */
export async function purgeCandidates(repo: ServerRepository, rule: PurgeRule): Promise<cat.SetRow[]> {
  return (await cat.listSets(repo.db)).filter((s) =>
    !s.locked && s.priority <= rule.priority && s.id < rule.belowId && (s.endTime ?? s.startTime) <= rule.before &&
    (!rule.incompleteOnly || !s.completed));
}

/** Deletes the given sets and the versions only they could see. Chunks stay until gc. */
export async function deleteSets(repo: ServerRepository, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return withLock(repo, 'delete', async () => {
    const sets = await cat.listSets(repo.db);
    const known = new Set(sets.map((s) => s.id));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) throw new UsageError(`no such set: ${missing.join(', ')}`);
    await repo.db.batch([...stmtDeleteSets(ids), stmtDeleteUnusedContents()]);
    // Their snapshot manifests and set records, or a rebuild would bring the sets back: the
    // catalog no longer names them, so a kill before this line leaves only unreferenced
    // files, which gc removes.
    const doomed = new Set(ids);
    for (const s of sets) if (doomed.has(s.id) && s.snapshot) await repo.store.remove('snapshots', s.snapshot);
    await writeSetRecords(repo, ids);
    return ids.length;
  });
}

/** Deletes what `rule` selects; returns the deleted sets. */
export async function purge(repo: ServerRepository, rule: PurgeRule): Promise<cat.SetRow[]> {
  const sets = await purgeCandidates(repo, rule);
  await deleteSets(repo, sets.map((s) => s.id));
  return sets;
}

/**
 * Removes unused contents and chunks, deletes packs nothing uses, rewrites packs that are
 * mostly unused, and removes pack and snapshot files the catalog does not know (left by a
 * killed backup or a killed gc).
 */
export async function collectGarbage(repo: ServerRepository, opts: GcTuning = {}): Promise<GcReport> {
  return withLock(repo, 'gc', () => gc(repo, opts));
}

async function storeBytes(repo: ServerRepository): Promise<number> {
  let total = 0;
  for (const kind of ['packs', 'snapshots'] as const) {
    for await (const name of repo.store.list(kind)) total += (await repo.store.stat(kind, name))?.size ?? 0;
  }
  return total;
}

async function gc(repo: ServerRepository, opts: GcTuning): Promise<GcReport> {
  const db = repo.db;
  const threshold = opts.repackBelow ?? 0.5;
  const report: GcReport = {
    contentsDeleted: 0, chunksDeleted: 0, packsDeleted: 0, packsRepacked: 0, packsWritten: 0, strayFilesDeleted: 0,
    bytesBefore: await storeBytes(repo), bytesAfter: 0,
  };
  if (opts.dryRun) {
    report.bytesAfter = report.bytesBefore;
    return report;
  }
  const [contents] = await db.batch([stmtDeleteUnusedContents()]);
  report.contentsDeleted = contents!.rowsAffected;
  report.chunksDeleted = await deleteUnusedChunks(db);

  // Files the catalog does not know: a backup killed between writing a pack and recording it,
  // or a gc killed between recording a rewrite and deleting the old packs.
  const usage = await packUsage(db);
  const knownPacks = new Set(usage.map((p) => p.name));
  for await (const name of repo.store.list('packs')) {
    if (!knownPacks.has(name)) {
      await repo.store.remove('packs', name);
      report.strayFilesDeleted++;
    }
  }
  const knownSnapshots = new Set((await cat.listSets(db)).map((s) => s.snapshot).filter((s): s is string => !!s));
  for await (const name of repo.store.list('snapshots')) {
    if (!knownSnapshots.has(name)) {
      await repo.store.remove('snapshots', name);
      report.strayFilesDeleted++;
    }
  }

  // Packs nothing uses: forget, then delete.
  const empty = usage.filter((p) => p.liveCount === 0).map((p) => p.name);
  if (empty.length) {
    await db.batch(stmtForgetPacks(empty));
    for (const name of empty) await repo.store.remove('packs', name);
    report.packsDeleted = empty.length;
  }

  // Packs mostly unused: copy their live blobs (still sealed; no keys needed) into new packs.
  const sparse = usage.filter((p) => p.liveCount > 0 && p.liveBytes < p.size * threshold);
  let builder = new PackBuilder(opts.packSize);
  let sources: string[] = [];
  const seal = async (): Promise<void> => {
    if (builder.count === 0) return;
    const pack = builder.finish();
    await repo.store.put('packs', pack.name, pack.data);
    // Durable pack first, then one transaction moves the chunks and forgets the old packs;
    // only then are the old files deleted.
    await db.batch(stmtReplacePacks(sources, { name: pack.name, size: pack.data.length, entries: pack.entries }));
    for (const name of sources) await repo.store.remove('packs', name);
    report.packsWritten++;
    report.packsRepacked += sources.length;
    builder = new PackBuilder(opts.packSize);
    sources = [];
  };
  for (const p of sparse) {
    for (const c of await packChunks(db, p.name)) {
      const blob = await repo.store.getRange('packs', p.name, c.offset, c.length);
      builder.add(c.id, c.type, blob);
    }
    sources.push(p.name);
    // Only whole source packs move in one transaction, so a pack is cut after a source.
    if (builder.isFull()) await seal();
  }
  await seal();
  await db.checkpoint();
  report.bytesAfter = await storeBytes(repo);
  return report;
}
