// A pool of worker threads running one job function, with the calling thread as the fallback
// where workers cannot start (an embedded runtime, say) or die. The worker loads the module that
// called serveJobs (from a bundle: the bundle file, whose command mains do nothing off the main
// thread, see cli.runMain), so the job function is the same code on both sides.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface Reply<R> {
  n: number;
  result?: R;
  error?: string;
}

/** Which buffers of a message can move to the other thread instead of being copied. */
export type Movable<T> = (value: T) => ArrayBuffer[];

/** A buffer's memory, when the buffer owns all of it (otherwise it must be copied). */
export function owned(b: Uint8Array): ArrayBuffer[] {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer ? [b.buffer] : [];
}

/**
 * In a worker started by a WorkerPool with this `mark`: answers jobs with `make(data)`. Call at
 * the top level of the module whose import.meta.url the pool was given.
 */
export function serveJobs<D, J, R>(mark: string, make: (data: D) => (job: J) => R, moveResult: Movable<R>): void {
  const wd = workerData as { mark?: string; data: D } | null;
  if (isMainThread || wd?.mark !== mark) return;
  const run = make(wd.data);
  parentPort!.on('message', (jobs: { n: number; job: J }[]) => {
    const replies: Reply<R>[] = jobs.map(({ n, job }) => {
      try {
        return { n, result: run(job) };
      } catch (err) {
        return { n, error: (err as Error).message };
      }
    });
    parentPort!.postMessage(replies, replies.flatMap((r) => (r.result === undefined ? [] : moveResult(r.result))));
  });
}

export interface PoolOptions<D, J, R> {
  /** The module that calls serveJobs(mark, …) at its top level. */
  url: URL;
  mark: string;
  data: D;
  /** The job function on this thread (no workers); the workers build theirs from `data`. */
  local: (job: J) => R;
  /** A job as sent to a worker (copies of shared buffers, say) and the buffers it moves there. */
  send: (job: J) => [J, ArrayBuffer[]];
  size?: number;
}

/**
 * Jobs submitted in the same turn of the event loop go to a worker in one message (a message
 * costs tens of microseconds each way, as much as a small job).
 */
export class WorkerPool<D, J, R> {
  readonly #o: PoolOptions<D, J, R>;
  readonly #size: number;
  #workers: Worker[] | null = null;
  #broken = false;
  #seq = 0;
  #next = 0;
  #queued: { n: number; job: J }[] = [];
  readonly #waiting = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();

  constructor(o: PoolOptions<D, J, R>) {
    this.#o = o;
    this.#size = o.size ?? defaultThreads();
  }

  /** Runs a job; the pool may take over the memory of the job's movable buffers. */
  run(job: J): Promise<R> {
    const workers = this.#start();
    if (!workers) {
      try {
        return Promise.resolve(this.#o.local(job));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const n = this.#seq++;
    if (this.#waiting.size === 0) this.#hold(true);
    if (this.#queued.length === 0) queueMicrotask(() => this.#send());
    this.#queued.push({ n, job });
    return new Promise<R>((resolve, reject) => this.#waiting.set(n, { resolve, reject }));
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = null;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }

  /** Splits what was queued this turn evenly over the workers. */
  #send(): void {
    const q = this.#queued;
    this.#queued = [];
    const ws = this.#workers;
    if (!ws) {
      for (const { n, job } of q) this.#settleLocal(n, job);
      return;
    }
    const per = Math.ceil(q.length / ws.length);
    for (let i = 0; i < q.length; i += per) {
      const move: ArrayBuffer[] = [];
      const part = q.slice(i, i + per).map(({ n, job }) => {
        const [sent, moved] = this.#o.send(job);
        move.push(...moved);
        return { n, job: sent };
      });
      ws[this.#next++ % ws.length]!.postMessage(part, move);
    }
  }

  #settleLocal(n: number, job: J): void {
    const p = this.#waiting.get(n);
    if (!p) return;
    this.#waiting.delete(n);
    try {
      p.resolve(this.#o.local(job));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  #start(): Worker[] | null {
    if (this.#workers || this.#broken || this.#size < 1) return this.#workers;
    try {
      const ws: Worker[] = [];
      for (let i = 0; i < this.#size; i++) {
        const w = new Worker(this.#o.url, { workerData: { mark: this.#o.mark, data: this.#o.data } });
        w.on('message', (replies: Reply<R>[]) => replies.forEach((r) => this.#settle(r)));
        w.on('error', (err: Error) => this.#fail(err));
        w.on('exit', (code) => {
          if (this.#workers?.includes(w)) this.#fail(new Error(`worker exited with code ${code}`));
        });
        w.unref(); // after the listeners (which ref it); #hold refs it while jobs are out
        ws.push(w);
      }
      this.#workers = ws;
    } catch {
      this.#broken = true;
    }
    return this.#workers;
  }

  /** Workers keep the process alive only while jobs are out: an idle, unclosed pool does not. */
  #hold(on: boolean): void {
    for (const w of this.#workers ?? []) {
      if (on) w.ref();
      else w.unref();
    }
  }

  #settle(r: Reply<R>): void {
    const p = this.#waiting.get(r.n);
    if (!p) return;
    this.#waiting.delete(r.n);
    if (this.#waiting.size === 0) this.#hold(false);
    if (r.error === undefined) p.resolve(r.result as R);
    else p.reject(new Error(r.error));
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

/**
 * Worker threads for a pool: the whole number in environment variable `env` if set, else one
 * per core less `spare` (those left to the main thread), at least one and at most eight.
 */
export function threadCount(env: string, spare: number): number {
  const n = Number(process.env[env]);
  if (Number.isInteger(n) && n >= 0) return n;
  return Math.max(1, Math.min(8, availableParallelism() - spare));
}

/** Worker threads to use: TARDIS_THREADS, else one per core but the main thread's. */
export function defaultThreads(): number {
  return threadCount('TARDIS_THREADS', 1);
}
