// Cuts byte streams (files, or a snapshot) into content-defined chunks and sends only the chunks
// the repository lacks, sealed: compressed, then encrypted. Chunks and file commits of many
// files travel in one batch, and a batch is sealed and sent while the next one is read. Files are
// read on the pool's threads: up to WORKER_MAX bytes chunked and sealed whole, bigger ones in
// batches whose chunk ids are checked against the repository before anything is sealed.
import type { ChunkerParams } from '../chunker/index.ts';
import type { CompressAlg } from '../compress/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { ChunkUpload, FileCommit, RepoSession } from '../model/session.ts';
import { BLOB_DATA } from '../pack/index.ts';
import type { ReadRequest } from './readfile.ts';
import { LARGE_BATCH, SealPool } from './sealpool.ts';
import type { Stats } from './stats.ts';

// Bigger files are read in batches, so memory stays bounded whatever their size.
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

/** The memory a file being read holds at most, for bounding the reads in flight. */
export function readWeight(size: number): number {
  return size <= WORKER_MAX ? size : 2 * LARGE_BATCH;
}

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class Uploader {
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly stats: Stats;
  private readonly compression: CompressAlg | undefined;
  private readonly pool: SealPool;
  private readonly ownPool: boolean;
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
    const req: ReadRequest = { path, ino: expect.ino, size: expect.size, mtimeNs: expect.mtimeNs, compression: this.compression ?? this.keyring.config.compression };
    const counted = (n: number) => {
      this.stats.bytesRead += n;
      onBytes(n);
    };
    const chunks: Buffer[] = [];
    if (expect.size <= WORKER_MAX) {
      const r = await this.pool.read(req);
      counted(r.size);
      for (const c of r.chunks) {
        const id = buf(c.id);
        chunks.push(id);
        await this.add({ id, type: BLOB_DATA, length: c.length, blob: buf(c.blob) });
      }
      return { hash: buf(r.hash), chunks, size: r.size, changed: r.changed };
    }
    // Chunk ids asked about before in this file (a disk image repeats its zero chunks): asking
    // again would seal them again, since their first copy is not stored yet.
    const asked = new Set<string>();
    const r = await this.pool.readLarge(req, async (batch, wanted) => {
      // Sealed when their batch is sent, on whichever thread is free.
      for (const c of wanted) await this.add({ id: buf(c.id), type: BLOB_DATA, length: c.data.length, data: buf(c.data) });
      counted(batch.bytes);
      const ids = batch.ids.map(buf);
      chunks.push(...ids);
      const fresh = ids.flatMap((id, i) => {
        const k = id.toString('hex');
        if (asked.has(k)) return [];
        asked.add(k);
        return [i];
      });
      const missing = (await this.session.missingChunks(fresh.map((i) => ids[i]!))).map((j) => fresh[j]!);
      // The missing ones are counted when their batch is sent.
      this.stats.chunks += ids.length - missing.length;
      return missing;
    });
    return { hash: buf(r.hash), chunks, size: r.size, changed: r.changed };
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

  private async queue(data: Buffer, type: number, chunks: Buffer[]): Promise<void> {
    const id = this.keyring.chunkId(data);
    chunks.push(id);
    await this.add({ id, type, length: data.length, data });
  }

  private async add(c: PendingChunk): Promise<void> {
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
