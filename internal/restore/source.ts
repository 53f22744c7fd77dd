// Chunks for the files being restored. Reads are batched across files: a small file is one
// chunk, and each readChunks costs a catalog query and pack reads on the repository side. A chunk
// wanted twice in a batch is read and opened once. Opening (AEAD, zstd, keyed id: most of a
// restore's CPU time) runs on worker threads while the main thread reads and writes.
import { owned, serveJobs, WorkerPool } from '../concurrency/pool.ts';
import { TardisError } from '../errors/errors.ts';
import { openChunkWith, type OpenKeys } from '../keyring/keyring.ts';
import type { RepoSession } from '../model/session.ts';

const MARK = 'tardis-open-worker';
/** Chunk ids per readChunks call. */
const BATCH = 256;
/** readChunks calls in flight: one can be read while the last one's chunks are opened. (Four overlapped tardisd round trips a little better but held twice the replies in memory on both sides.) */
const READS = 2;

interface Job {
  id: Uint8Array;
  blob: Uint8Array;
}

/** The plaintext, or why the chunk is bad (missing, damaged, not the chunk asked for). */
type Opened = { plain: Uint8Array } | { bad: string };

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
/** A copy that owns its memory, so it can move between threads (a view would clone its whole buffer). */
const own = (u: Uint8Array) => (owned(u).length ? u : new Uint8Array(u));

function opener(keys: OpenKeys): (job: Job) => Opened {
  return ({ id, blob }) => {
    try {
      return { plain: openChunkWith(keys, asBuffer(id), blob) };
    } catch (err) {
      if (err instanceof TardisError) return { bad: err.message };
      throw err;
    }
  };
}

serveJobs(MARK, opener, (r: Opened) => ('plain' in r ? owned(r.plain) : []));

interface Wanted {
  id: Buffer;
  waiters: { resolve: (b: Buffer | null) => void; reject: (e: unknown) => void }[];
}

export class ChunkSource {
  readonly #session: RepoSession;
  readonly #pool: WorkerPool<OpenKeys, Job, Opened>;
  #queue = new Map<string, Wanted>();
  #reading = 0;
  #soon = false;

  constructor(session: RepoSession, keys: OpenKeys) {
    this.#session = session;
    const local = opener(keys);
    this.#pool = new WorkerPool<OpenKeys, Job, Opened>({
      url: new URL(import.meta.url), mark: MARK, data: keys, local,
      send: (job) => {
        const blob = own(job.blob);
        return [{ id: new Uint8Array(job.id), blob: blob }, owned(blob)];
      },
    });
  }

  /** Each chunk's plaintext, in order; null where a chunk is missing or fails authentication. */
  get(ids: Buffer[]): Promise<Buffer | null>[] {
    const out = ids.map((id) => new Promise<Buffer | null>((resolve, reject) => {
      const k = id.toString('latin1');
      let w = this.#queue.get(k);
      if (!w) this.#queue.set(k, (w = { id, waiters: [] }));
      w.waiters.push({ resolve, reject });
    }));
    if (this.#queue.size >= BATCH) this.#flush();
    else this.#later();
    return out;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Flushes at the end of this turn (what the other files ask for joins the batch), unless reads are busy. */
  #later(): void {
    if (this.#soon || this.#reading >= READS || this.#queue.size === 0) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      if (this.#reading < READS) this.#flush();
    });
  }

  #flush(): void {
    const batch = [...this.#queue.values()];
    this.#queue = new Map();
    if (batch.length === 0) return;
    this.#reading++;
    const done = () => {
      this.#reading--;
      this.#later();
    };
    this.#session.readChunks(batch.map((w) => w.id)).then((blobs) => {
      done();
      batch.forEach((w, i) => {
        const blob = blobs[i];
        if (!blob) return w.waiters.forEach((x) => x.resolve(null));
        this.#pool.run({ id: w.id, blob }).then(
          (r) => w.waiters.forEach((x) => x.resolve('plain' in r ? asBuffer(r.plain) : null)),
          (err) => w.waiters.forEach((x) => x.reject(err)),
        );
      });
    }, (err) => {
      done();
      for (const w of batch) w.waiters.forEach((x) => x.reject(err));
    });
  }
}
