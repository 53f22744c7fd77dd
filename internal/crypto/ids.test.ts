import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError } from '../errors/errors.ts';
import { ContentHasher, chunkId, fromHex, listingHash, toHex } from './ids.ts';

test('chunk ids are keyed, deterministic and 32 bytes', () => {
  const k = randomBytes(32);
  const data = randomBytes(1000);
  const id = chunkId(k, data);
  assert.equal(id.length, 32);
  assert.deepEqual(chunkId(k, Buffer.from(data)), id);
  assert.notDeepEqual(chunkId(randomBytes(32), data), id);
  assert.notDeepEqual(chunkId(k, data.subarray(1)), id);
});

test('streaming content hash is split-independent', () => {
  const k = randomBytes(32);
  const data = randomBytes(100_000);
  const whole = new ContentHasher(k).update(data).digest();
  const h = new ContentHasher(k);
  for (let i = 0; i < data.length; i += 7777) h.update(data.subarray(i, i + 7777));
  assert.deepEqual(h.digest(), whole);
  assert.equal(whole.length, 32);
});

test('chunk ids, content hashes and listing hashes are domain-separated', () => {
  const k = randomBytes(32);
  const data = Buffer.from('same bytes');
  const a = chunkId(k, data);
  const b = new ContentHasher(k).update(data).digest();
  const c = listingHash(k).update(data).digest();
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(b, c);
  assert.notDeepEqual(a, c);
  // No id is the plain HMAC under idKey, and a chunk holding a derivation label reveals no key.
  assert.notDeepEqual(a, createHmac('sha256', k).update(data).digest());
  const label = Buffer.from('tardis-content');
  const leaked = chunkId(k, label);
  assert.notDeepEqual(createHmac('sha256', leaked).update(data).digest(), b);
});

test('hex helpers', () => {
  const b = randomBytes(32);
  assert.equal(toHex(b).length, 64);
  assert.deepEqual(fromHex(toHex(b)), b);
  assert.equal(toHex(new Uint8Array([0, 255, 16])), '00ff10');
  assert.deepEqual(fromHex('ABcd'), Buffer.from([0xab, 0xcd]));
  for (const bad of ['abc', 'zz', '0x00', 'ab cd']) assert.throws(() => fromHex(bad), IntegrityError);
});
