import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { checkBody, decodeBody, encodeBody } from './codec.ts';
import { ProtocolError } from './errors.ts';

test('messages of plain data round-trip, bytes as Buffers', () => {
  const msg = {
    t: 'sendDir', id: 7, dir: 2 ** 40, partial: false, hash: Buffer.alloc(32, 1), neg: -12, f: 0.5, s: 'ünïcode',
    entries: [{ name: Buffer.from([0, 255]), user: null, size: 0 }], none: undefined, empty: Buffer.alloc(0),
  };
  const back = decodeBody(encodeBody(msg));
  assert.deepEqual(back, { ...msg, none: null });
  assert.ok(Buffer.isBuffer(back.hash));
  assert.ok(Buffer.isBuffer((back.entries as { name: Buffer }[])[0].name));
});

test('any JSON-like value round-trips through encode, check and decode', () => {
  // __proto__ keys are renamed by the decoder (see the test below), so they cannot round-trip.
  const json = fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v ?? null).includes('"__proto__"'));
  fc.assert(fc.property(fc.dictionary(fc.string().filter((k) => k !== '__proto__'), json), (obj) => {
    const enc = encodeBody(obj);
    checkBody(enc);
    assert.deepEqual(decodeBody(enc), JSON.parse(JSON.stringify(obj)));
  }));
});

test('extension types are refused before decoding', () => {
  const rich = new Packr({ moreTypes: true, structuredClone: true });
  for (const v of [new Date(), new Set([1]), new Map([[1, 2]]), /x/g, new Error('e'), 10n ** 30n, new Float64Array(2)]) {
    assert.throws(() => decodeBody(rich.pack({ t: 'x', v })), ProtocolError, String(v));
  }
  // A record definition (useRecords), the usual way msgpackr builds objects from structures.
  const rec = new Packr({ useRecords: true });
  assert.throws(() => decodeBody(rec.pack({ t: 'x', a: 1 })), ProtocolError);
});

test('deep nesting, non-string keys, truncation and trailing bytes are refused', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  assert.throws(() => decodeBody(encodeBody({ t: 'x', deep })), /deeper/);
  assert.throws(() => decodeBody(Buffer.from([0x81, 0x01, 0x02])), /key is not a string/);
  const ok = encodeBody({ t: 'x', id: 1 });
  assert.throws(() => decodeBody(ok.subarray(0, ok.length - 1)), /truncated/);
  assert.throws(() => decodeBody(Buffer.concat([ok, Buffer.from([0])])), /trailing/);
  assert.throws(() => decodeBody(encodeBody([1, 2])), /not a map/);
  assert.throws(() => decodeBody(Buffer.from([0xc1])), /reserved/);
  // A huge declared array in a tiny message.
  assert.throws(() => decodeBody(Buffer.from([0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff])), /truncated/);
  assert.throws(() => decodeBody(Buffer.alloc(0)), /truncated/);
});

test('__proto__ keys do not touch prototypes', () => {
  const buf = Buffer.concat([Buffer.from([0x82, 0xa1, 0x74, 0xa1, 0x78, 0xa9]), Buffer.from('__proto__'), encodeBody({ polluted: true })]);
  const m = decodeBody(buf);
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('random bytes never escape as anything but ProtocolError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    try {
      const m = decodeBody(Buffer.from(bytes));
      assert.equal(typeof m, 'object');
    } catch (err) {
      assert.ok(err instanceof ProtocolError, String(err));
    }
  }), { numRuns: 5000 });
});
