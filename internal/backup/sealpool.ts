// Reading, chunking, hashing and sealing (compress, then encrypt) files is most of a backup's
// CPU time, so it runs on worker threads with synchronous I/O, while the main thread walks and
// talks to the repository. Chunks of streams (big files, snapshots) are sealed there too.
//
// The worker runs this same module: in a bundle, import.meta.url is the bundle itself (whose
// command mains do nothing off the main thread, see cli.runMain); from source it is this file.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CompressAlg } from '../compress/index.ts';
import { threadCount } from '../concurrency/pool.ts';
import { sealChunkWith, type FileKeys } from '../keyring/keyring.ts';
import { readFileSealed, type ReadReply, type ReadRequest } from './readfile.ts';

const MARK = 'tardis-seal-worker';

type Job =
  | { n: number; seal: { id: Uint8Array; data: Uint8Array; compression: CompressAlg } }
  | { n: number; read: ReadRequest };

// Reads asked for in the same turn of the event loop (a directory's files) travel to a worker
// in one message of up to this many, and come back in one: a message costs tens of
// microseconds each way, as much as reading a small file.
const READS_PER_MESSAGE = 16;

interface Done {
  n: number;
  blob?: Uint8Array;
  read?: ReadReply;
  error?: string;
  code?: string;
}

/** Hands a buffer's memory to the other thread when the buffer owns all of it; copies otherwise. */
function transferable(b: Uint8Array): ArrayBuffer[] {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer ? [b.buffer] : [];
}

function doJob(keys: FileKeys, job: Job, scratch: () => Buffer): Done {
  try {
    if ('seal' in job) return { n: job.n, blob: sealChunkWith(keys, Buffer.from(job.seal.id), job.seal.data, job.seal.compression) };
    return { n: job.n, read: readFileSealed(keys, job.read, scratch()) };
  } catch (err) {
    return { n: job.n, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
  }
}

const READ_BUF = 1 << 20;
// A worker holds one file's chunks at a time: a small heap makes it collect early instead of
// growing the process by a hundred megabytes each.
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 };

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === MARK) {
  const keys = (workerData as { keys: FileKeys }).keys;
  let buf: Buffer | null = null;
  const scratch = () => (buf ??= Buffer.allocUnsafeSlow(Math.max(READ_BUF, keys.chunker.min)));
  parentPort!.on('message', (jobs: Job[]) => {
    const replies = jobs.map((job) => doJob(keys, job, scratch));
    const moved = replies.flatMap((d) => (d.blob ? transferable(d.blob) : (d.read?.chunks ?? []).flatMap((c) => transferable(c.blob))));
    parentPort!.postMessage(replies, moved);
  });
}

/** An error from a worker, with the errno code it had there (ENOENT, EACCES…). */
function failure(d: Done): Error {
  const err = new Error(d.error ?? 'seal worker failed') as NodeJS.ErrnoException;
  if (d.code) err.code = d.code;
  return err;
}

/** Runs jobs on `size` worker threads; on the calling thread if there are none or they fail. */
export class SealPool {
  readonly #keys: FileKeys;
  readonly #size: number;
  #workers: Worker[] | null = null;
  #next = 0;
  #seq = 0;
  readonly #waiting = new Map<number, { resolve: (d: Done) => void; reject: (e: Error) => void }>();
  #broken = false;
  #scratch: Buffer | null = null;
  #reads: Job[] = [];

  constructor(keys: FileKeys, size = defaultPoolSize()) {
    this.#keys = keys;
    this.#size = size;
  }

  /**
   * Seals one chunk. The pool may take over `data`'s memory: the caller must not use it after.
   */
  async seal(id: Buffer, data: Buffer, compression: CompressAlg): Promise<Buffer> {
    const d = await this.#run({ n: 0, seal: { id, data, compression } }, transferable(data));
    return Buffer.from(d.blob!.buffer, d.blob!.byteOffset, d.blob!.byteLength);
  }

  /** Reads, chunks, hashes and seals one file; errors carry the errno code of the failed call. */
  async read(req: ReadRequest): Promise<ReadReply> {
    return (await this.#run({ n: 0, read: req }, [], true)).read!;
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = null;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }

  #run(job: Job, transfer: ArrayBuffer[], coalesce = false): Promise<Done> {
    const workers = this.#start();
    if (!workers) {
      const d = doJob(this.#keys, job, () => (this.#scratch ??= Buffer.allocUnsafeSlow(Math.max(READ_BUF, this.#keys.chunker.min))));
      return d.error === undefined ? Promise.resolve(d) : Promise.reject(failure(d));
    }
    job.n = this.#seq++;
    const done = new Promise<Done>((resolve, reject) => this.#waiting.set(job.n, { resolve, reject }));
    // Idle workers do not keep the process alive; busy ones must, or it could end mid-job.
    if (this.#waiting.size === 1) for (const w of workers) w.ref();
    if (!coalesce) {
      this.#post([job], transfer);
    } else {
      if (this.#reads.length === 0) setImmediate(() => this.#postReads());
      this.#reads.push(job);
      if (this.#reads.length >= READS_PER_MESSAGE) this.#postReads();
    }
    return done;
  }

  #postReads(): void {
    const jobs = this.#reads;
    this.#reads = [];
    if (jobs.length) this.#post(jobs, []);
  }

  #post(jobs: Job[], transfer: ArrayBuffer[]): void {
    const workers = this.#workers;
    if (!workers) {
      const err = new Error('seal worker failed');
      for (const j of jobs) this.#settle({ n: j.n, error: err.message });
      return;
    }
    workers[this.#next++ % workers.length]!.postMessage(jobs, transfer);
  }

  #start(): Worker[] | null {
    if (this.#workers || this.#broken || this.#size < 1) return this.#workers;
    try {
      const ws: Worker[] = [];
      for (let i = 0; i < this.#size; i++) {
        const w = new Worker(new URL(import.meta.url), { workerData: { mark: MARK, keys: this.#keys }, resourceLimits: WORKER_LIMITS });
        w.unref();
        w.on('message', (ds: Done[]) => {
          for (const d of ds) this.#settle(d);
        });
        w.on('error', (err: Error) => this.#fail(err));
        w.on('exit', (code) => {
          if (this.#workers?.includes(w)) this.#fail(new Error(`seal worker exited with code ${code}`));
        });
        ws.push(w);
      }
      this.#workers = ws;
    } catch {
      // No worker threads here (an embedded runtime, say): work on this thread.
      this.#broken = true;
    }
    return this.#workers;
  }

  #settle(d: Done): void {
    const p = this.#waiting.get(d.n);
    if (!p) return;
    this.#waiting.delete(d.n);
    if (this.#waiting.size === 0) for (const w of this.#workers ?? []) w.unref();
    if (d.error === undefined) p.resolve(d);
    else p.reject(failure(d));
  }

  #fail(err: Error): void {
    for (const p of this.#waiting.values()) p.reject(err);
    this.#waiting.clear();
    const ws = this.#workers;
    this.#workers = null;
    this.#broken = true;
    if (ws) for (const w of ws) void w.terminate();
  }
}

/** One worker per core: the main thread mostly waits on them and the repository. */
export function defaultPoolSize(): number {
  return threadCount('TARDIS_SEAL_THREADS', 0);
}
