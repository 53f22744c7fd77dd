import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { SparseWriter } from './sparse.ts';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-sparse-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const MiB = 1 << 20;

/** Writes `content` through a SparseWriter in chunks of the given sizes (cycled). */
function writeSparse(name: string, content: Buffer, chunks: number[], size?: number) {
  const file = path.join(tmp, name);
  const w = new SparseWriter(fs.openSync(file, 'wx'));
  for (let off = 0, i = 0; off < content.length; i++) {
    const n = Math.min(chunks[i % chunks.length], content.length - off);
    w.write(content.subarray(off, off + n));
    off += n;
  }
  w.close(size);
  return { file, skipped: w.skippedBytes };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a 64 MiB file with data at start, middle and end is restored sparse', async (t) => {
  const content = Buffer.alloc(64 * MiB);
  randomBytes(10_000).copy(content, 0);
  randomBytes(10_000).copy(content, 32 * MiB + 123); // unaligned
  randomBytes(5_000).copy(content, 64 * MiB - 5_000);
  const { file, skipped } = writeSparse('big', content, [MiB + 7, 65_536, 1_000_003]);
  const st = fs.statSync(file);
  assert.equal(st.size, content.length);
  assert.equal(sha(fs.readFileSync(file)), sha(content));
  const allocated = st.blocks * 512;
  t.diagnostic(`size ${st.size}, allocated ${allocated}, skipped ${skipped}`);
  assert.ok(allocated < 256 * 1024, `allocated ${allocated} bytes`);
  assert.ok(skipped > 63 * MiB);
});

test('trailing zeros become a hole and close(size) can extend it', async () => {
  const content = Buffer.concat([Buffer.from('head'), Buffer.alloc(8 * MiB + 10)]);
  const { file } = writeSparse('tail', content, [4096 * 3 + 1]);
  const st = fs.statSync(file);
  assert.equal(st.size, content.length);
  assert.ok(st.blocks * 512 <= 8192);
  assert.equal(sha(fs.readFileSync(file)), sha(content));
  const ext = writeSparse('extended', Buffer.from('abc'), [3], 10 * MiB);
  assert.equal(fs.statSync(ext.file).size, 10 * MiB);
  assert.equal(fs.readFileSync(ext.file).subarray(0, 4).toString('latin1'), 'abc\0');
});

test('content survives any chunking of mixed zero and data regions', async () => {
  // Regions of random lengths, alternately zero and random, written in random chunk sizes.
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let round = 0; round < 20; round++) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const n = rnd(3) === 0 ? rnd(20_000) : rnd(3) * 4096 + rnd(2) * rnd(4096);
      parts.push(i % 2 ? Buffer.alloc(n) : randomBytes(n));
    }
    const content = Buffer.concat(parts);
    const chunks = Array.from({ length: 5 }, () => 1 + rnd(9000));
    const { file } = writeSparse(`mix-${round}`, content, chunks);
    assert.equal(sha(fs.readFileSync(file)), sha(content), `round ${round}`);
  }
  const empty = writeSparse('empty', Buffer.alloc(0), [1]);
  assert.equal(fs.statSync(empty.file).size, 0);
});

test('write after close is an error; the caller may reuse its buffer after write', async () => {
  const file = path.join(tmp, 'reuse');
  const w = new SparseWriter(fs.openSync(file, 'wx'));
  const buf = Buffer.alloc(100, 0x41);
  w.write(buf);
  buf.fill(0x42);
  w.write(buf);
  w.close();
  assert.equal(fs.readFileSync(file).toString(), 'A'.repeat(100) + 'B'.repeat(100));
  assert.throws(() => w.write(buf), /after close/);
});
