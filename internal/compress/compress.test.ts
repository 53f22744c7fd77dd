import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError, UsageError } from '../errors/errors.ts';
import { blobCompression, type CompressAlg, compressBlob, decompressBlob, parseCompressAlg } from './compress.ts';

const text = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(20_000));
const half = Buffer.concat([Buffer.alloc(512 * 1024), randomBytes(512 * 1024)]);
const ALGS: CompressAlg[] = ['zstd', 'gzip', 'none'];

test('round trips for every algorithm and kind of data', () => {
  const inputs = [Buffer.alloc(0), Buffer.from('a'), text, Buffer.alloc(3 << 20), randomBytes(100_000), half];
  for (const alg of ALGS) {
    for (const data of inputs) {
      const c = compressBlob(data, alg);
      assert.deepEqual(decompressBlob(c), data, `${alg} ${data.length}`);
    }
  }
});

test('compressible data is compressed with the requested algorithm', () => {
  for (const alg of ['zstd', 'gzip'] as const) {
    const c = compressBlob(text, alg);
    assert.equal(blobCompression(c), alg);
    assert.ok(c.length < text.length / 10, `${alg}: ${c.length}`);
  }
  // Half zeros, half noise: the sample sees both, and the whole is worth compressing.
  const c = compressBlob(half, 'zstd');
  assert.equal(blobCompression(c), 'zstd');
  assert.ok(c.length < half.length * 0.6);
});

test('levels are honoured and validated', () => {
  const fast = compressBlob(text, 'zstd', 1);
  const strong = compressBlob(text, 'zstd', 19);
  assert.deepEqual(decompressBlob(fast), text);
  assert.deepEqual(decompressBlob(strong), text);
  assert.deepEqual(decompressBlob(compressBlob(text, 'gzip', 9)), text);
  assert.throws(() => compressBlob(text, 'zstd', 23), UsageError);
  assert.throws(() => compressBlob(text, 'gzip', 10), UsageError);
  assert.throws(() => compressBlob(text, 'gzip', 1.5), UsageError);
});

test('incompressible data is stored raw', () => {
  for (const n of [10, 1000, 100_000, 300_000, 4 << 20]) {
    const data = randomBytes(n);
    for (const alg of ['zstd', 'gzip'] as const) {
      const c = compressBlob(data, alg);
      assert.equal(blobCompression(c), 'none', `${alg} ${n}`);
      assert.equal(c.length, n + 1);
      assert.deepEqual(decompressBlob(c), data);
    }
  }
  assert.equal(blobCompression(compressBlob(Buffer.alloc(0), 'zstd')), 'none');
});

test('corrupt input is an IntegrityError', () => {
  assert.throws(() => decompressBlob(Buffer.alloc(0)), IntegrityError);
  assert.throws(() => decompressBlob(Buffer.from([9, 1, 2, 3])), IntegrityError);
  for (const alg of ['zstd', 'gzip'] as const) {
    const c = compressBlob(text, alg);
    assert.throws(() => decompressBlob(c.subarray(0, c.length - 5)), IntegrityError, `${alg} truncated`);
    assert.throws(() => decompressBlob(Buffer.concat([c, Buffer.from('junk')])), IntegrityError, `${alg} trailing`);
    const badMagic = Buffer.from(c);
    badMagic[1] ^= 0xff;
    assert.throws(() => decompressBlob(badMagic), IntegrityError, `${alg} magic`);
    assert.throws(() => decompressBlob(Buffer.concat([Buffer.from([c[0]]), randomBytes(200)])), IntegrityError);
  }
  // gzip's CRC catches a flipped bit in the middle of the stream.
  const g = Buffer.from(compressBlob(text, 'gzip'));
  g[g.length >> 1] ^= 0x10;
  assert.throws(() => decompressBlob(g), IntegrityError);
});

test('output size is bounded', () => {
  const bomb = compressBlob(Buffer.alloc(8 << 20), 'zstd');
  assert.ok(bomb.length < 2000);
  assert.throws(() => decompressBlob(bomb, 1 << 20), IntegrityError);
  assert.throws(() => decompressBlob(compressBlob(Buffer.alloc(100), 'none'), 99), IntegrityError);
  assert.equal(decompressBlob(bomb).length, 8 << 20);
});

// Log-like lines with random fields: compressible, but not trivially so.
function logLines(bytes: number): Buffer {
  const verbs = ['GET', 'PUT', 'POST', 'DELETE'];
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const r = randomBytes(6);
    const line = `2025-01-${10 + (r[0] % 20)}T${r[1] % 24}:${r[2] % 60}:${r[3] % 60}Z host-${r[4] % 32} ${verbs[r[5] & 3]} /api/v1/items/${r.readUInt16LE(0)}?page=${r[2]} ${[200, 404, 500][r[3] % 3]} ${r.readUInt32LE(1) % 100000}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

test('throughput', (t) => {
  const logs = logLines(8 << 20);
  const noise = randomBytes(8 << 20);
  for (const [name, data, alg] of [
    ['zstd log lines', logs, 'zstd'],
    ['gzip log lines', logs, 'gzip'],
    ['zstd random (sampled, stored raw)', noise, 'zstd'],
  ] as const) {
    const t0 = performance.now();
    const c = compressBlob(data, alg);
    const t1 = performance.now();
    decompressBlob(c);
    const t2 = performance.now();
    const mb = data.length / 1e6;
    t.diagnostic(
      `${name}: compress ${(mb / ((t1 - t0) / 1000)).toFixed(0)} MB/s, decompress ${(mb / ((t2 - t1) / 1000)).toFixed(0)} MB/s, ratio ${(c.length / data.length).toFixed(3)}`,
    );
  }
});

test('parseCompressAlg', () => {
  assert.equal(parseCompressAlg('zstd'), 'zstd');
  assert.equal(parseCompressAlg('gzip'), 'gzip');
  assert.equal(parseCompressAlg('zlib'), 'gzip');
  assert.equal(parseCompressAlg('none'), 'none');
  assert.equal(parseCompressAlg(' ZSTD '), 'zstd');
  assert.throws(() => parseCompressAlg('lz4'), UsageError);
  assert.throws(() => parseCompressAlg(''), /unknown compression/);
});
