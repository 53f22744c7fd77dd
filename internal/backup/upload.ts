// Cuts byte streams (files, or a snapshot) into content-defined chunks and sends only the chunks
// the repository lacks, sealed: compressed, then encrypted. Chunks and file commits of many
// files travel in one batch, and a batch is sealed and sent while the next one is read. Files
// up to WORKER_MAX bytes are read, chunked and sealed whole on the pool's threads.
import { constants as C } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ChunkerParams } from '../chunker/index.ts';
import type { CompressAlg } from '../compress/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { ChunkUpload, FileCommit, RepoSession } from '../model/session.ts';
import { BLOB_DATA } from '../pack/index.ts';
import { SealPool } from './sealpool.ts';
import type { Stats } from './stats.ts';

const READ_SIZE = 1 << 20;
// Bigger files are streamed here instead, so memory stays bounded whatever their size.
const WORKER_MAX = 8 << 20;
// A batch is sent once it holds this much chunk data, this many chunks or this many files.
const BATCH_BYTES = 8 << 20;
const BATCH_CHUNKS = 1024;
const BATCH_FILES = 2048;

export interface StreamResult {
  hash: Buffer;
  chunks: Buffer[];
  size: number;
}

export interface UploadResult extends StreamResult {
  /** inode/size/mtime after reading differ from before: the file changed while being read. */
  changed: boolean;
}

/** A chunk to send: its plaintext (sealed when the repository lacks it), or already sealed. */
interface PendingChunk {
  id: Buffer;
  type: number;
  length: number;
  data?: Buffer;
  blob?: Buffer;
}

async function openNoFollow(path: Buffer): Promise<FileHandle> {
  try {
    return await open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NOATIME);
  } catch (err) {
    // O_NOATIME is refused for files we do not own unless privileged.
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return open(path, C.O_RDONLY | C.O_NOFOLLOW);
    throw err;
  }
}

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class Uploader {
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly stats: Stats;
  private readonly compression: CompressAlg | undefined;
  private readonly pool: SealPool;
  private readonly ownPool: boolean;
  // The chunker never keeps a pushed buffer, so read buffers are reused, one per file being read.
  private readonly freeBufs: Buffer[] = [];
  private pending: PendingChunk[] = [];
  private pendingBytes = 0;
  private commits: FileCommit[] = [];
  // The batch being sealed and sent; at most one, so memory stays near two batches.
  private inFlight: Promise<void> = Promise.resolve();
  /** Why a batch failed, once one has: the repository could not take it, so the run must stop. */
  failure: unknown = undefined;

  constructor(session: RepoSession, keyring: Keyring, stats: Stats, opts: { compression?: CompressAlg; pool?: SealPool } = {}) {
    this.session = session;
    this.keyring = keyring;
    this.stats = stats;
    this.compression = opts.compression;
    this.ownPool = !opts.pool;
    this.pool = opts.pool ?? new SealPool(keyring.fileKeys);
  }

  /** Chunks, hashes and queues a stream; returns its keyed hash and chunk ids. */
  async stream(source: AsyncIterable<Buffer>, type = BLOB_DATA, chunking?: ChunkerParams): Promise<StreamResult> {
    const chunker = this.keyring.newChunker(chunking);
    const hasher = this.keyring.contentHasher();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const data of source) {
      size += data.length;
      hasher.update(data);
      for (const c of chunker.push(data)) await this.queue(c, type, chunks);
    }
    for (const c of chunker.finish()) await this.queue(c, type, chunks);
    return { hash: hasher.digest(), chunks, size };
  }

  /**
   * Reads one file (never following a symlink put in its place) and queues its content. The
   * chunks are durable only after the file's commit has been flushed (see commit()).
   */
  async file(path: Buffer, expect: { ino: bigint; size: number; mtimeNs: bigint }, onBytes: (n: number) => void = () => undefined): Promise<UploadResult> {
    if (expect.size <= WORKER_MAX) {
      const r = await this.pool.read({ path, ino: expect.ino, size: expect.size, mtimeNs: expect.mtimeNs, compression: this.compression ?? this.keyring.config.compression });
      this.stats.bytesRead += r.size;
      onBytes(r.size);
      const chunks: Buffer[] = [];
      for (const c of r.chunks) await this.add({ id: buf(c.id), type: BLOB_DATA, length: c.length, blob: buf(c.blob) }, chunks);
      return { hash: buf(r.hash), chunks, size: r.size, changed: r.changed };
    }
    const fh = await openNoFollow(path);
    try {
      const counted = (n: number) => {
        this.stats.bytesRead += n;
        onBytes(n);
      };
      const r = await this.stream(this.readAll(fh, counted));
      // One fstat after reading, against the walk's lstat: a different inode (replaced), size or
      // mtime means the file changed since the walk saw it, and what was read may be torn.
      const after = await fh.stat({ bigint: true });
      const changed = after.ino !== expect.ino || after.size !== BigInt(expect.size) || after.mtimeNs !== expect.mtimeNs ||
        BigInt(r.size) !== after.size;
      return { ...r, changed };
    } finally {
      await fh.close();
    }
  }

  /** Records a file version once the chunks queued before it are stored. */
  async commit(c: FileCommit): Promise<void> {
    this.commits.push(c);
    if (this.commits.length >= BATCH_FILES) await this.send();
  }

  /** Sends everything queued and waits until the repository has it. */
  async flush(): Promise<void> {
    await this.send();
    await this.inFlight;
  }

  async close(): Promise<void> {
    if (this.ownPool) await this.pool.close();
  }

  private async *readAll(fh: FileHandle, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
    const buf = this.freeBufs.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
        if (bytesRead === 0) return;
        onBytes(bytesRead);
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      this.freeBufs.push(buf);
    }
  }

  private queue(data: Buffer, type: number, chunks: Buffer[]): Promise<void> {
    return this.add({ id: this.keyring.chunkId(data), type, length: data.length, data }, chunks);
  }

  private async add(c: PendingChunk, chunks: Buffer[]): Promise<void> {
    chunks.push(c.id);
    this.pending.push(c);
    this.pendingBytes += c.blob?.length ?? c.length;
    if (this.pendingBytes >= BATCH_BYTES || this.pending.length >= BATCH_CHUNKS) await this.send();
  }

  /** Starts sending the queued batch once the previous one is through. */
  private async send(): Promise<void> {
    await this.inFlight;
    if (this.pending.length === 0 && this.commits.length === 0) return;
    const batch = this.pending;
    const commits = this.commits;
    this.pending = [];
    this.pendingBytes = 0;
    this.commits = [];
    this.inFlight = this.sendBatch(batch, commits);
    // Failures surface at the next send()/flush(); until then the rejection is not unhandled.
    this.inFlight.catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  private async sendBatch(batch: PendingChunk[], commits: FileCommit[]): Promise<void> {
    this.stats.chunks += batch.length;
    if (batch.length > 0) {
      const list = [...new Map(batch.map((c) => [c.id.toString('hex'), c])).values()];
      const missing = await this.session.missingChunks(list.map((c) => c.id));
      const uploads = await Promise.all(missing.map(async (i): Promise<ChunkUpload> => {
        const c = list[i]!;
        const blob = c.blob ?? await this.pool.seal(c.id, c.data!, this.compression ?? this.keyring.config.compression);
        this.stats.bytesNew += c.length;
        this.stats.bytesStored += blob.length;
        this.stats.chunksNew++;
        return { id: c.id, type: c.type, blob };
      }));
      if (uploads.length > 0) await this.session.putChunks(uploads);
    }
    if (commits.length > 0) await this.session.commitFiles(commits);
  }
}
