import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors/errors.ts';
import { BLOB_DATA, BLOB_TREE, PACK_MAGIC, PackBuilder, packTrailerSize, parsePackTrailer, readPackIndex, TRAILER_FIXED } from './index.ts';

function build(n: number, maxBlob = 3000) {
  const b = new PackBuilder();
  const blobs: { id: Buffer; type: number; blob: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomBytes(32);
    const type = i % 3 === 0 ? BLOB_TREE : BLOB_DATA;
    const blob = randomBytes(1 + Math.floor(Math.random() * maxBlob));
    const at = b.add(id, type, blob);
    assert.equal(at.length, blob.length);
    blobs.push({ id, type, blob });
  }
  return { builder: b, blobs, result: b.finish() };
}

const ranger = (data: Buffer) => async (off: number, len: number) => data.subarray(off, off + len);

test('round trip of many blobs', async () => {
  const { blobs, result } = build(500);
  assert.match(result.name, /^[0-9a-f]{32}$/);
  assert.deepEqual(result.data.subarray(-8), PACK_MAGIC);
  const entries = await readPackIndex(ranger(result.data), result.data.length);
  assert.equal(entries.length, blobs.length);
  assert.deepEqual(entries, result.entries);
  entries.forEach((e, i) => {
    assert.deepEqual(e.id, blobs[i].id);
    assert.equal(e.type, blobs[i].type);
    assert.deepEqual(result.data.subarray(e.offset, e.offset + e.length), blobs[i].blob);
  });
});

test('index parses from a tail that is longer than the trailer, or the whole pack', () => {
  const { result } = build(40);
  const size = result.data.length;
  const trailer = packTrailerSize(result.data.subarray(-TRAILER_FIXED), size);
  assert.deepEqual(parsePackTrailer(result.data.subarray(size - trailer - 100), size), result.entries);
  assert.deepEqual(parsePackTrailer(result.data, size), result.entries);
  assert.throws(() => parsePackTrailer(result.data.subarray(size - trailer + 1), size), IntegrityError);
});

test('builder bookkeeping: size, count, has, isFull, duplicates, finish once', () => {
  const b = new PackBuilder(100);
  const id = randomBytes(32);
  assert.equal(b.has(id), false);
  assert.deepEqual(b.add(id, BLOB_DATA, Buffer.alloc(60)), { offset: 0, length: 60 });
  assert.equal(b.has(Buffer.from(id)), true);
  assert.equal(b.isFull(), false);
  assert.throws(() => b.add(id, BLOB_DATA, Buffer.alloc(1)));
  assert.throws(() => b.add(randomBytes(31), BLOB_DATA, Buffer.alloc(1)));
  assert.deepEqual(b.add(randomBytes(32), BLOB_TREE, Buffer.alloc(40)), { offset: 60, length: 40 });
  assert.equal(b.size, 100);
  assert.equal(b.count, 2);
  assert.equal(b.isFull(), true);
  const { data } = b.finish();
  assert.equal(parsePackTrailer(data, data.length).length, 2);
  assert.throws(() => b.finish());
  assert.throws(() => b.add(randomBytes(32), BLOB_DATA, Buffer.alloc(1)));
  assert.throws(() => new PackBuilder().finish(), /empty/);
});

test('damaged magic, CRC, index and truncated packs are IntegrityErrors', async () => {
  const { result } = build(20);
  const data = result.data;
  const size = data.length;
  const trailer = packTrailerSize(data, size);

  const badMagic = Buffer.from(data);
  badMagic[size - 1] ^= 1;
  await assert.rejects(readPackIndex(ranger(badMagic), size), /bad magic/);

  const badCrc = Buffer.from(data);
  badCrc[size - TRAILER_FIXED - 1] ^= 0x80;
  await assert.rejects(readPackIndex(ranger(badCrc), size), /checksum/);

  const badIndex = Buffer.from(data);
  badIndex[size - trailer + 5] ^= 0x40;
  await assert.rejects(readPackIndex(ranger(badIndex), size), /checksum/);

  const badLength = Buffer.from(data);
  badLength.writeUInt32BE(size, size - TRAILER_FIXED);
  await assert.rejects(readPackIndex(ranger(badLength), size), /exceeds pack size/);

  // Cut from the front: the trailer is intact but its offsets now point past the blob area.
  const cut = data.subarray(100);
  await assert.rejects(readPackIndex(ranger(cut), cut.length), /past the blob area/);
  // Cut from the end: no magic.
  const short = data.subarray(0, size - 3);
  await assert.rejects(readPackIndex(ranger(short), short.length), IntegrityError);
  // A store that returns fewer bytes than the size claims.
  await assert.rejects(readPackIndex(ranger(data), size + 10), IntegrityError);
  await assert.rejects(readPackIndex(ranger(data), 5), /truncated/);
});
