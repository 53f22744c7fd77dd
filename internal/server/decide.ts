// The per-entry decision of a backup (Tardis' checkFile, without delta chains): compare the
// client's entry with the current version of the same name.
import type { OpenVersion } from '../catalog/index.ts';
import { T_DIR, T_FILE, type NamedEntry } from '../model/entry.ts';

export const UNCHANGED = 0;
export const NEW_VERSION = 1; // metadata changed (or not a regular file): the server records it
export const NEED_CONTENT = 2; // the client must read and send the file

const eqBuf = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));

function sameOwnerMode(o: OpenVersion, e: NamedEntry): boolean {
  return o.mode === e.mode && o.uid === e.uid && o.gid === e.gid && eqBuf(o.user, e.user) && eqBuf(o.group, e.group);
}

function sameTimes(o: OpenVersion, e: NamedEntry): boolean {
  return o.mtimeS === e.mtimeS && o.mtimeNs === e.mtimeNs && o.ctimeS === e.ctimeS && o.ctimeNs === e.ctimeNs;
}

/** Same file data, judged from inode, device, size and mtime (the client keeps no cache). */
export function sameData(o: OpenVersion, e: NamedEntry): boolean {
  return o.type === T_FILE && o.content !== null && o.ino === e.ino && o.dev === e.dev && o.size === e.size &&
    o.mtimeS === e.mtimeS && o.mtimeNs === e.mtimeNs;
}

export function decide(o: OpenVersion | undefined, e: NamedEntry, full: boolean): number {
  if (e.type === T_FILE) {
    if (!o || full || !sameData(o, e)) return NEED_CONTENT;
    return sameOwnerMode(o, e) && o.ctimeS === e.ctimeS && o.ctimeNs === e.ctimeNs && o.nlink === e.nlink ? UNCHANGED : NEW_VERSION;
  }
  if (!o || o.type !== e.type) return NEW_VERSION;
  const same = sameOwnerMode(o, e) && sameTimes(o, e) && o.ino === e.ino && o.dev === e.dev &&
    (e.type === T_DIR || (o.size === e.size && o.rdev === e.rdev && eqBuf(o.target, e.target)));
  return same ? UNCHANGED : NEW_VERSION;
}
