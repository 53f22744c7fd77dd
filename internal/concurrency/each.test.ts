import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachLimit } from './each.ts';

test('eachLimit visits every item once with at most `limit` in flight', async () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await eachLimit(items, 4, async (x) => {
    running++;
    peak = Math.max(peak, running);
    await sleep(x % 3);
    seen.push(x);
    running--;
  });
  assert.deepEqual(seen.sort((a, b) => a - b), items);
  assert.equal(peak, 4);
});

test('eachLimit rejects with the first error and starts nothing after it', async () => {
  const started: number[] = [];
  await assert.rejects(
    eachLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (x) => {
      started.push(x);
      await sleep(1);
      if (x === 1) throw new Error('boom at 1');
    }),
    /boom at 1/,
  );
  assert.ok(started.length <= 4, `started ${started.join(',')}`);
  await eachLimit([], 3, async () => assert.fail('no items, no calls'));
});
