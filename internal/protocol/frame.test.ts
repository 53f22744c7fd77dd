import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import fc from 'fast-check';
import { COMPRESSED, encodeFrame, FrameDecoder, FrameMac, HEADER, sealFrame } from './frame.ts';
import { ProtocolError } from './errors.ts';

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(buf.subarray(last, p));
    last = p;
  }
  out.push(buf.subarray(last));
  return out;
}

test('frames round-trip however the stream is split', () => {
  fc.assert(fc.property(
    fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 8 }),
    fc.boolean(),
    fc.array(fc.nat(), { maxLength: 10 }),
    (payloads, compress, cuts) => {
      const wire = Buffer.concat(payloads.map((p) => encodeFrame(Buffer.from(p), compress)));
      const dec = new FrameDecoder(10_000);
      const got = splitAt(wire, cuts).flatMap((c) => dec.push(c));
      assert.deepEqual(got.map((f) => f.payload), payloads.map((p) => Buffer.from(p)));
      assert.equal(got.reduce((n, f) => n + f.wireBytes, 0), wire.length);
      assert.equal(dec.pending, 0);
    },
  ));
});

test('compression is used only when it pays', () => {
  const text = Buffer.from('a directory listing compresses well. '.repeat(200));
  const packed = encodeFrame(text, true);
  assert.ok(packed.readUInt32BE(0) & COMPRESSED);
  assert.ok(packed.length < text.length / 4);
  assert.deepEqual(new FrameDecoder().push(packed)[0].payload, text);
  const noise = randomBytes(200_000);
  const raw = encodeFrame(noise, true);
  assert.equal(raw.readUInt32BE(0), noise.length);
  assert.equal(raw.length, noise.length + HEADER);
  assert.equal(encodeFrame(text, false).length, text.length + HEADER);
});

test('a header over the limit is refused before its payload arrives', () => {
  const dec = new FrameDecoder(1000);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(0x7fff_ffff);
  assert.throws(() => dec.push(head), ProtocolError);
  const dec2 = new FrameDecoder(1000);
  head.writeUInt32BE(1001);
  assert.throws(() => dec2.push(head), /over the limit/);
  head.writeUInt32BE(1000);
  assert.deepEqual(new FrameDecoder(1000).push(Buffer.concat([head, Buffer.alloc(1000)])).length, 1);
});

test('a compressed frame may not expand beyond the limit, nor be garbage', () => {
  const bomb = encodeFrame(Buffer.alloc(100_000), true);
  assert.ok(bomb.length < 1000);
  assert.throws(() => new FrameDecoder(50_000).push(bomb), /expands beyond/);
  const junk = Buffer.alloc(HEADER + 10, 7);
  junk.writeUInt32BE((COMPRESSED | 10) >>> 0);
  assert.throws(() => new FrameDecoder().push(junk), /does not decompress/);
});

test('an empty frame and a partial header', () => {
  const dec = new FrameDecoder();
  assert.deepEqual(dec.push(Buffer.from([0, 0])), []);
  const got = dec.push(Buffer.from([0, 0]));
  assert.equal(got.length, 1);
  assert.equal(got[0].payload.length, 0);
});

test('MACed frames: checked in sequence; a flipped bit, a replay or a MACed frame before the login is refused', () => {
  const key = Buffer.alloc(32, 9);
  const send = new FrameMac(key);
  const frames = [Buffer.from('first'), Buffer.alloc(4000, 'z'), Buffer.from('third')].map((p, i) => sealFrame(encodeFrame(p, i === 1, true), send));
  const dec = new FrameDecoder();
  dec.mac = new FrameMac(key);
  const got = dec.push(Buffer.concat(frames));
  assert.deepEqual(got.map((f) => [f.payload.length, f.authenticated]), [[5, true], [4000, true], [5, true]]);
  assert.ok(got[1]!.wireBytes < 4000, 'compressed, then MACed');
  // A plain frame still decodes, marked unauthenticated (the connection decides what it may be).
  assert.equal(dec.push(encodeFrame(Buffer.from('ping')))[0]!.authenticated, false);

  const fresh = () => Object.assign(new FrameDecoder(), { mac: new FrameMac(key) });
  const flipped = Buffer.from(frames[0]!);
  flipped[6] ^= 1;
  assert.throws(() => fresh().push(flipped), /failed its MAC/);
  const replay = fresh();
  replay.push(frames[0]!);
  assert.throws(() => replay.push(frames[0]!), /failed its MAC/, 'the sequence number moved on');
  assert.throws(() => fresh().push(frames[1]!), /failed its MAC/, 'out of order');
  assert.throws(() => new FrameDecoder().push(frames[0]!), /MACed frame before the login/);
  assert.throws(() => sealFrame(encodeFrame(Buffer.from('x')), send), /no room for a MAC/);
});
