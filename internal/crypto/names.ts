// Deterministic name encryption: equal names give equal ciphertexts, so encrypted directory
// entries can still be looked up and deduplicated without revealing the names.
import { createCipheriv, createDecipheriv, getCiphers, type CipherGCM, type DecipherGCM } from 'node:crypto';
import { aessiv } from '@noble/ciphers/aes.js';
import { IntegrityError } from '../errors/errors.ts';

const NAME_AAD = new TextEncoder().encode('tardis-name');
/** Bytes the SIV adds to each name. */
export const NAME_OVERHEAD = 16;

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const SIV = 'aes-256-siv';

// OpenSSL's AES-SIV is ~2.5x faster than noble's, and every backup encrypts every name. It is
// used only where it exists and gives noble's bytes exactly (Bun's node:crypto lacks it).
const nativeSiv: boolean = (() => {
  try {
    if (!getCiphers().includes(SIV)) return false;
    const key = new Uint8Array(64).map((_, i) => i);
    const probe = Buffer.from('probe');
    return nativeEncrypt(key, probe).equals(toBuffer(aessiv(key, NAME_AAD).encrypt(probe)));
  } catch {
    return false;
  }
})();

function nativeEncrypt(key: Uint8Array, plain: Uint8Array): Buffer {
  // Typed as GCM: @types/node has no SIV overload, and the AEAD calls are the same.
  const c = createCipheriv(SIV, key, null) as unknown as CipherGCM;
  c.setAAD(NAME_AAD);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([c.getAuthTag(), body]);
}

function nativeDecrypt(key: Uint8Array, ct: Uint8Array): Buffer {
  const d = createDecipheriv(SIV, key, null) as unknown as DecipherGCM;
  d.setAuthTag(ct.subarray(0, NAME_OVERHEAD));
  d.setAAD(NAME_AAD);
  return Buffer.concat([d.update(ct.subarray(NAME_OVERHEAD)), d.final()]);
}

/** AES-256-SIV (RFC 5297) over raw bytes (file names, link targets, owners, tags). */
export class NameCipher {
  readonly #key: Uint8Array;

  constructor(nameKey: Uint8Array) {
    if (nameKey.length !== 64) throw new RangeError('name key must be 64 bytes');
    this.#key = Uint8Array.from(nameKey);
  }

  encrypt(plain: Uint8Array): Buffer {
    if (nativeSiv) return nativeEncrypt(this.#key, plain);
    // noble's SIV instances are single-use by design; a fresh one per call is cheap.
    return toBuffer(aessiv(this.#key, NAME_AAD).encrypt(plain));
  }

  decrypt(ct: Uint8Array): Buffer {
    if (ct.length < NAME_OVERHEAD) throw new IntegrityError('encrypted name is truncated');
    try {
      return nativeSiv ? nativeDecrypt(this.#key, ct) : toBuffer(aessiv(this.#key, NAME_AAD).decrypt(ct));
    } catch (e) {
      throw new IntegrityError('encrypted name failed authentication', { cause: e });
    }
  }

  encryptString(s: string): Buffer {
    return this.encrypt(Buffer.from(s, 'utf8'));
  }

  decryptString(ct: Uint8Array): string {
    return this.decrypt(ct).toString('utf8');
  }
}
