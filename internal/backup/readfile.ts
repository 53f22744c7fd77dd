// Reads one file with synchronous calls, chunks and hashes it and seals every chunk: the work a
// seal worker does for a file, so the main thread only routes results. Sealing before asking the
// repository which chunks it lacks wastes a little on files whose content it already has
// (copies), and saves sending every chunk to the main thread and back.
import { closeSync, constants as C, fstatSync, openSync, readSync } from 'node:fs';
import { Chunker } from '../chunker/index.ts';
import type { CompressAlg } from '../compress/index.ts';
import { chunkId, ContentHasher } from '../crypto/index.ts';
import { sealChunkWith, type FileKeys } from '../keyring/keyring.ts';

export interface ReadRequest {
  path: Uint8Array;
  /** What the walk saw: a difference after reading means the file changed meanwhile. */
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  compression: CompressAlg;
}

export interface SealedChunk {
  id: Uint8Array;
  /** Plaintext length. */
  length: number;
  blob: Uint8Array;
}

export interface ReadReply {
  hash: Uint8Array;
  size: number;
  changed: boolean;
  chunks: SealedChunk[];
}

function openNoFollow(path: Uint8Array): number {
  try {
    return openSync(path as Buffer, C.O_RDONLY | C.O_NOFOLLOW | C.O_NOATIME);
  } catch (err) {
    // O_NOATIME is refused for files we do not own unless privileged.
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return openSync(path as Buffer, C.O_RDONLY | C.O_NOFOLLOW);
    throw err;
  }
}

/** Reads into `buf` until it is full or the file ends; returns the bytes read. */
function readFull(fd: number, buf: Uint8Array): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, null);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** `buf` is scratch space of at least the chunker's minimum size, reused from call to call. */
export function readFileSealed(k: FileKeys, req: ReadRequest, buf: Buffer): ReadReply {
  const fd = openNoFollow(req.path);
  try {
    const hasher = new ContentHasher(k.idKey);
    const chunks: SealedChunk[] = [];
    const seal = (data: Uint8Array) => {
      const id = chunkId(k.idKey, data);
      chunks.push({ id, length: data.length, blob: sealChunkWith(k, id, data, req.compression) });
    };
    let size = 0;
    if (req.size < k.chunker.min) {
      // Shorter than the smallest chunk: the whole file is one chunk, read in one go.
      size = readFull(fd, buf.subarray(0, req.size));
      const data = buf.subarray(0, size);
      hasher.update(data);
      if (size > 0) seal(data);
    } else {
      const chunker = new Chunker(k.chunker, k.chunkerSeed);
      // A file growing while it is read is not followed for ever: it is reported as changed.
      const limit = req.size + buf.length;
      while (size < limit) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, limit - size), null);
        if (n === 0) break;
        size += n;
        const data = buf.subarray(0, n);
        hasher.update(data);
        for (const c of chunker.push(data)) seal(c);
      }
      for (const c of chunker.finish()) seal(c);
    }
    // One fstat after reading, against the walk's lstat: a different inode (replaced), size or
    // mtime means the file changed since the walk saw it, and what was read may be torn.
    const after = fstatSync(fd, { bigint: true });
    const changed = after.ino !== req.ino || after.size !== BigInt(req.size) || after.mtimeNs !== req.mtimeNs || BigInt(size) !== after.size;
    return { hash: hasher.digest(), size, changed, chunks };
  } finally {
    closeSync(fd);
  }
}
