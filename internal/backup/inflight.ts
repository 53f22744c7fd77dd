// Bounded concurrency without a barrier: tasks start as the caller produces them, and wait only
// when too many (or too many bytes) are already running.

/**
 * Runs tasks with at most `count` in flight, weighing at most `bytes` together (a single task
 * may weigh more). The first failure is rethrown by the next start() or by drain().
 */
export class Inflight {
  readonly #count: number;
  readonly #bytes: number;
  readonly #running = new Set<Promise<void>>();
  #weight = 0;
  #failed: { err: unknown } | null = null;

  constructor(count: number, bytes: number) {
    this.#count = count;
    this.#bytes = bytes;
  }

  async start(weight: number, task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#count || (this.#running.size > 0 && this.#weight + weight > this.#bytes)) await Promise.race(this.#running);
    if (this.#failed) throw this.#failed.err;
    this.#weight += weight;
    const p: Promise<void> = task().catch((err: unknown) => {
      this.#failed ??= { err };
    }).finally(() => {
      this.#weight -= weight;
      this.#running.delete(p);
    });
    this.#running.add(p);
  }

  /** Waits for every task; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    if (this.#failed) throw this.#failed.err;
  }
}

/**
 * Lets the event loop run (timers, I/O, messages from worker threads) once `ms` have passed
 * since it last did: a loop of synchronous calls chained by promises never does by itself.
 */
export class Turn {
  readonly #ms: number;
  #last = performance.now();

  constructor(ms: number) {
    this.#ms = ms;
  }

  async yield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < this.#ms) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#last = performance.now();
  }
}
