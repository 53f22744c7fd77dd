// Reading, chunking, hashing and sealing (compress, then encrypt) files is most of a backup's
// CPU time, so it runs on worker threads with synchronous I/O, while the main thread walks and
// talks to the repository. Large files are read there too, asking the main thread batch by batch
// which chunks the repository lacks; those, and chunks of streams (snapshots), are sealed there.
//
// The worker runs this same module: in a bundle, import.meta.url is the bundle itself (whose
// command mains do nothing off the main thread, see cli.runMain); from source it is this file.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CompressAlg } from '../compress/index.ts';
import { threadCount } from '../concurrency/pool.ts';
import { sealChunkWith, type FileKeys } from '../keyring/keyring.ts';
import { readFileAsking, readFileSealed, type AskMissing, type ChunkBatch, type PlainChunk, type ReadEnd, type ReadReply, type ReadRequest } from './readfile.ts';

const MARK = 'tardis-seal-worker';

type Job = SmallJob | { n: number; large: ReadRequest };
/** The jobs a worker answers in one go. */
type SmallJob =
  | { n: number; seal: { id: Uint8Array; data: Uint8Array; compression: CompressAlg } }
  | { n: number; read: ReadRequest };

/** To a worker: jobs, or the answer to a large read's question (null: stop that read). */
type ToWorker = Job[] | { answer: number; want: number[] | null };

const READ_BUF = 1 << 20;
// A large file is read in batches of this many plaintext bytes; it holds about two at a time.
export const LARGE_BATCH = 4 << 20;

// Reads asked for in the same turn of the event loop (a directory's files) travel to a worker
// in one message of up to this many, and come back in one: a message costs tens of
// microseconds each way, as much as reading a small file.
const READS_PER_MESSAGE = 16;

interface Done {
  n: number;
  blob?: Uint8Array;
  read?: ReadReply;
  /** A large read's question about one batch; more messages for the same job follow. */
  step?: { batch: ChunkBatch; wanted: PlainChunk[] };
  end?: ReadEnd;
  error?: string;
  code?: string;
}

/** Hands a buffer's memory to the other thread when the buffer owns all of it; copies otherwise. */
function transferable(b: Uint8Array): ArrayBuffer[] {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer ? [b.buffer] : [];
}

function errorDone(n: number, err: unknown): Done {
  return { n, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
}

function doJob(keys: FileKeys, job: SmallJob, scratch: () => Buffer): Done {
  try {
    if ('seal' in job) return { n: job.n, blob: sealChunkWith(keys, Buffer.from(job.seal.id), job.seal.data, job.seal.compression) };
    return { n: job.n, read: readFileSealed(keys, job.read, scratch()) };
  } catch (err) {
    return errorDone(job.n, err);
  }
}

const largeBuffer = (keys: FileKeys) => Buffer.allocUnsafeSlow(Math.max(READ_BUF, keys.chunker.min));

/** A large read with its own buffer: other jobs run on the same thread while it waits for answers. */
async function doLarge(keys: FileKeys, n: number, req: ReadRequest, ask: AskMissing): Promise<Done> {
  try {
    return { n, end: await readFileAsking(keys, req, largeBuffer(keys), LARGE_BATCH, ask) };
  } catch (err) {
    return errorDone(n, err);
  }
}

const movable = (d: Done): ArrayBuffer[] =>
  [...(d.blob ? [d.blob] : []), ...(d.read?.chunks ?? []).map((c) => c.blob), ...(d.step?.wanted ?? []).map((c) => c.data)].flatMap(transferable);

// A worker holds one file's chunks at a time: a small heap makes it collect early instead of
// growing the process by a hundred megabytes each.
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 };

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === MARK) {
  const keys = (workerData as { keys: FileKeys }).keys;
  let buf: Buffer | null = null;
  const scratch = () => (buf ??= Buffer.allocUnsafeSlow(Math.max(READ_BUF, keys.chunker.min)));
  const post = (ds: Done[]) => parentPort!.postMessage(ds, ds.flatMap(movable));
  // Large reads waiting for the main thread's answer, by job number.
  const asking = new Map<number, (want: number[] | null) => void>();
  parentPort!.on('message', (msg: ToWorker) => {
    if (!Array.isArray(msg)) return asking.get(msg.answer)?.(msg.want);
    const replies: Done[] = [];
    for (const job of msg) {
      if (!('large' in job)) {
        replies.push(doJob(keys, job, scratch));
        continue;
      }
      const ask: AskMissing = (batch, wanted) => new Promise((resolve, reject) => {
        asking.set(job.n, (want) => {
          asking.delete(job.n);
          if (want) resolve(want);
          else reject(new Error('read stopped'));
        });
        post([{ n: job.n, step: { batch, wanted } }]);
      });
      void doLarge(keys, job.n, job.large, ask).then((d) => post([d]));
    }
    if (replies.length > 0) post(replies);
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
  #reads: SmallJob[] = [];
  /** Large reads under way: who answers their questions, and on which worker they run. */
  readonly #asking = new Map<number, { ask: AskMissing; worker: Worker; error?: unknown }>();

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

  /**
   * Reads a large file batch by batch: `ask` gets each batch's chunk ids (with the plaintext of
   * the chunks it wanted last time) and answers which of them the repository lacks. Its errors
   * end the read and are rethrown here as they are.
   */
  async readLarge(req: ReadRequest, ask: AskMissing): Promise<ReadEnd> {
    const workers = this.#start();
    if (!workers) return readFileAsking(this.#keys, req, largeBuffer(this.#keys), LARGE_BATCH, ask);
    const n = this.#seq++;
    const worker = workers[this.#next++ % workers.length]!;
    const done = this.#expect(n, workers);
    const asking: { ask: AskMissing; worker: Worker; error?: unknown } = { ask, worker };
    this.#asking.set(n, asking);
    try {
      worker.postMessage([{ n, large: req }] satisfies ToWorker);
      return (await done).end!;
    } catch (err) {
      throw asking.error ?? err; // the repository's own error rather than the worker's "read stopped"
    } finally {
      this.#asking.delete(n);
    }
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = null;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }

  #run(job: SmallJob, transfer: ArrayBuffer[], coalesce = false): Promise<Done> {
    const workers = this.#start();
    if (!workers) {
      const d = doJob(this.#keys, job, () => (this.#scratch ??= largeBuffer(this.#keys)));
      return d.error === undefined ? Promise.resolve(d) : Promise.reject(failure(d));
    }
    job.n = this.#seq++;
    const done = this.#expect(job.n, workers);
    if (!coalesce) {
      this.#post([job], transfer);
    } else {
      if (this.#reads.length === 0) setImmediate(() => this.#postReads());
      this.#reads.push(job);
      if (this.#reads.length >= READS_PER_MESSAGE) this.#postReads();
    }
    return done;
  }

  /** The reply to job `n`, once a worker sends it. */
  #expect(n: number, workers: Worker[]): Promise<Done> {
    const done = new Promise<Done>((resolve, reject) => this.#waiting.set(n, { resolve, reject }));
    // Idle workers do not keep the process alive; busy ones must, or it could end mid-job.
    if (this.#waiting.size === 1) for (const w of workers) w.ref();
    return done;
  }

  /** Hands a large read's question to its `ask` and the answer back to its worker. */
  #step(d: Done): void {
    const a = this.#asking.get(d.n);
    if (!a) return;
    a.ask(d.step!.batch, d.step!.wanted).then(
      (want) => a.worker.postMessage({ answer: d.n, want } satisfies ToWorker),
      (err: unknown) => {
        a.error ??= err;
        a.worker.postMessage({ answer: d.n, want: null } satisfies ToWorker);
      },
    );
  }

  #postReads(): void {
    const jobs = this.#reads;
    this.#reads = [];
    if (jobs.length) this.#post(jobs, []);
  }

  #post(jobs: SmallJob[], transfer: ArrayBuffer[]): void {
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
          for (const d of ds) {
            if (d.step) this.#step(d);
            else this.#settle(d);
          }
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
