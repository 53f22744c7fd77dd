// Bounded concurrency for I/O-bound loops: many small files are latency-bound (open, read,
// fstat, close each wait on the thread pool), so a few in flight overlap those waits.

/**
 * Calls `fn` for every item with at most `limit` calls in flight. Rejects with the first error,
 * after the calls already running have settled.
 */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed !== null) throw (failed as { err: unknown }).err;
}
