// One directory entry's metadata, as recorded by a backup.

import { constants as C, type BigIntStats } from 'node:fs';
import { TardisError } from '../errors/errors.ts';
import { groupName, userName } from './owners.ts';
import { printable } from './names.ts';

/** Sockets are not backed up (they cannot be restored meaningfully), so they have no type here. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev';

export interface FsEntry {
  /** The name bytes within the parent directory (statRoot: the path as given). */
  name: Buffer;
  type: EntryType;
  /** Permission and special bits: st_mode & 0o7777 (setuid, setgid, sticky included). */
  mode: number;
  uid: number;
  gid: number;
  /** Names from /etc/passwd and /etc/group, null when the id has no entry. */
  user: string | null;
  group: string | null;
  /** st_size as reported by lstat (a symlink's is its target length). */
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  atimeNs: bigint;
  ino: bigint;
  dev: bigint;
  nlink: number;
  /** Device number of a chardev/blockdev (raw Linux dev_t), 0 otherwise. */
  rdev: number;
  /** Symlink target bytes. */
  target?: Buffer;
}

/** The entry type for an st_mode, or null for sockets and unknown kinds. */
export function entryTypeOf(mode: number): EntryType | null {
  switch (mode & C.S_IFMT) {
    case C.S_IFREG:
      return 'file';
    case C.S_IFDIR:
      return 'dir';
    case C.S_IFLNK:
      return 'symlink';
    case C.S_IFIFO:
      return 'fifo';
    case C.S_IFCHR:
      return 'chardev';
    case C.S_IFBLK:
      return 'blockdev';
    default:
      return null;
  }
}

export function entryFromStats(name: Buffer, stats: BigIntStats, target?: Buffer): FsEntry {
  const mode = Number(stats.mode);
  const type = entryTypeOf(mode);
  if (type === null) throw new TardisError(`unsupported file type: ${printable(name)}`);
  const uid = Number(stats.uid);
  const gid = Number(stats.gid);
  const e: FsEntry = {
    name,
    type,
    mode: mode & 0o7777,
    uid,
    gid,
    user: userName(uid),
    group: groupName(gid),
    size: Number(stats.size),
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    atimeNs: stats.atimeNs,
    ino: stats.ino,
    dev: stats.dev,
    nlink: Number(stats.nlink),
    rdev: Number(stats.rdev),
  };
  if (target !== undefined) e.target = target;
  return e;
}
