import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import { chunkId } from '../crypto/index.ts';
import type { FileKeys } from '../keyring/keyring.ts';
import { seededBytes } from '../testkit/fixtures.ts';
import { readFileAsking, readFileSealed, type ChunkBatch, type PlainChunk, type ReadRequest } from './readfile.ts';
import { SealPool } from './sealpool.ts';

const KiB = 1024;
// Small chunks, so a few MiB make many batches.
const keys: FileKeys = {
  dataKey: randomBytes(32), aead: 'chacha20-poly1305', compression: 'zstd',
  idKey: randomBytes(32), chunkerSeed: randomBytes(32), chunker: { min: 16 * KiB, avg: 32 * KiB, max: 128 * KiB },
};

function fixture(t: TestContext, size: number): ReadRequest {
  const dir = mkdtempSync(path.join(tmpdir(), 'tardis-readfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  // Every other 256 KiB block repeats: the same chunks come back within the file.
  const data = Buffer.concat(Array.from({ length: Math.ceil(size / (256 * KiB)) }, (_, i) => seededBytes(256 * KiB, i % 2 ? `odd${i}` : 'even'))).subarray(0, size);
  writeFileSync(file, data);
  const st = lstatSync(file, { bigint: true });
  return { path: Buffer.from(file), ino: st.ino, size, mtimeNs: st.mtimeNs, compression: 'zstd' };
}

/** An ask that wants every other chunk it has not seen, and records what it was given. */
function recorder() {
  const batches: ChunkBatch[] = [];
  const given: PlainChunk[] = [];
  const wanted = new Set<string>();
  const seen = new Set<string>();
  const ask = async (b: ChunkBatch, w: PlainChunk[]) => {
    batches.push(b);
    given.push(...w);
    const want: number[] = [];
    b.ids.forEach((id, i) => {
      const k = Buffer.from(id).toString('hex');
      if (seen.has(k)) return;
      seen.add(k);
      if (seen.size % 2 === 0) {
        wanted.add(k);
        want.push(i);
      }
    });
    return want;
  };
  return { batches, given, wanted, ask };
}

test('a large file read in batches: the same ids and hash as a whole read, and only the chunks wanted are handed over', async (t) => {
  const req = fixture(t, 3 * 1024 * KiB + 777);
  const whole = readFileSealed(keys, req, Buffer.alloc(64 * KiB));
  const r = recorder();
  const end = await readFileAsking(keys, req, Buffer.alloc(64 * KiB), 256 * KiB, r.ask);
  assert.deepEqual(Buffer.from(end.hash), Buffer.from(whole.hash));
  assert.equal(end.size, req.size);
  assert.equal(end.changed, false);
  assert.ok(r.batches.length > 4, `${r.batches.length} batches`);
  const ids = r.batches.flatMap((b) => b.ids.map((id) => Buffer.from(id).toString('hex')));
  assert.deepEqual(ids, whole.chunks.map((c) => Buffer.from(c.id).toString('hex')));
  assert.equal(r.batches.reduce((n, b) => n + b.bytes, 0), req.size, 'every byte read is reported once');
  assert.equal(r.batches.reduce((n, b) => n + b.lengths.reduce((a, x) => a + x, 0), 0), req.size);
  // Exactly the wanted chunks come back, each with the plaintext of its id.
  assert.deepEqual(new Set(r.given.map((c) => Buffer.from(c.id).toString('hex'))), r.wanted);
  assert.equal(r.given.length, r.wanted.size);
  for (const c of r.given) assert.deepEqual(chunkId(keys.idKey, c.data), Buffer.from(c.id));
});

test('a large read on worker threads gives the same answer, and an error of the asker ends it as it is', async (t) => {
  const req = fixture(t, 10 * 1024 * KiB); // three batches of LARGE_BATCH
  const pool = new SealPool(keys, 2);
  t.after(() => pool.close());
  const whole = readFileSealed(keys, req, Buffer.alloc(64 * KiB));
  const r = recorder();
  const end = await pool.readLarge(req, r.ask);
  assert.ok(r.batches.length >= 3, `${r.batches.length} batches`);
  assert.deepEqual(Buffer.from(end.hash), Buffer.from(whole.hash));
  assert.equal(r.given.length, r.wanted.size);
  for (const c of r.given) assert.deepEqual(chunkId(keys.idKey, c.data), Buffer.from(c.id));

  class DiskFull extends Error {}
  let asks = 0;
  await assert.rejects(pool.readLarge(req, async () => {
    if (++asks === 2) throw new DiskFull('repository disk full');
    return [];
  }), (err: unknown) => err instanceof DiskFull);
  // The pool still works after a read was stopped.
  const again = await pool.read(req);
  assert.deepEqual(Buffer.from(again.hash), Buffer.from(whole.hash));
});

test('a file missing by the time it is read fails with its errno code, on the pool too', async (t) => {
  const req = fixture(t, 1024 * KiB);
  rmSync(Buffer.from(req.path).toString());
  const pool = new SealPool(keys, 1);
  t.after(() => pool.close());
  await assert.rejects(pool.readLarge(req, async () => []), { code: 'ENOENT' });
});
