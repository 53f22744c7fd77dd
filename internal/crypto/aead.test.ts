import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { IntegrityError } from '../errors/errors.ts';
import {
  type AeadAlg,
  aeadBackend,
  aeadDecrypt,
  aeadEncrypt,
  BLOB_OVERHEAD,
  blobAlg,
  openBlob,
  sealBlob,
  setAeadBackend,
} from './aead.ts';

const ALGS: AeadAlg[] = ['chacha20-poly1305', 'aes-256-gcm'];
const aad = Buffer.from('pack 1234 blob 5');

afterEach(() => setAeadBackend('node'));

test('node:crypto is the default backend where it has the cipher', () => {
  assert.equal(aeadBackend('chacha20-poly1305'), 'node');
  assert.equal(aeadBackend('aes-256-gcm'), 'node');
  setAeadBackend('noble');
  assert.equal(aeadBackend('chacha20-poly1305'), 'noble');
});

for (const alg of ALGS) {
  for (const backend of ['node', 'noble'] as const) {
    test(`${alg} (${backend}) round trip at several sizes`, () => {
      setAeadBackend(backend);
      const key = randomBytes(32);
      for (const n of [0, 1, 15, 16, 17, 1000, 65537, 1 << 20]) {
        const plain = randomBytes(n);
        const blob = sealBlob(key, plain, aad, alg);
        assert.equal(blob.length, n + BLOB_OVERHEAD);
        assert.equal(blobAlg(blob), alg);
        assert.ok(Buffer.isBuffer(blob));
        assert.deepEqual(openBlob(key, blob, aad), plain);
      }
    });
  }

  test(`${alg}: node and noble read each other's blobs`, () => {
    const key = randomBytes(32);
    const plain = randomBytes(100_003);
    setAeadBackend('node');
    const fromNode = sealBlob(key, plain, aad, alg);
    setAeadBackend('noble');
    const fromNoble = sealBlob(key, plain, aad, alg);
    assert.deepEqual(openBlob(key, fromNode, aad), plain);
    setAeadBackend('node');
    assert.deepEqual(openBlob(key, fromNoble, aad), plain);
  });

  test(`${alg}: every flipped bit is detected`, () => {
    const key = randomBytes(32);
    const blob = sealBlob(key, randomBytes(40), aad, alg);
    for (const backend of ['node', 'noble'] as const) {
      setAeadBackend(backend);
      for (let i = 0; i < blob.length * 8; i++) {
        const bad = Buffer.from(blob);
        bad[i >> 3] ^= 1 << (i & 7);
        assert.throws(() => openBlob(key, bad, aad), IntegrityError, `bit ${i} (${backend})`);
      }
    }
  });

  test(`${alg}: wrong key, wrong AAD and truncation are detected`, () => {
    const key = randomBytes(32);
    const blob = sealBlob(key, Buffer.from('hello'), aad, alg);
    assert.throws(() => openBlob(randomBytes(32), blob, aad), IntegrityError);
    assert.throws(() => openBlob(key, blob, Buffer.from('pack 1234 blob 6')), IntegrityError);
    assert.throws(() => openBlob(key, blob, Buffer.alloc(0)), IntegrityError);
    for (const n of [0, 1, BLOB_OVERHEAD - 1, blob.length - 1]) {
      assert.throws(() => openBlob(key, blob.subarray(0, n), aad), IntegrityError);
    }
    assert.throws(() => openBlob(key, Buffer.concat([blob, Buffer.from([0])]), aad), IntegrityError);
  });
}

test('unknown algorithm id is an IntegrityError', () => {
  const key = randomBytes(32);
  const blob = sealBlob(key, Buffer.from('x'), aad, 'chacha20-poly1305');
  for (const id of [0, 3, 255]) {
    const bad = Buffer.from(blob);
    bad[0] = id;
    assert.throws(() => openBlob(key, bad, aad), IntegrityError);
  }
});

test('the same plaintext seals differently every time', () => {
  const key = randomBytes(32);
  const a = sealBlob(key, Buffer.from('same'), aad, 'aes-256-gcm');
  const b = sealBlob(key, Buffer.from('same'), aad, 'aes-256-gcm');
  assert.notDeepEqual(a, b);
});

test('accepts plain Uint8Array inputs and subarrays', () => {
  const key = new Uint8Array(randomBytes(32));
  const backing = new Uint8Array(randomBytes(64));
  const plain = backing.subarray(7, 50);
  const blob = sealBlob(key, plain, new Uint8Array(0), 'chacha20-poly1305');
  assert.deepEqual(new Uint8Array(openBlob(key, blob, new Uint8Array(0))), plain);
});

test('RFC 8439 section 2.8.2 AEAD vector on both backends', () => {
  const key = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex');
  const nonce = Buffer.from('070000004041424344454647', 'hex');
  const ad = Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex');
  const pt = Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  for (const backend of ['node', 'noble'] as const) {
    setAeadBackend(backend);
    const out = aeadEncrypt('chacha20-poly1305', key, nonce, pt, ad);
    assert.equal(out.subarray(0, 4).toString('hex'), 'd31a8d34');
    assert.equal(out.subarray(out.length - 16).toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');
    assert.deepEqual(aeadDecrypt('chacha20-poly1305', key, nonce, out, ad), pt);
  }
});
