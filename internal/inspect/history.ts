// One path across backup sets: its version in each set (or none), and what each version is
// compared with the one before: new, changed, moved, gone, broken or unchanged. Everything goes
// through the session (lookup, listDir), so file: and tardis:// repositories behave the same.
import { eachLimit } from '../concurrency/each.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { T_DIR, T_FILE, T_SYMLINK, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession, SetInfo } from '../model/session.ts';
import { lookupPath, reducePath, rootFound } from '../restore/index.ts';

/** Requests in flight at once (they pipeline over a tardisd connection). */
const IN_FLIGHT = 8;

/** A path's version in each of the sets, in set order; null where the set does not hold it. */
export type History = (VisibleEntry | null)[];

/** One name in a directory, across the sets: its decrypted name and its version in each set. */
export interface Child {
  name: Buffer;
  history: History;
}

/**
 * The version of the path `parts` ("/" = []) in each set. `reduce` strips leading components
 * per set as regenerate's --reduce-path does (negative: until the rest exists in that set).
 */
export async function pathHistory(session: RepoSession, keyring: Keyring, sets: SetInfo[], parts: Buffer[], reduce = 0): Promise<History> {
  const out: History = new Array(sets.length).fill(null);
  await eachLimit(sets, IN_FLIGHT, async (set, i) => {
    const p = await reducePath(session, keyring, set.id, parts, reduce);
    out[i] = p.length === 0 ? rootFound().entry : ((await lookupPath(session, keyring, set.id, p))?.entry ?? null);
  });
  return out;
}

/** Every name a directory holds in any of the sets where it is a directory, each with its history. */
export async function dirHistory(session: RepoSession, keyring: Keyring, sets: SetInfo[], dir: History): Promise<Child[]> {
  const byName = new Map<string, Child>();
  const where = dir.flatMap((e, i) => (e?.type === T_DIR ? [i] : []));
  await eachLimit(where, IN_FLIGHT, async (i) => {
    for (const e of await session.listDir(sets[i]!.id, dir[i]!.node)) {
      // Names are encrypted deterministically: the same name is the same ciphertext in every set.
      const key = e.name.toString('hex');
      let child = byName.get(key);
      if (!child) {
        child = { name: keyring.decName(e.name), history: new Array(sets.length).fill(null) };
        byName.set(key, child);
      }
      child.history[i] = e;
    }
  });
  return [...byName.values()];
}

/**
 * What a version is, compared with the version in the set before:
 * - new: the first version (or the first after a gap);
 * - changed: other content, link target, type, or (directories) listing; with rules, times or metadata;
 * - moved: the same content under another inode (the file was replaced by a copy or moved back);
 * - gone: absent here, present in the set before;
 * - broken: a file whose content could not be read when it was backed up;
 * - unchanged; absent: not here and not before.
 */
export type Status = 'new' | 'changed' | 'moved' | 'gone' | 'broken' | 'unchanged' | 'absent';

export interface Version {
  set: SetInfo;
  entry: VisibleEntry | null;
  status: Status;
  /** A file version that shares no data with the one before (Tardis: a full copy, not a delta). */
  full: boolean;
  /** Chunks of this file version that the version before does not have (what deduplication stored). */
  newChunks: number | null;
}

export interface ChangeRules {
  /** A different mtime or ctime is a new version (-T). */
  times?: boolean;
  /** Any metadata change (times, mode, owner, group) is a new version (-M). */
  metadata?: boolean;
}

export function chunkCount(e: VisibleEntry): number {
  return e.chunks ? Math.floor(e.chunks.length / 32) : 0;
}

function chunkIds(e: VisibleEntry | null): Set<string> {
  const ids = new Set<string>();
  if (e?.type === T_FILE && e.chunks) for (let i = 0; i + 32 <= e.chunks.length; i += 32) ids.add(e.chunks.toString('hex', i, i + 32));
  return ids;
}

const same = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));

function changed(prev: VisibleEntry, e: VisibleEntry, rules: ChangeRules): boolean {
  if (prev.type !== e.type) return true;
  if (e.type === T_FILE && (prev.size !== e.size || !same(prev.hash, e.hash))) return true;
  if (e.type === T_SYMLINK && !same(prev.target, e.target)) return true;
  // A directory's listing changes its mtime.
  if (e.type === T_DIR && (prev.mtimeS !== e.mtimeS || prev.mtimeNs !== e.mtimeNs)) return true;
  if (e.type !== T_FILE && e.type !== T_DIR && e.type !== T_SYMLINK && prev.rdev !== e.rdev) return true;
  if ((rules.times || rules.metadata) &&
    (prev.mtimeS !== e.mtimeS || prev.mtimeNs !== e.mtimeNs || prev.ctimeS !== e.ctimeS || prev.ctimeNs !== e.ctimeNs)) return true;
  // Tardis' -M read uid/gid fields its query no longer returned, so it never saw them change.
  if (rules.metadata && (prev.mode !== e.mode || prev.uid !== e.uid || prev.gid !== e.gid || !same(prev.user, e.user) || !same(prev.group, e.group))) return true;
  return false;
}

/** Each set's version of one path, with its status (see Status). */
export function classify(sets: SetInfo[], history: History, rules: ChangeRules = {}): Version[] {
  let prev: VisibleEntry | null = null;
  return history.map((entry, i) => {
    let status: Status;
    if (!entry) status = prev ? 'gone' : 'absent';
    else if (entry.type === T_FILE && entry.hash === null) status = 'broken';
    else if (!prev) status = 'new';
    else if (changed(prev, entry, rules)) status = 'changed';
    else if (prev.ino !== entry.ino) status = 'moved';
    else status = 'unchanged';
    let full = false;
    let newChunks: number | null = null;
    if (entry?.type === T_FILE) {
      const before = chunkIds(prev);
      const ids = [...chunkIds(entry)];
      newChunks = ids.filter((id) => !before.has(id)).length;
      full = (status === 'new' || status === 'changed') && ids.length > 0 && newChunks === ids.length;
    }
    const v: Version = { set: sets[i]!, entry, status, full, newChunks };
    prev = entry;
    return v;
  });
}

export type VersionsShown = 'change' | 'all' | 'last' | 'none';

/**
 * The versions lstardis prints (-V): `change` the new, changed, moved, gone and broken ones;
 * `all` every set holding the path (and where it vanished); `last` the newest change; `none`.
 * `deletions` and `broken` false leave out those statuses.
 */
export function shownVersions(versions: Version[], mode: VersionsShown, opts: { deletions?: boolean; broken?: boolean } = {}): Version[] {
  if (mode === 'none') return [];
  if (mode === 'last') {
    const last = versions.filter((v) => v.status === 'new' || v.status === 'changed' || v.status === 'moved').pop();
    return last ? [last] : [];
  }
  return versions.filter((v) => {
    if (v.status === 'absent') return false;
    if (v.status === 'gone') return opts.deletions !== false;
    if (v.status === 'broken') return opts.broken !== false;
    return mode === 'all' || v.status !== 'unchanged';
  });
}
