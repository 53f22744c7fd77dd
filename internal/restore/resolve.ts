// Finds a path of the backup in a set: each component encrypted and looked up from "/".
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { ROOT_NODE, T_DIR, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession, SetInfo } from '../model/session.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { Found } from './restore.ts';

/** Splits an absolute path into its byte components ("/" → []). */
export function components(p: string | Buffer): Buffer[] {
  const b = Buffer.isBuffer(p) ? p : Buffer.from(p);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === 0x2f) {
      if (i > start) out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** The root of a set as a Found (a directory with node "/"). */
export function rootFound(): Found {
  const entry: VisibleEntry = {
    node: ROOT_NODE, name: Buffer.alloc(0), type: T_DIR, mode: 0o755, uid: 0, gid: 0, user: null, group: null, size: 0,
    mtimeS: 0, mtimeNs: 0, ctimeS: 0, ctimeNs: 0, atimeS: 0, atimeNs: 0, ino: 0, dev: 0, nlink: 1, rdev: 0, target: null,
    hash: null, chunks: null,
  };
  return { name: Buffer.alloc(0), entry };
}

export async function lookupPath(session: RepoSession, keyring: Keyring, setId: number, parts: Buffer[]): Promise<Found | null> {
  let found = rootFound();
  for (const part of parts) {
    if (found.entry.type !== T_DIR) return null;
    const entry = await session.lookup(setId, found.entry.node, keyring.encName(part));
    if (!entry) return null;
    found = { name: part, entry };
  }
  return found;
}

/**
 * Strips leading components (--reduce-path N). "smart" (N < 0) drops components until the
 * remainder exists in the set, as Tardis' bare --reduce-path does.
 */
export async function reducePath(
  session: RepoSession, keyring: Keyring, setId: number, parts: Buffer[], n: number,
): Promise<Buffer[]> {
  if (n >= 0) return parts.slice(Math.min(n, parts.length));
  for (let i = 0; i < parts.length; i++) {
    if (await lookupPath(session, keyring, setId, parts.slice(i))) return parts.slice(i);
  }
  return parts;
}

/** --last: the newest completed set that holds the path (reduced by `reduce` as in reducePath, per set). */
export async function lastSetWith(
  session: RepoSession, keyring: Keyring, sets: SetInfo[], parts: Buffer[], reduce = 0,
): Promise<SetInfo | null> {
  for (const s of sets.filter((x) => x.completed).reverse()) {
    if (await lookupPath(session, keyring, s.id, await reducePath(session, keyring, s.id, parts, reduce))) return s;
  }
  return null;
}

export function absolute(p: string): string {
  return path.resolve(p);
}

/**
 * `p` made absolute with the symlinks of its existing part resolved, as Python's realpath: a
 * path that no longer exists (a deleted file is what one looks for in a backup) keeps its
 * missing tail as written.
 */
export function realpathLoose(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync.native(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realpathLoose(parent), path.basename(abs));
  }
}
