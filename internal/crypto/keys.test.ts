import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntegrityError, WrongPasswordError } from '../errors/errors.ts';
import {
  createKeySlot,
  DEFAULT_SCRYPT_N,
  decodeMasterKeys,
  encodeMasterKeys,
  generateMasterKeys,
  type KeySlot,
  MASTER_KEYS_LEN,
  openAnyKeySlot,
  openKeySlot,
} from './keys.ts';

const FAST = { n: 2 ** 10 };

test('master keys encode to a fixed layout and back', () => {
  const k = generateMasterKeys();
  assert.equal(k.dataKey.length, 32);
  assert.equal(k.idKey.length, 32);
  assert.equal(k.nameKey.length, 64);
  assert.equal(k.chunkerSeed.length, 32);
  const enc = encodeMasterKeys(k);
  assert.equal(enc.length, MASTER_KEYS_LEN);
  assert.equal(MASTER_KEYS_LEN, 161);
  assert.deepEqual(decodeMasterKeys(enc), k);
  assert.notDeepEqual(generateMasterKeys().dataKey, k.dataKey);
  assert.throws(() => decodeMasterKeys(enc.subarray(1)), IntegrityError);
  const badVersion = Buffer.from(enc);
  badVersion[0] = 9;
  assert.throws(() => decodeMasterKeys(badVersion), IntegrityError);
});

test('a password slot opens with the password and survives JSON', async () => {
  const k = generateMasterKeys();
  const slot = await createKeySlot(k, 'correct horse', FAST);
  assert.equal(slot.kdf, 'scrypt');
  assert.equal(slot.n, 2 ** 10);
  const copy = JSON.parse(JSON.stringify(slot)) as KeySlot;
  assert.deepEqual(await openKeySlot(copy, 'correct horse'), k);
});

test('wrong or missing password is a WrongPasswordError', async () => {
  const slot = await createKeySlot(generateMasterKeys(), 'correct horse', FAST);
  await assert.rejects(openKeySlot(slot, 'correct horsf'), WrongPasswordError);
  await assert.rejects(openKeySlot(slot, ''), WrongPasswordError);
  await assert.rejects(openKeySlot(slot, null), WrongPasswordError);
});

test('passwords are NFC-normalised', async () => {
  const k = generateMasterKeys();
  const slot = await createKeySlot(k, 'caf\u00e9', FAST); // precomposed é
  assert.deepEqual(await openKeySlot(slot, 'cafe\u0301'), k); // e + combining acute
});

test('a damaged slot never opens', async () => {
  const slot = await createKeySlot(generateMasterKeys(), 'pw', FAST);
  const data = Buffer.from(slot.data, 'base64');
  data[3] ^= 1;
  await assert.rejects(openKeySlot({ ...slot, data: data.toString('base64') }, 'pw'), WrongPasswordError);
  await assert.rejects(openKeySlot({ ...slot, n: 2 ** 11 }, 'pw'), WrongPasswordError);
  await assert.rejects(openKeySlot({ ...slot, n: 1000 }, 'pw'), IntegrityError);
  await assert.rejects(openKeySlot({ ...slot, n: 2 ** 30 }, 'pw'), IntegrityError);
  await assert.rejects(openKeySlot({ ...slot, nonce: 'AAAA' }, 'pw'), IntegrityError);
  await assert.rejects(openKeySlot({ ...slot, version: 2 } as unknown as KeySlot, 'pw'), IntegrityError);
});

test("kdf 'none' slots are unprotected and open without a password", async () => {
  const k = generateMasterKeys();
  const slot = await createKeySlot(k, null);
  assert.equal(slot.kdf, 'none');
  assert.equal(slot.salt, undefined);
  assert.deepEqual(await openKeySlot(slot, null), k);
  assert.deepEqual(await openKeySlot(slot, 'anything'), k);
  const data = Buffer.from(slot.data, 'base64');
  data[0] ^= 1;
  await assert.rejects(openKeySlot({ ...slot, data: data.toString('base64') }, null), IntegrityError);
});

test('openAnyKeySlot tries every slot', async () => {
  const k = generateMasterKeys();
  const slots = [await createKeySlot(k, 'alice', FAST), await createKeySlot(k, 'bob', FAST)];
  assert.deepEqual(await openAnyKeySlot(slots, 'bob'), k);
  assert.deepEqual(await openAnyKeySlot(slots, 'alice'), k);
  await assert.rejects(openAnyKeySlot(slots, 'carol'), WrongPasswordError);
  await assert.rejects(openAnyKeySlot([], 'carol'), IntegrityError);
});

test('default scrypt cost (N=2^16) works end to end', async () => {
  const k = generateMasterKeys();
  const slot = await createKeySlot(k, 'pw');
  assert.equal(slot.n, DEFAULT_SCRYPT_N);
  assert.equal(slot.r, 8);
  assert.equal(slot.p, 1);
  assert.equal(Buffer.from(slot.salt!, 'base64').length, 32);
  assert.deepEqual(await openKeySlot(slot, 'pw'), k);
  await assert.rejects(openKeySlot(slot, 'PW'), WrongPasswordError);
});
