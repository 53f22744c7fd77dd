// Types shared by the client and the repository side of a session (no logic, no I/O).

export const T_FILE = 0;
export const T_DIR = 1;
export const T_SYMLINK = 2;
export const T_FIFO = 3;
export const T_CHARDEV = 4;
export const T_BLOCKDEV = 5;

export const TYPE_NAMES = ['file', 'dir', 'symlink', 'fifo', 'chardev', 'blockdev'] as const;

/** Metadata of one directory entry as the repository keeps it (names and owners encrypted). */
export interface EntryMeta {
  type: number;
  mode: number;
  uid: number;
  gid: number;
  user: Buffer | null;
  group: Buffer | null;
  size: number;
  mtimeS: number;
  mtimeNs: number;
  ctimeS: number;
  ctimeNs: number;
  atimeS: number;
  atimeNs: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
  target: Buffer | null;
}

export interface NamedEntry extends EntryMeta {
  name: Buffer;
}

/** A version visible in some set, with its content's hash and chunk list. */
export interface VisibleEntry extends NamedEntry {
  node: number;
  hash: Buffer | null;
  chunks: Buffer | null; // concatenated 32-byte chunk ids
}

/** A version visible in a set together with its parent node (the rows of a snapshot). */
export interface SetVersion extends VisibleEntry {
  parent: number;
}

/** The node id of the virtual root "/". */
export const ROOT_NODE = 0;
