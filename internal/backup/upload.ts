// Cuts a byte stream (a file, or a snapshot) into content-defined chunks and sends only the
// chunks the repository lacks, sealed: compressed, then encrypted.
import { constants as C } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { CompressAlg } from '../compress/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { RepoSession } from '../model/session.ts';
import { BLOB_DATA } from '../pack/index.ts';
import type { Stats } from './stats.ts';

const READ_SIZE = 1 << 20;
const BATCH = 16;

export interface StreamResult {
  hash: Buffer;
  chunks: Buffer[];
  size: number;
}

export interface UploadResult extends StreamResult {
  /** inode/size/mtime after reading differ from before: the file changed while being read. */
  changed: boolean;
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

async function* readAll(fh: FileHandle, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for (;;) {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
    if (bytesRead === 0) return;
    onBytes(bytesRead);
    yield buf.subarray(0, bytesRead);
  }
}

export class Uploader {
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly stats: Stats;
  private readonly compression: CompressAlg | undefined;
  private pending: { id: Buffer; type: number; data: Buffer }[] = [];

  constructor(session: RepoSession, keyring: Keyring, stats: Stats, compression?: CompressAlg) {
    this.session = session;
    this.keyring = keyring;
    this.stats = stats;
    this.compression = compression;
  }

  /** Chunks, hashes and uploads a stream; returns its keyed hash and chunk ids. */
  async stream(source: AsyncIterable<Buffer>, type = BLOB_DATA): Promise<StreamResult> {
    const chunker = this.keyring.newChunker();
    const hasher = this.keyring.contentHasher();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const data of source) {
      size += data.length;
      hasher.update(data);
      for (const c of chunker.push(data)) await this.chunk(c, type, chunks);
    }
    for (const c of chunker.finish()) await this.chunk(c, type, chunks);
    await this.flush();
    return { hash: hasher.digest(), chunks, size };
  }

  /** Reads one file (never following a symlink put in its place) and uploads its content. */
  async file(path: Buffer, expect: { ino: bigint; mtimeNs: bigint }, onBytes: (n: number) => void = () => undefined): Promise<UploadResult> {
    const fh = await openNoFollow(path);
    try {
      const before = await fh.stat({ bigint: true });
      const r = await this.stream(readAll(fh, (n) => {
        this.stats.bytesRead += n;
        onBytes(n);
      }));
      const after = await fh.stat({ bigint: true });
      const changed = before.ino !== expect.ino || before.mtimeNs !== expect.mtimeNs || after.size !== before.size ||
        after.mtimeNs !== before.mtimeNs || BigInt(r.size) !== after.size;
      return { ...r, changed };
    } finally {
      await fh.close();
    }
  }

  private async chunk(data: Buffer, type: number, chunks: Buffer[]): Promise<void> {
    const id = this.keyring.chunkId(data);
    chunks.push(id);
    this.pending.push({ id, type, data });
    if (this.pending.length >= BATCH) await this.flush();
  }

  /** Asks which pending chunks are new, and sends those. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const list = [...new Map(batch.map((c) => [c.id.toString('hex'), c])).values()];
    const missing = await this.session.missingChunks(list.map((c) => c.id));
    this.stats.chunks += batch.length;
    if (missing.length === 0) return;
    const uploads = missing.map((i) => {
      const c = list[i]!;
      const blob = this.keyring.sealChunk(c.id, c.data, this.compression);
      this.stats.bytesNew += c.data.length;
      this.stats.bytesStored += blob.length;
      this.stats.chunksNew++;
      return { id: c.id, type: c.type, blob };
    });
    await this.session.putChunks(uploads);
  }
}
