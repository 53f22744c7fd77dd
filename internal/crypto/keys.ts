// Master keys and the password-wrapped key slots that protect them.
import { randomBytes, scrypt } from 'node:crypto';
import { IntegrityError, WrongPasswordError } from '../errors/errors.ts';
import { aeadDecrypt, aeadEncrypt, KEY_LEN, NONCE_LEN } from './aead.ts';

export interface MasterKeys {
  /** AEAD encryption of stored blobs. */
  dataKey: Uint8Array;
  /** Keyed chunk ids, content hashes and listing hashes. */
  idKey: Uint8Array;
  /** AES-256-SIV for names (64 bytes: two AES-256 keys). */
  nameKey: Uint8Array;
  /** Seeds the chunker's gear table. */
  chunkerSeed: Uint8Array;
}

export interface KeySlot {
  version: 1;
  kdf: 'scrypt' | 'none';
  n?: number;
  r?: number;
  p?: number;
  /** base64 */
  salt?: string;
  /** base64 */
  nonce: string;
  /** base64: encrypted master keys || tag */
  data: string;
  /** ISO 8601 */
  created: string;
}

const KEYS_VERSION = 1;
const FIELDS = [
  ['dataKey', 32],
  ['idKey', 32],
  ['nameKey', 64],
  ['chunkerSeed', 32],
] as const;
/** Size of encodeMasterKeys output: version byte + 160 key bytes. */
export const MASTER_KEYS_LEN = 1 + FIELDS.reduce((n, [, len]) => n + len, 0);

export const DEFAULT_SCRYPT_N = 2 ** 16;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_LEN = 32;
const SLOT_AAD = Buffer.from('tardis-keyslot-v1');
// Bounds on parameters read from a (possibly hostile) slot, so opening cannot exhaust memory.
const MAX_N = 2 ** 22;
const MAX_R = 32;
const MAX_P = 16;
const MAX_SCRYPT_MEM = 2 ** 30;

export function generateMasterKeys(): MasterKeys {
  return {
    dataKey: randomBytes(32),
    idKey: randomBytes(32),
    nameKey: randomBytes(64),
    chunkerSeed: randomBytes(32),
  };
}

export function encodeMasterKeys(k: MasterKeys): Buffer {
  const out = Buffer.alloc(MASTER_KEYS_LEN);
  out[0] = KEYS_VERSION;
  let off = 1;
  for (const [name, len] of FIELDS) {
    if (k[name].length !== len) throw new RangeError(`${name} must be ${len} bytes`);
    out.set(k[name], off);
    off += len;
  }
  return out;
}

export function decodeMasterKeys(b: Uint8Array): MasterKeys {
  if (b.length !== MASTER_KEYS_LEN || b[0] !== KEYS_VERSION) throw new IntegrityError('malformed master keys');
  const parts: Record<string, Buffer> = {};
  let off = 1;
  for (const [name, len] of FIELDS) {
    parts[name] = Buffer.from(b.subarray(off, off + len));
    off += len;
  }
  return { dataKey: parts.dataKey, idKey: parts.idKey, nameKey: parts.nameKey, chunkerSeed: parts.chunkerSeed };
}

function deriveKek(password: string, salt: Uint8Array, n: number, r: number, p: number): Promise<Buffer> {
  const pw = Buffer.from(password.normalize('NFC'), 'utf8');
  // OpenSSL's scrypt needs 128·r·(N + p + 2) bytes, more than Node's 32 MiB default maxmem at N=2^16.
  const maxmem = 128 * r * (n + p + 2) + (1 << 20);
  return new Promise((resolve, reject) => {
    scrypt(pw, salt, KEY_LEN, { N: n, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Wrap the master keys under a password (scrypt) or, with password null, under an all-zero
 * key: an explicitly unprotected repository.
 */
export async function createKeySlot(
  keys: MasterKeys,
  password: string | null,
  opts: { n?: number } = {},
): Promise<KeySlot> {
  const nonce = randomBytes(NONCE_LEN);
  const created = new Date().toISOString();
  const plain = encodeMasterKeys(keys);
  if (password === null) {
    const data = aeadEncrypt('chacha20-poly1305', Buffer.alloc(KEY_LEN), nonce, plain, SLOT_AAD);
    return { version: 1, kdf: 'none', nonce: nonce.toString('base64'), data: data.toString('base64'), created };
  }
  const n = opts.n ?? DEFAULT_SCRYPT_N;
  if (!scryptParamsOk(n, SCRYPT_R, SCRYPT_P)) throw new RangeError(`unsupported scrypt N=${n}`);
  const salt = randomBytes(SALT_LEN);
  const kek = await deriveKek(password, salt, n, SCRYPT_R, SCRYPT_P);
  const data = aeadEncrypt('chacha20-poly1305', kek, nonce, plain, SLOT_AAD);
  return {
    version: 1,
    kdf: 'scrypt',
    n,
    r: SCRYPT_R,
    p: SCRYPT_P,
    salt: salt.toString('base64'),
    nonce: nonce.toString('base64'),
    data: data.toString('base64'),
    created,
  };
}

function scryptParamsOk(n: unknown, r: unknown, p: unknown): boolean {
  if (typeof n !== 'number' || typeof r !== 'number' || typeof p !== 'number') return false;
  if (!Number.isInteger(n) || !Number.isInteger(r) || !Number.isInteger(p)) return false;
  const powerOfTwo = n >= 2 && (n & (n - 1)) === 0;
  return powerOfTwo && n <= MAX_N && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P && 128 * n * r <= MAX_SCRYPT_MEM;
}

function b64(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new IntegrityError(`malformed key slot ${what}`);
  return Buffer.from(s, 'base64');
}

/**
 * Unwrap the master keys. A 'none' slot opens whatever password is given; a 'scrypt' slot throws
 * WrongPasswordError when the password (or its absence) does not authenticate.
 */
export async function openKeySlot(slot: KeySlot, password: string | null): Promise<MasterKeys> {
  if (slot === null || typeof slot !== 'object' || slot.version !== 1) throw new IntegrityError('unsupported key slot version');
  const nonce = b64(slot.nonce, 'nonce');
  const data = b64(slot.data, 'data');
  if (nonce.length !== NONCE_LEN) throw new IntegrityError('malformed key slot nonce');
  let kek: Buffer;
  if (slot.kdf === 'none') {
    kek = Buffer.alloc(KEY_LEN);
  } else if (slot.kdf === 'scrypt') {
    if (password === null) throw new WrongPasswordError('a password is required');
    if (!scryptParamsOk(slot.n, slot.r, slot.p)) {
      throw new IntegrityError(`unsupported scrypt parameters N=${slot.n} r=${slot.r} p=${slot.p}`);
    }
    const salt = b64(slot.salt, 'salt');
    if (salt.length < 16) throw new IntegrityError('malformed key slot salt');
    kek = await deriveKek(password, salt, slot.n!, slot.r!, slot.p!);
  } else {
    throw new IntegrityError(`unsupported key slot kdf '${String(slot.kdf)}'`);
  }
  let plain: Buffer;
  try {
    plain = aeadDecrypt('chacha20-poly1305', kek, nonce, data, SLOT_AAD);
  } catch (e) {
    // Under a real KDF a tag failure is indistinguishable from a wrong password; without one
    // it can only mean the slot was damaged.
    if (slot.kdf === 'none') throw e;
    throw new WrongPasswordError('wrong password', { cause: e });
  }
  return decodeMasterKeys(plain);
}

/** Try every slot in turn; WrongPasswordError if none opens. */
export async function openAnyKeySlot(slots: readonly KeySlot[], password: string | null): Promise<MasterKeys> {
  if (slots.length === 0) throw new IntegrityError('repository has no key slots');
  let wrongPassword: WrongPasswordError | undefined;
  let other: unknown;
  for (const slot of slots) {
    try {
      return await openKeySlot(slot, password);
    } catch (e) {
      if (e instanceof WrongPasswordError) wrongPassword ??= e;
      else other ??= e;
    }
  }
  // Any slot rejecting the password makes that the likelier story; otherwise report the damage.
  throw wrongPassword ?? other;
}
