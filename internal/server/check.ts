// The repository side of `sonic check`: the store against the catalog, without keys. Every
// pack the catalog lists must be there, whole, with an intact index placing each of its chunks
// where the catalog says; every chunk a content or a set snapshot lists must be in the chunk
// index; every completed set's snapshot manifest must be there. Files the catalog does not know
// (left by killed runs) are notes, not damage: gc removes them.
//
// No lock is taken, so backups go on meanwhile. A gc running at the same time may move or
// delete packs under the check, so pack findings are held against the catalog once more at the end.
import { eachLimit } from '../concurrency/each.ts';
import { getSet, listSets } from '../catalog/index.ts';
import {
  catalogCounts, catalogPacks, chunksOutsidePacks, integrityProblems, missingContentChunks, missingSnapshotChunks,
} from '../catalog/check.ts';
import { packChunks } from '../catalog/maintenance.ts';
import { CHECK_MAX_IDS, type CheckFinding, type CheckReport } from '../model/session.ts';
import { readPackIndex, type PackEntry } from '../pack/index.ts';
import type { ServerRepository } from './repository.ts';
import { staleSetRecords } from './setrecord.ts';

/** Findings of one kind listed one by one; beyond this they are counted. */
const MAX_LISTED = 200;

interface PackResult {
  problems: CheckFinding[];
  damaged: Buffer[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function some(names: string[]): string {
  return names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '');
}

/** One pack against the catalog's chunk rows for it. */
async function checkPack(repo: ServerRepository, pack: { name: string; size: number }, present: Set<string>): Promise<PackResult> {
  const rows = await packChunks(repo.db, pack.name);
  const finding = (msg: string): CheckFinding => ({ kind: 'pack', subject: pack.name, message: msg });
  const st = present.has(pack.name) ? await repo.store.stat('packs', pack.name) : null;
  if (st === null) return { problems: [finding(`missing: its ${rows.length} chunks are lost`)], damaged: rows.map((r) => r.id) };
  const problems: CheckFinding[] = [];
  if (st.size !== pack.size) {
    problems.push(finding(st.size < pack.size ? `truncated: ${st.size} of ${pack.size} bytes` : `${st.size} bytes where the catalog says ${pack.size}`));
  }
  let index: Map<string, PackEntry> | null = null;
  try {
    const entries = await readPackIndex((offset, length) => repo.store.getRange('packs', pack.name, offset, length), st.size);
    index = new Map(entries.map((e) => [e.id.toString('hex'), e]));
  } catch (err) {
    problems.push(finding(`its index is unreadable (${message(err)}); a rebuild could not use this pack`));
  }
  const damaged: Buffer[] = [];
  let absent = 0;
  let misplaced = 0;
  let beyond = 0;
  for (const r of rows) {
    if (index) {
      const e = index.get(r.id.toString('hex'));
      if (!e) absent++;
      else if (e.offset !== r.offset || e.length !== r.length) misplaced++;
      else continue;
    } else if (r.offset + r.length > st.size) {
      beyond++;
    } else {
      continue;
    }
    damaged.push(r.id);
  }
  if (absent) problems.push(finding(`${absent} chunks the catalog places here are not in the pack's index`));
  if (misplaced) problems.push(finding(`${misplaced} chunks are not where the catalog says`));
  if (beyond) problems.push(finding(`${beyond} chunks lie past the end of the file`));
  return { problems, damaged };
}

async function names(repo: ServerRepository, kind: 'packs' | 'snapshots'): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const n of repo.store.list(kind)) out.add(n);
  return out;
}

export async function checkRepository(repo: ServerRepository): Promise<CheckReport> {
  const db = repo.db;
  const problems: CheckFinding[] = [];
  const notes: CheckFinding[] = [];
  const damaged = new Map<string, Buffer>();
  const lose = (ids: Buffer[]) => ids.forEach((id) => damaged.set(id.toString('hex'), id));

  try {
    for (const m of await integrityProblems(db)) problems.push({ kind: 'catalog', subject: 'catalog', message: m });
  } catch (err) {
    problems.push({ kind: 'catalog', subject: 'catalog', message: `cannot be checked: ${message(err)}` });
  }

  const packs = await catalogPacks(db);
  const packFiles = await names(repo, 'packs');
  const results = new Map<string, PackResult>();
  await eachLimit(packs, 4, async (p) => {
    results.set(p.name, await checkPack(repo, p, packFiles));
  });
  const still = new Set((await catalogPacks(db)).map((p) => p.name));
  for (const p of packs) {
    const r = results.get(p.name)!;
    if (!still.has(p.name)) continue; // a gc took it away meanwhile
    problems.push(...r.problems);
    lose(r.damaged);
  }
  const strayPacks = [...packFiles].filter((n) => !still.has(n));
  if (strayPacks.length) {
    notes.push({ kind: 'stray', subject: 'packs', message: `${strayPacks.length} pack files the catalog does not know (left by interrupted runs, or a backup running now; gc removes them): ${some(strayPacks)}` });
  }

  const outside = await chunksOutsidePacks(db);
  if (outside.length) {
    problems.push({ kind: 'chunk', subject: 'chunks', message: `${outside.length} chunks are placed in packs the catalog does not list` });
    lose(outside);
  }
  // A gc running meanwhile may drop contents and then their chunks between two of our queries:
  // only what a second pass finds again is damage (the same holds for snapshots below).
  const lost = await again(missingContentChunks(db), () => missingContentChunks(db));
  if (lost.ids.length) {
    problems.push({ kind: 'content', subject: 'contents', message: `${lost.contents} file contents list ${lost.ids.length} chunks the chunk index lacks` });
    lose(lost.ids);
  }

  const sets = await listSets(db);
  const first = await missingSnapshotChunks(db);
  const snapLost = first.size ? await missingSnapshotChunks(db) : first;
  for (const [setId, ids] of snapLost) {
    problems.push({ kind: 'snapshot', subject: String(setId), message: `the snapshot of set ${setId} lists ${ids.length} chunks the chunk index lacks` });
    lose(ids);
  }
  const snapFiles = await names(repo, 'snapshots');
  for (const s of sets.filter((x) => x.completed)) {
    if (!s.snapshot) {
      problems.push({ kind: 'snapshot', subject: String(s.id), message: `set ${s.id} (${s.name}) has no snapshot: a rebuild could not recover it` });
    } else if (!snapFiles.has(s.snapshot) && (await repo.store.stat('snapshots', s.snapshot)) === null && (await getSet(db, s.id)) !== null) {
      // (Looked at again: a set deleted since the listing takes its manifest with it.)
      problems.push({ kind: 'snapshot', subject: String(s.id), message: `the snapshot manifest of set ${s.id} (${s.name}) is missing: a rebuild could not recover it` });
    }
  }
  const named = new Set(sets.map((s) => s.snapshot));
  const straySnaps = [...snapFiles].filter((n) => !named.has(n));
  if (straySnaps.length) {
    notes.push({ kind: 'stray', subject: 'snapshots', message: `${straySnaps.length} snapshot files no set names (gc removes them): ${some(straySnaps)}` });
  }
  const stale = await staleSetRecords(repo, sets);
  if (stale.length) {
    notes.push({ kind: 'set-record', subject: 'sets', message: `${stale.length} sets have no up-to-date record in sets/ (the next backup writes them): ${some(stale.map(String))}` });
  }

  const all = [...damaged.values()];
  return {
    packs,
    problems: capped(problems),
    notes,
    damaged: all.slice(0, CHECK_MAX_IDS),
    damagedCount: all.length,
    counts: await catalogCounts(db),
  };
}

/** The missing chunks a first pass found, confirmed by a second one. */
async function again(first: Promise<{ ids: Buffer[]; contents: number }>, rerun: () => Promise<{ ids: Buffer[]; contents: number }>) {
  const a = await first;
  if (a.ids.length === 0) return a;
  const b = await rerun();
  const seen = new Set(b.ids.map((id) => id.toString('hex')));
  return { ids: a.ids.filter((id) => seen.has(id.toString('hex'))), contents: b.contents };
}

/** At most MAX_LISTED findings, then one that counts the rest. */
function capped(list: CheckFinding[]): CheckFinding[] {
  if (list.length <= MAX_LISTED) return list;
  return [...list.slice(0, MAX_LISTED), { kind: 'more', subject: '', message: `and ${list.length - MAX_LISTED} more problems` }];
}
