// Hostile input: whatever bytes a server returns, the reader fails with an IntegrityError only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import fc from 'fast-check';
import { TardisError } from '../errors/errors.ts';
import { PACK_MAGIC, PackBuilder, parsePackTrailer, readPackIndex } from './index.ts';

function onlyTardisErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TardisError)) throw err;
  }
}

/** A pack whose index is the msgpack of `index`, with a correct CRC, length and magic. */
function forge(index: unknown, blobArea = 64): Buffer {
  const body = pack(index);
  const tail = Buffer.alloc(12 + 4);
  tail.writeUInt32BE(crc32(body), 0);
  tail.writeUInt32BE(body.length, 4);
  PACK_MAGIC.copy(tail, 8);
  return Buffer.concat([Buffer.alloc(blobArea), body, tail]);
}

const id = Buffer.alloc(32, 7);

test('forged but well-checksummed indexes are rejected', () => {
  const cases: [unknown, RegExp][] = [
    [[1, 2], /not a map/],
    [{ v: 2, e: [] }, /version/],
    [{ v: 1 }, /entry list/],
    [{ v: 1, e: [[id, 0, 0]] }, /malformed/],
    [{ v: 1, e: [[Buffer.alloc(31), 0, 0, 1]] }, /bad id/],
    [{ v: 1, e: [['x'.repeat(32), 0, 0, 1]] }, /bad id/],
    [{ v: 1, e: [[id, 256, 0, 1]] }, /bad type/],
    [{ v: 1, e: [[id, 0, -1, 1]] }, /offset or length/],
    [{ v: 1, e: [[id, 0, 0.5, 1]] }, /offset or length/],
    [{ v: 1, e: [[id, 0, 0, 2 ** 60]] }, /offset or length/],
    [{ v: 1, e: [[id, 0, 0, 65]] }, /past the blob area/],
    [{ v: 1, e: [[id, 0, 10, 10], [Buffer.alloc(32, 8), 0, 15, 1]] }, /overlaps/],
    [{ v: 1, e: [[id, 0, 0, 1], [id, 0, 1, 1]] }, /twice/],
  ];
  for (const [index, message] of cases) {
    const data = forge(index);
    assert.throws(() => parsePackTrailer(data, data.length), message, JSON.stringify(index));
  }
  const ok = forge({ v: 1, e: [[id, 0, 0, 64]] });
  assert.equal(parsePackTrailer(ok, ok.length)[0].length, 64);
  const empty = forge({ v: 1, e: [] });
  assert.deepEqual(parsePackTrailer(empty, empty.length), []);
});

test('random bytes, random trailers and random msgpack never throw a non-TardisError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(400), (bytes, extra) => {
      const buf = Buffer.from(bytes);
      onlyTardisErrors(() => parsePackTrailer(buf, buf.length));
      onlyTardisErrors(() => parsePackTrailer(buf, buf.length + extra));
      // Random index bytes behind a valid length/magic/CRC get past the framing checks.
      const framed = Buffer.concat([buf, Buffer.alloc(16)]);
      framed.writeUInt32BE(crc32(buf), buf.length);
      framed.writeUInt32BE(buf.length, buf.length + 4);
      PACK_MAGIC.copy(framed, buf.length + 8);
      onlyTardisErrors(() => parsePackTrailer(framed, framed.length + extra));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }), (value) => {
      let data: Buffer;
      try {
        data = forge(value);
      } catch {
        return; // msgpackr cannot encode it; nothing to test
      }
      onlyTardisErrors(() => parsePackTrailer(data, data.length));
    }),
    { numRuns: 1000 },
  );
});

test('every truncation and every bit flip in the trailer of a real pack is caught', async () => {
  const b = new PackBuilder();
  for (let i = 0; i < 5; i++) b.add(Buffer.alloc(32, i), i & 1, Buffer.alloc(50, i));
  const { data, entries } = b.finish();
  for (let cut = 0; cut < data.length; cut++) {
    const part = data.subarray(0, cut);
    await assert.rejects(readPackIndex(async (o, l) => part.subarray(o, o + l), part.length), TardisError);
  }
  const trailerStart = 5 * 50;
  for (let i = trailerStart; i < data.length; i++) {
    for (let bit = 1; bit < 256; bit <<= 1) {
      const bad = Buffer.from(data);
      bad[i] ^= bit;
      // CRC32 detects every single-bit flip in the index; flips elsewhere break framing.
      assert.throws(() => parsePackTrailer(bad, bad.length), TardisError, `byte ${i}`);
    }
  }
  assert.deepEqual(parsePackTrailer(data, data.length), entries);
});
