// Turns file-system entries into the repository's form: names, owners and targets encrypted,
// times split into seconds and nanoseconds; and hashes a directory listing.
import type { FsEntry } from '../walk/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { T_BLOCKDEV, T_CHARDEV, T_DIR, T_FIFO, T_FILE, T_SYMLINK, type NamedEntry } from '../model/entry.ts';

const TYPES: Record<FsEntry['type'], number> = {
  file: T_FILE, dir: T_DIR, symlink: T_SYMLINK, fifo: T_FIFO, chardev: T_CHARDEV, blockdev: T_BLOCKDEV,
};

const NS = 1_000_000_000n;

function split(ns: bigint): [number, number] {
  let s = ns / NS;
  let r = ns % NS;
  if (r < 0n) {
    r += NS;
    s -= 1n;
  }
  return [Number(s), Number(r)];
}

/** Owner and group names repeat on every entry: encrypt each once per run. */
export class EntryEncoder {
  private readonly keyring: Keyring;
  private readonly owners = new Map<string, Buffer | null>();

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  private owner(name: string | null): Buffer | null {
    if (name === null) return null;
    let enc = this.owners.get(name);
    if (enc === undefined) {
      enc = this.keyring.encString(name);
      this.owners.set(name, enc);
    }
    return enc;
  }

  encode(e: FsEntry, name: Buffer = e.name): NamedEntry {
    const [mtimeS, mtimeNs] = split(e.mtimeNs);
    const [ctimeS, ctimeNs] = split(e.ctimeNs);
    const [atimeS, atimeNs] = split(e.atimeNs);
    return {
      name: this.keyring.encName(name),
      type: TYPES[e.type],
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      user: this.owner(e.user),
      group: this.owner(e.group),
      size: e.type === 'dir' ? 0 : e.size,
      mtimeS, mtimeNs, ctimeS, ctimeNs, atimeS, atimeNs,
      ino: Number(e.ino),
      dev: Number(e.dev),
      nlink: e.nlink,
      rdev: e.rdev,
      target: e.target ? this.keyring.encName(e.target) : null,
    };
  }

  /** Keyed hash over everything the server compares, so equal hashes mean "nothing changed". */
  listingHash(entries: FsEntry[]): Buffer {
    // One update over the whole listing: a native call per piece costs more than the copying.
    const parts: Buffer[] = [];
    const head = Buffer.alloc(4);
    head.writeUInt32BE(entries.length);
    parts.push(head);
    for (const e of entries) {
      const line = [e.type, e.mode, e.uid, e.gid, e.user ?? '', e.group ?? '', e.type === 'dir' ? 0 : e.size,
        e.mtimeNs, e.ctimeNs, e.ino, e.dev, e.nlink, e.rdev].join(',');
      const len = Buffer.alloc(8);
      len.writeUInt32BE(e.name.length, 0);
      len.writeUInt32BE(e.target?.length ?? 0, 4);
      parts.push(len, e.name);
      if (e.target) parts.push(e.target);
      parts.push(Buffer.from(line + '\n'));
    }
    return this.keyring.listingHasher().update(Buffer.concat(parts)).digest();
  }
}
