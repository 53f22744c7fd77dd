// Authenticated encryption of stored blobs. Every blob gets its own subkey derived from a
// random salt, so random 96-bit nonces never come near their collision bound under one key.
import { createCipheriv, createDecipheriv, createHmac, getCiphers, randomBytes } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { IntegrityError } from '../errors/errors.ts';

export type AeadAlg = 'chacha20-poly1305' | 'aes-256-gcm';
export type AeadBackend = 'node' | 'noble';

export const KEY_LEN = 32;
export const NONCE_LEN = 12;
export const TAG_LEN = 16;
const SALT_LEN = 16;
const HEADER_LEN = 1 + SALT_LEN + NONCE_LEN;
/** Bytes a sealed blob adds to its plaintext: alg id, salt, nonce and tag. */
export const BLOB_OVERHEAD = HEADER_LEN + TAG_LEN;

const ALG_IDS: Record<AeadAlg, number> = { 'chacha20-poly1305': 1, 'aes-256-gcm': 2 };
const ALG_BY_ID: ReadonlyMap<number, AeadAlg> = new Map([
  [1, 'chacha20-poly1305'],
  [2, 'aes-256-gcm'],
]);
const BLOB_LABEL = Buffer.from('tardis-blob');

// Bun's node:crypto lacks chacha20-poly1305; decide per algorithm once, at load.
const nodeCiphers = new Set(getCiphers());
const NATIVE: Record<AeadAlg, boolean> = {
  'chacha20-poly1305': nodeCiphers.has('chacha20-poly1305'),
  'aes-256-gcm': nodeCiphers.has('aes-256-gcm'),
};
let forceNoble = false;

/** Tests only: force the pure-JS implementation ('noble') or restore the default ('node'). */
export function setAeadBackend(backend: AeadBackend): void {
  forceNoble = backend === 'noble';
}

/** The implementation `alg` currently uses. */
export function aeadBackend(alg: AeadAlg): AeadBackend {
  return NATIVE[alg] && !forceNoble ? 'node' : 'noble';
}

export function isAeadAlg(s: string): s is AeadAlg {
  return Object.hasOwn(ALG_IDS, s);
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const EMPTY = Buffer.alloc(0);

/** Raw AEAD: returns ciphertext || 16-byte tag. The caller owns nonce uniqueness. */
export function aeadEncrypt(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  return encryptAfter(EMPTY, alg, key, nonce, plaintext, aad);
}

// Returns prefix || ciphertext || tag, assembled with a single copy of the ciphertext.
function encryptAfter(
  prefix: Uint8Array,
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  if (key.length !== KEY_LEN || nonce.length !== NONCE_LEN) throw new RangeError('bad AEAD key or nonce length');
  const total = prefix.length + plaintext.length + TAG_LEN;
  if (aeadBackend(alg) === 'noble') {
    const c = alg === 'aes-256-gcm' ? gcm(key, nonce, aad) : chacha20poly1305(key, nonce, aad);
    return Buffer.concat([prefix, c.encrypt(plaintext)], total);
  }
  // Identical branches: they only narrow `alg` to pick node:crypto's typed AEAD overload.
  const c =
    alg === 'aes-256-gcm'
      ? createCipheriv(alg, key, nonce, { authTagLength: TAG_LEN })
      : createCipheriv(alg, key, nonce, { authTagLength: TAG_LEN });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  const fin = c.final();
  return Buffer.concat([prefix, body, fin, c.getAuthTag()], total);
}

/** Raw AEAD open of ciphertext || tag; IntegrityError when authentication fails. */
export function aeadDecrypt(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Buffer {
  if (key.length !== KEY_LEN || nonce.length !== NONCE_LEN) throw new RangeError('bad AEAD key or nonce length');
  if (sealed.length < TAG_LEN) throw new IntegrityError('encrypted data is truncated');
  try {
    if (aeadBackend(alg) === 'noble') {
      const c = alg === 'aes-256-gcm' ? gcm(key, nonce, aad) : chacha20poly1305(key, nonce, aad);
      return toBuffer(c.decrypt(sealed));
    }
    const ctLen = sealed.length - TAG_LEN;
    const d =
      alg === 'aes-256-gcm'
        ? createDecipheriv(alg, key, nonce, { authTagLength: TAG_LEN })
        : createDecipheriv(alg, key, nonce, { authTagLength: TAG_LEN });
    d.setAAD(aad, { plaintextLength: ctLen });
    d.setAuthTag(sealed.subarray(ctLen));
    const body = d.update(sealed.subarray(0, ctLen));
    const fin = d.final();
    return fin.length === 0 ? body : Buffer.concat([body, fin]);
  } catch (e) {
    throw new IntegrityError('encrypted data failed authentication', { cause: e });
  }
}

function blobSubkey(dataKey: Uint8Array, salt: Uint8Array): Buffer {
  return createHmac('sha256', dataKey).update(BLOB_LABEL).update(salt).digest();
}

// The header goes into the AEAD's AAD as well, so no header byte is malleable even in principle.
function fullAad(header: Uint8Array, aad: Uint8Array): Buffer {
  return Buffer.concat([header, aad]);
}

/** Encrypt one stored blob: [alg id][16-byte salt][12-byte nonce][ciphertext][16-byte tag]. */
export function sealBlob(dataKey: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, alg: AeadAlg): Buffer {
  if (dataKey.length !== KEY_LEN) throw new RangeError('data key must be 32 bytes');
  const header = randomBytes(HEADER_LEN);
  header[0] = ALG_IDS[alg];
  const salt = header.subarray(1, 1 + SALT_LEN);
  const nonce = header.subarray(1 + SALT_LEN);
  return encryptAfter(header, alg, blobSubkey(dataKey, salt), nonce, plaintext, fullAad(header, aad));
}

/** Decrypt a blob made by sealBlob; IntegrityError on any tampering, truncation or unknown alg. */
export function openBlob(dataKey: Uint8Array, blob: Uint8Array, aad: Uint8Array): Buffer {
  if (dataKey.length !== KEY_LEN) throw new RangeError('data key must be 32 bytes');
  if (blob.length < BLOB_OVERHEAD) throw new IntegrityError('encrypted blob is truncated');
  const alg = ALG_BY_ID.get(blob[0]);
  if (alg === undefined) throw new IntegrityError(`encrypted blob has unknown algorithm id ${blob[0]}`);
  const header = blob.subarray(0, HEADER_LEN);
  const salt = header.subarray(1, 1 + SALT_LEN);
  const nonce = header.subarray(1 + SALT_LEN);
  return aeadDecrypt(alg, blobSubkey(dataKey, salt), nonce, blob.subarray(HEADER_LEN), fullAad(header, aad));
}

/** The algorithm a sealed blob was written with (IntegrityError if unknown). */
export function blobAlg(blob: Uint8Array): AeadAlg {
  const alg = blob.length > 0 ? ALG_BY_ID.get(blob[0]) : undefined;
  if (alg === undefined) throw new IntegrityError('encrypted blob has unknown algorithm id');
  return alg;
}
