// `sonic check` on the client side: the repository's structural report, then what needs the
// keys (manifests open; chunks read back and verified), then every damaged chunk traced to the
// files and sets it breaks. Works the same in-process and through tardisd.
import { eachLimit } from '../concurrency/each.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { CHECK_MAX_IDS, type CheckFinding, type CheckReport, type RepoSession, type SetInfo } from '../model/session.ts';
import { openManifest } from '../snapshot/snapshot.ts';
import { printable } from '../walk/index.ts';
import { choosePacks, type Subset } from './subset.ts';

/** Chunks read back per request: a few MiB. */
const READ_BATCH = 16;
const PACKS_AT_ONCE = 2;

export interface CheckOptions {
  /** Read chunks back: all packs, or a subset. Absent: structure only. */
  readData?: Subset;
  /** After each pack read back. */
  onPack?: (done: number, total: number, bytes: number) => void;
}

export interface AffectedFile {
  path: string;
  sets: { id: number; name: string }[];
  /** How many of its damaged chunks. */
  chunks: number;
}

export interface CheckResult {
  structure: CheckReport;
  /** Manifests that do not open, and chunks that read back wrong (problems beyond the structural ones). */
  problems: CheckFinding[];
  readData: { packs: number; of: number; chunks: number; bytes: number } | null;
  /** Every damaged chunk found (structural and read back). */
  damagedCount: number;
  files: AffectedFile[];
  /** More files are affected than are listed. */
  filesTruncated: boolean;
  /** Sets whose snapshot (the rebuild source of their tree) is affected. */
  snapshots: { id: number; name: string }[];
  ok: boolean;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Reads chunks back and verifies each (AEAD tag, then the plaintext's keyed id); the bad ones with why. */
export async function verifyChunks(session: RepoSession, keyring: Keyring, ids: Buffer[]): Promise<{ bad: Map<string, string>; bytes: number }> {
  const bad = new Map<string, string>();
  let bytes = 0;
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const batch = ids.slice(i, i + READ_BATCH);
    const blobs = await session.readChunks(batch);
    blobs.forEach((blob, j) => {
      const id = batch[j]!;
      if (!blob) {
        bad.set(id.toString('hex'), 'cannot be read');
        return;
      }
      bytes += blob.length;
      try {
        keyring.openChunk(id, blob);
      } catch (err) {
        bad.set(id.toString('hex'), `fails verification (${message(err)})`);
      }
    });
  }
  return { bad, bytes };
}

/** Manifests of completed sets that do not open with the keys (missing ones the structural pass reports). */
async function checkManifests(session: RepoSession, keyring: Keyring, sets: SetInfo[], structure: CheckReport): Promise<CheckFinding[]> {
  const known = new Set(structure.problems.filter((p) => p.kind === 'snapshot').map((p) => p.subject));
  const out: CheckFinding[] = [];
  for (const s of sets) {
    if (!s.completed || known.has(String(s.id))) continue;
    try {
      const blob = await session.readSnapshot(s.id);
      if (blob) openManifest(keyring, s.id, blob);
    } catch (err) {
      out.push({ kind: 'snapshot', subject: String(s.id), message: `the snapshot manifest of set ${s.id} (${s.name}) does not open: ${message(err)}` });
    }
  }
  return out;
}

export async function runCheck(session: RepoSession, keyring: Keyring, opts: CheckOptions = {}): Promise<CheckResult> {
  const structure = await session.checkRepository();
  const sets = await session.listSets();
  const problems = await checkManifests(session, keyring, sets, structure);
  const damaged = new Map(structure.damaged.map((id) => [id.toString('hex'), id]));

  let readData: CheckResult['readData'] = null;
  if (opts.readData) {
    const packs = choosePacks(structure.packs, opts.readData);
    readData = { packs: packs.length, of: structure.packs.length, chunks: 0, bytes: 0 };
    const found = new Map<string, { id: Buffer; why: string; pack: string }>();
    let done = 0;
    await eachLimit(packs, PACKS_AT_ONCE, async (p) => {
      const ids = (await session.packChunkIds(p.name)).filter((id) => !damaged.has(id.toString('hex')));
      const r = await verifyChunks(session, keyring, ids);
      readData!.chunks += ids.length;
      readData!.bytes += r.bytes;
      for (const id of ids) {
        const why = r.bad.get(id.toString('hex'));
        if (why) found.set(id.toString('hex'), { id, why, pack: p.name });
      }
      opts.onPack?.(++done, packs.length, readData!.bytes);
    });
    // A gc running meanwhile may have moved chunks: only what still reads back wrong is damage.
    const again = await verifyChunks(session, keyring, [...found.values()].map((f) => f.id));
    for (const [k, f] of found) {
      const why = again.bad.get(k);
      if (!why) continue;
      damaged.set(k, f.id);
      problems.push({ kind: 'chunk', subject: k, message: `chunk ${k.slice(0, 16)}… in pack ${f.pack}: ${why}` });
    }
  }

  const damagedCount = structure.damagedCount - structure.damaged.length + damaged.size;
  const names = new Map(sets.map((s) => [s.id, s.name]));
  const ids = [...damaged.values()].slice(0, CHECK_MAX_IDS);
  const users = ids.length ? await session.chunkUsers(ids) : { files: [], snapshots: [], truncated: false };
  const files = users.files.map((f) => ({
    path: pathOf(keyring, f.path),
    sets: f.sets.map((id) => ({ id, name: names.get(id) ?? String(id) })),
    chunks: f.chunks.length,
  }));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    structure, problems, readData, damagedCount, files,
    filesTruncated: users.truncated || ids.length < damaged.size,
    snapshots: users.snapshots.map((s) => ({ id: s.setId, name: names.get(s.setId) ?? String(s.setId) })),
    ok: structure.problems.length === 0 && problems.length === 0 && damagedCount === 0,
  };
}

/** A path of encrypted names as text; a name that does not decrypt is shown as such. */
function pathOf(keyring: Keyring, names: Buffer[]): string {
  return '/' + names.map((n) => {
    try {
      return printable(keyring.decName(n));
    } catch {
      return `<undecryptable name ${Buffer.from(n).toString('hex').slice(0, 16)}>`;
    }
  }).join('/');
}
