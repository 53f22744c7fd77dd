// Sealing (compress, then encrypt) is most of a backup's CPU time, so it runs on worker threads
// while the main thread reads, chunks and talks to the repository.
//
// The worker runs this same module: in a bundle, import.meta.url is the bundle itself (whose
// command mains do nothing off the main thread, see cli.runMain); from source it is this file.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CompressAlg } from '../compress/index.ts';
import { sealChunkWith, type SealKeys } from '../keyring/keyring.ts';

const MARK = 'tardis-seal-worker';

interface Job {
  n: number;
  id: Uint8Array;
  data: Uint8Array;
  compression: CompressAlg;
}

interface Done {
  n: number;
  blob?: Uint8Array;
  error?: string;
}

/** Hands a buffer's memory to the worker when the buffer owns all of it; copies otherwise. */
function transferable(b: Uint8Array): ArrayBuffer[] {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer ? [b.buffer] : [];
}

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === MARK) {
  const keys = (workerData as { keys: SealKeys }).keys;
  parentPort!.on('message', (job: Job) => {
    let reply: Done;
    try {
      const blob = sealChunkWith(keys, Buffer.from(job.id), job.data, job.compression);
      reply = { n: job.n, blob };
    } catch (err) {
      reply = { n: job.n, error: (err as Error).message };
    }
    parentPort!.postMessage(reply, reply.blob ? transferable(reply.blob) : []);
  });
}

/** Seals chunks on `size` worker threads; falls back to the calling thread if workers fail. */
export class SealPool {
  readonly #keys: SealKeys;
  readonly #size: number;
  #workers: Worker[] | null = null;
  #next = 0;
  #seq = 0;
  readonly #waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  #broken = false;

  constructor(keys: SealKeys, size = defaultPoolSize()) {
    this.#keys = keys;
    this.#size = size;
  }

  /**
   * Seals one chunk. The pool may take over `data`'s memory: the caller must not use it after.
   */
  seal(id: Buffer, data: Buffer, compression: CompressAlg): Promise<Buffer> {
    const workers = this.#start();
    if (!workers) return Promise.resolve(sealChunkWith(this.#keys, id, data, compression));
    const n = this.#seq++;
    const w = workers[this.#next++ % workers.length]!;
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiting.set(n, { resolve, reject });
      const job: Job = { n, id, data, compression };
      w.postMessage(job, transferable(data));
    });
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = null;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }

  #start(): Worker[] | null {
    if (this.#workers || this.#broken || this.#size < 1) return this.#workers;
    try {
      const ws: Worker[] = [];
      for (let i = 0; i < this.#size; i++) {
        const w = new Worker(new URL(import.meta.url), { workerData: { mark: MARK, keys: this.#keys } });
        w.unref();
        w.on('message', (d: Done) => this.#settle(d));
        w.on('error', (err: Error) => this.#fail(err));
        w.on('exit', (code) => {
          if (this.#workers?.includes(w)) this.#fail(new Error(`seal worker exited with code ${code}`));
        });
        ws.push(w);
      }
      this.#workers = ws;
    } catch {
      // No worker threads here (an embedded runtime, say): seal on this thread.
      this.#broken = true;
    }
    return this.#workers;
  }

  #settle(d: Done): void {
    const p = this.#waiting.get(d.n);
    if (!p) return;
    this.#waiting.delete(d.n);
    if (d.blob) p.resolve(Buffer.from(d.blob.buffer, d.blob.byteOffset, d.blob.byteLength));
    else p.reject(new Error(d.error ?? 'seal worker failed'));
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

/** One worker per core, but the main thread keeps one core busy too, so at least one. */
export function defaultPoolSize(): number {
  const env = Number(process.env.TARDIS_SEAL_THREADS);
  if (Number.isInteger(env) && env >= 0) return env;
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}
