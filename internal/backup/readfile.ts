// Reads one file with synchronous calls, chunks and hashes it and seals its chunks: the work a
// seal worker does for a file, so the main thread only routes results.
//
// A small file is sealed whole before anyone asks which chunks the repository lacks: that wastes a
// little on files whose content it already has (copies), and saves sending every chunk to the main
// thread and back. A large file is read in batches instead, and each batch's chunk ids go to the
// main thread first: only the chunks the repository lacks come back, to be sealed on any thread
// (a day-old VM image with a few changed bytes costs hashing, not compressing; a new one is
// sealed on every core), and memory stays at two batches.
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

/** How a read ended: the content's keyed hash, the bytes read, and whether the file changed meanwhile. */
export interface ReadEnd {
  hash: Uint8Array;
  size: number;
  changed: boolean;
}

export interface ReadReply extends ReadEnd {
  chunks: SealedChunk[];
}

/** One batch of a large file's chunks, in file order. */
export interface ChunkBatch {
  ids: Uint8Array[];
  lengths: number[];
  /** File bytes read for this batch. */
  bytes: number;
}

export interface PlainChunk {
  id: Uint8Array;
  data: Uint8Array;
}

/**
 * Hands a batch's chunk ids to the main thread together with the chunks it asked for last time;
 * resolves to the indexes (within `batch`) of the chunks the repository lacks.
 */
export type AskMissing = (batch: ChunkBatch, wanted: PlainChunk[]) => Promise<number[]>;

type Chunk = PlainChunk;

interface Batch {
  chunks: Chunk[];
  /** File bytes read since the batch before. */
  bytes: number;
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

/**
 * Reads a file and yields its chunks in batches of at least `batchBytes` plaintext bytes (the last
 * one may be shorter); returns how the read ended. The file is closed when the generator ends,
 * also when the caller stops early.
 */
function* chunkBatches(k: FileKeys, req: ReadRequest, buf: Buffer, batchBytes: number): Generator<Batch, ReadEnd> {
  const fd = openNoFollow(req.path);
  try {
    const hasher = new ContentHasher(k.idKey);
    let batch: Chunk[] = [];
    let batchLen = 0;
    let read = 0;
    let size = 0;
    const take = (data: Uint8Array) => {
      batch.push({ id: chunkId(k.idKey, data), data });
      batchLen += data.length;
    };
    const full = (): Batch => {
      const out = { chunks: batch, bytes: read };
      batch = [];
      batchLen = 0;
      read = 0;
      return out;
    };
    if (req.size < k.chunker.min) {
      // Shorter than the smallest chunk: the whole file is one chunk, read in one go.
      size = readFull(fd, buf.subarray(0, req.size));
      read = size;
      const data = buf.subarray(0, size);
      hasher.update(data);
      if (size > 0) take(data);
    } else {
      const chunker = new Chunker(k.chunker, k.chunkerSeed);
      // A file growing while it is read is not followed for ever: it is reported as changed.
      const limit = req.size + buf.length;
      while (size < limit) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, limit - size), null);
        if (n === 0) break;
        size += n;
        read += n;
        const data = buf.subarray(0, n);
        hasher.update(data);
        for (const c of chunker.push(data)) take(c);
        if (batchLen >= batchBytes) yield full();
      }
      for (const c of chunker.finish()) take(c);
    }
    if (batch.length > 0 || read > 0) yield full();
    // One fstat after reading, against the walk's lstat: a different inode (replaced), size or
    // mtime means the file changed since the walk saw it, and what was read may be torn.
    const after = fstatSync(fd, { bigint: true });
    const changed = after.ino !== req.ino || after.size !== BigInt(req.size) || after.mtimeNs !== req.mtimeNs || BigInt(size) !== after.size;
    return { hash: hasher.digest(), size, changed };
  } finally {
    closeSync(fd);
  }
}


/** Reads, chunks, hashes and seals a whole file. `buf` is scratch space of at least the chunker's minimum size. */
export function readFileSealed(k: FileKeys, req: ReadRequest, buf: Buffer): ReadReply {
  const chunks: SealedChunk[] = [];
  const it = chunkBatches(k, req, buf, Infinity);
  for (;;) {
    const r = it.next();
    if (r.done) return { ...r.value, chunks };
    // A small file's single chunk lives in `buf`: it is sealed before the next read reuses it.
    for (const c of r.value.chunks) chunks.push({ id: c.id, length: c.data.length, blob: sealChunkWith(k, Buffer.from(c.id.buffer, c.id.byteOffset, c.id.byteLength), c.data, req.compression) });
  }
}

/**
 * Reads a large file in batches of `batchBytes`, asking which chunks the repository lacks and
 * handing over only those. While the main thread answers for one batch, the next one is read.
 */
export async function readFileAsking(k: FileKeys, req: ReadRequest, buf: Buffer, batchBytes: number, ask: AskMissing): Promise<ReadEnd> {
  const it = chunkBatches(k, req, buf, batchBytes);
  let wanted: Chunk[] = [];
  let asked: { chunks: Chunk[]; answer: Promise<number[]> } | null = null;
  try {
    for (;;) {
      const r = it.next();
      if (asked) {
        const { chunks, answer } = asked;
        wanted = (await answer).map((i) => chunks[i]!);
        asked = null;
      }
      if (r.done) {
        if (wanted.length > 0) await ask({ ids: [], lengths: [], bytes: 0 }, wanted);
        return r.value;
      }
      const { chunks, bytes } = r.value;
      const answer = ask({ ids: chunks.map((c) => c.id), lengths: chunks.map((c) => c.data.length), bytes }, wanted);
      answer.catch(() => {}); // awaited after the next batch is read; a read error must not leave it unhandled
      asked = { chunks, answer };
      wanted = [];
    }
  } finally {
    it.return(undefined as never);
  }
}
