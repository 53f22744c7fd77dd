// Reads one file, cuts it into content-defined chunks, and sends only the chunks the
// repository lacks (sealed: compressed, then encrypted).
import { constants as C } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { CompressAlg } from '../compress/index.ts';
import type { Keyring } from '../keyring/keyring.ts';
import type { RepoSession } from '../model/session.ts';
import { BLOB_DATA } from '../pack/index.ts';
import type { Stats } from './stats.ts';

const READ_SIZE = 1 << 20;
const BATCH = 16;

export interface UploadResult {
  hash: Buffer;
  chunks: Buffer[];
  size: number;
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

export class Uploader {
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly stats: Stats;
  private readonly compression: CompressAlg | undefined;
  private pending: { id: Buffer; data: Buffer }[] = [];

  constructor(session: RepoSession, keyring: Keyring, stats: Stats, compression?: CompressAlg) {
    this.session = session;
    this.keyring = keyring;
    this.stats = stats;
    this.compression = compression;
  }

  async file(path: Buffer, expect: { ino: bigint; size: number; mtimeNs: bigint }, onBytes: (n: number) => void): Promise<UploadResult> {
    const fh = await openNoFollow(path);
    const chunker = this.keyring.newChunker();
    const hasher = this.keyring.contentHasher();
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      const before = await fh.stat({ bigint: true });
      for (;;) {
        const buf = Buffer.allocUnsafe(READ_SIZE);
        const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
        if (bytesRead === 0) break;
        const data = buf.subarray(0, bytesRead);
        size += bytesRead;
        this.stats.bytesRead += bytesRead;
        onBytes(bytesRead);
        hasher.update(data);
        for (const c of chunker.push(data)) await this.chunk(c, chunks);
      }
      for (const c of chunker.finish()) await this.chunk(c, chunks);
      await this.flush();
      const after = await fh.stat({ bigint: true });
      const changed = before.ino !== expect.ino || after.size !== before.size || after.mtimeNs !== before.mtimeNs ||
        BigInt(size) !== after.size || before.mtimeNs !== expect.mtimeNs;
      return { hash: hasher.digest(), chunks, size, changed };
    } finally {
      await fh.close();
    }
  }

  private async chunk(data: Buffer, chunks: Buffer[]): Promise<void> {
    const id = this.keyring.chunkId(data);
    chunks.push(id);
    this.pending.push({ id, data });
    if (this.pending.length >= BATCH) await this.flush();
  }

  /** Asks which pending chunks are new, and sends those. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const unique = new Map(batch.map((c) => [c.id.toString('hex'), c]));
    const list = [...unique.values()];
    const missing = await this.session.missingChunks(list.map((c) => c.id));
    this.stats.chunks += batch.length;
    if (missing.length === 0) return;
    const uploads = missing.map((i) => {
      const c = list[i]!;
      const blob = this.keyring.sealChunk(c.id, c.data, this.compression);
      this.stats.bytesNew += c.data.length;
      this.stats.bytesStored += blob.length;
      this.stats.chunksNew++;
      return { id: c.id, type: BLOB_DATA, blob };
    });
    await this.session.putChunks(uploads);
  }
}
