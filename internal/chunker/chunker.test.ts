import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { UsageError } from '../errors/errors.ts';
import { type ChunkerParams, Chunker, chunkStream, DEFAULT_CHUNKER, gearTable, validateChunkerParams } from './chunker.ts';

const SMALL: ChunkerParams = { min: 2048, avg: 8192, max: 65536 };
const seed = Buffer.alloc(32, 7);

function chunkAll(data: Buffer, params: ChunkerParams, s: Uint8Array = seed, pieces?: number[]): Buffer[] {
  const c = new Chunker(params, s);
  const out: Buffer[] = [];
  if (pieces === undefined) out.push(...c.push(data));
  else {
    let off = 0;
    for (const n of pieces) {
      out.push(...c.push(data.subarray(off, off + n)));
      off += n;
    }
    out.push(...c.push(data.subarray(off)));
  }
  out.push(...c.finish());
  return out;
}

function randomSplits(total: number, maxPiece: number): number[] {
  const pieces: number[] = [];
  let left = total;
  while (left > 0) {
    const n = Math.min(left, Math.floor(Math.random() * maxPiece));
    pieces.push(n);
    left -= n;
  }
  return pieces;
}

const sizes = (chunks: Buffer[]) => chunks.map((c) => c.length);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// Whole-buffer FastCDC straight from the paper's pseudo-code, as an oracle for the streaming code.
function referenceCuts(data: Buffer, p: ChunkerParams, s: Uint8Array): number[] {
  const gear = gearTable(s);
  const bits = Math.log2(p.avg);
  const maskS = (0xffffffff << (32 - bits - 2)) | 0;
  const maskL = (0xffffffff << (32 - bits + 2)) | 0;
  const lens: number[] = [];
  let start = 0;
  while (start < data.length) {
    let n = data.length - start;
    let len = n;
    if (n > p.min) {
      if (n > p.max) n = p.max;
      len = n;
      const normal = Math.min(p.avg, n);
      let h = 0;
      let i = p.min;
      let found = false;
      for (; i < normal && !found; i++) {
        h = ((h << 1) + gear[data[start + i]]) | 0;
        if ((h & maskS) === 0) (len = i + 1), (found = true);
      }
      for (; i < n && !found; i++) {
        h = ((h << 1) + gear[data[start + i]]) | 0;
        if ((h & maskL) === 0) (len = i + 1), (found = true);
      }
    }
    lens.push(len);
    start += len;
  }
  return lens;
}

test('matches a whole-buffer reference implementation', () => {
  const data = randomBytes(3 << 20);
  const got = chunkAll(data, SMALL);
  assert.deepEqual(sizes(got), referenceCuts(data, SMALL, seed));
  assert.deepEqual(Buffer.concat(got), data);
});

test('deterministic, and seeded per repository', () => {
  const data = randomBytes(1 << 20);
  const a = chunkAll(data, SMALL);
  assert.deepEqual(chunkAll(Buffer.from(data), SMALL), a);
  const b = chunkAll(data, SMALL, Buffer.alloc(32, 8));
  assert.notDeepEqual(sizes(b), sizes(a));
  assert.notDeepEqual(gearTable(Buffer.alloc(32, 8)), gearTable(seed));
});

test('output does not depend on how the input is split', () => {
  const data = randomBytes(2 << 20);
  const whole = sizes(chunkAll(data, SMALL));
  for (const maxPiece of [1000, 7000, 70_000, 300_000]) {
    for (let round = 0; round < 5; round++) {
      const split = chunkAll(data, SMALL, seed, randomSplits(data.length, maxPiece));
      assert.deepEqual(sizes(split), whole, `maxPiece ${maxPiece}`);
      assert.deepEqual(Buffer.concat(split), data);
    }
  }
  // Byte-at-a-time on a shorter prefix.
  const prefix = data.subarray(0, 200_000);
  assert.deepEqual(sizes(chunkAll(prefix, SMALL, seed, new Array(prefix.length).fill(1))), sizes(chunkAll(prefix, SMALL)));
});

test('split-independent at default parameters too', () => {
  const data = randomBytes(20 << 20);
  const whole = chunkAll(data, DEFAULT_CHUNKER);
  const split = chunkAll(data, DEFAULT_CHUNKER, seed, randomSplits(data.length, 200_000));
  assert.deepEqual(sizes(split), sizes(whole));
  assert.deepEqual(split.map(sha), whole.map(sha));
});

test('min and max are respected; only the last chunk may be short', () => {
  const data = randomBytes(4 << 20);
  for (const params of [SMALL, { min: 1000, avg: 4096, max: 5000 }, { min: 64, avg: 128, max: 129 }]) {
    const chunks = chunkAll(data, params, seed, randomSplits(data.length, 50_000));
    assert.deepEqual(Buffer.concat(chunks), data);
    chunks.forEach((c, i) => {
      assert.ok(c.length <= params.max, `chunk ${i} too long: ${c.length}`);
      if (i < chunks.length - 1) assert.ok(c.length > params.min, `chunk ${i} too short: ${c.length}`);
    });
  }
});

test('all-zero input is cut deterministically within limits', () => {
  const data = Buffer.alloc(1 << 20);
  const chunks = chunkAll(data, SMALL);
  assert.deepEqual(Buffer.concat(chunks), data);
  assert.ok(chunks.every((c) => c.length <= SMALL.max));
  assert.deepEqual(sizes(chunkAll(data, SMALL, seed, randomSplits(data.length, 9999))), sizes(chunks));
});

test('empty input gives no chunks; short input one chunk', () => {
  const c = new Chunker(SMALL, seed);
  assert.deepEqual(c.push(Buffer.alloc(0)), []);
  assert.deepEqual(c.finish(), []);
  const short = chunkAll(Buffer.from('hello'), SMALL);
  assert.deepEqual(short, [Buffer.from('hello')]);
});

test('chunks own their memory', () => {
  const data = randomBytes(200_000);
  const input = Buffer.from(data);
  const c = new Chunker(SMALL, seed);
  const chunks = [...c.push(input.subarray(0, 100_000)), ...c.push(input.subarray(100_000)), ...c.finish()];
  input.fill(0);
  assert.deepEqual(Buffer.concat(chunks), data);
});

test('inserting 10 bytes in the middle of 20 MiB changes at most 3 chunks', () => {
  const data = randomBytes(20 << 20);
  const before = chunkAll(data, DEFAULT_CHUNKER);
  const mid = data.length >> 1;
  const edited = Buffer.concat([data.subarray(0, mid), randomBytes(10), data.subarray(mid)]);
  const after = chunkAll(edited, DEFAULT_CHUNKER);
  const known = new Set(before.map(sha));
  const fresh = after.filter((c) => !known.has(sha(c)));
  assert.ok(before.length >= 10, `only ${before.length} chunks`);
  assert.ok(fresh.length >= 1 && fresh.length <= 3, `${fresh.length} of ${after.length} chunks changed`);
});

test('throughput on random data', (t) => {
  const data = randomBytes(32 << 20);
  chunkAll(data.subarray(0, 8 << 20), DEFAULT_CHUNKER); // warm up the JIT
  const rounds = 4;
  let n = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const c = new Chunker(DEFAULT_CHUNKER, seed);
    for (let off = 0; off < data.length; off += 1 << 20) n += c.push(data.subarray(off, off + (1 << 20))).length;
    n += c.finish().length;
  }
  const secs = (performance.now() - t0) / 1000;
  const mb = (rounds * data.length) / 1e6;
  t.diagnostic(`chunker: ${(mb / secs).toFixed(0)} MB/s, mean chunk ${((mb * 1e6) / n / 1024).toFixed(0)} KiB`);
});

test('chunkStream chunks an async iterable like push/finish', async () => {
  const data = randomBytes(1 << 20);
  async function* source() {
    for (let off = 0; off < data.length; off += 12345) yield data.subarray(off, off + 12345);
  }
  const got: Buffer[] = [];
  for await (const c of chunkStream(source(), SMALL, seed)) got.push(c);
  assert.deepEqual(sizes(got), sizes(chunkAll(data, SMALL)));
});

test('parameters are validated', () => {
  validateChunkerParams(DEFAULT_CHUNKER);
  for (const bad of [
    { min: 512, avg: 1000, max: 4096 },
    { min: 1024, avg: 1024, max: 4096 },
    { min: 1024, avg: 2048, max: 2048 },
    { min: 0, avg: 2048, max: 4096 },
    { min: 1.5, avg: 2048, max: 4096 },
    { min: 8, avg: 16, max: 32 },
    { min: 1024, avg: 2048, max: 2 ** 31 },
  ]) {
    assert.throws(() => new Chunker(bad, seed), UsageError, JSON.stringify(bad));
  }
  assert.throws(() => new Chunker(SMALL, Buffer.alloc(16)), RangeError);
});
