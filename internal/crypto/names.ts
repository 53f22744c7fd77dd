// Deterministic name encryption: equal names give equal ciphertexts, so encrypted directory
// entries can still be looked up and deduplicated without revealing the names.
import { aessiv } from '@noble/ciphers/aes.js';
import { IntegrityError } from '../errors/errors.ts';

const NAME_AAD = new TextEncoder().encode('tardis-name');
/** Bytes the SIV adds to each name. */
export const NAME_OVERHEAD = 16;

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** AES-256-SIV (RFC 5297) over raw bytes (file names, link targets, owners, tags). */
export class NameCipher {
  readonly #key: Uint8Array;

  constructor(nameKey: Uint8Array) {
    if (nameKey.length !== 64) throw new RangeError('name key must be 64 bytes');
    this.#key = Uint8Array.from(nameKey);
  }

  encrypt(plain: Uint8Array): Buffer {
    // noble's SIV instances are single-use by design; a fresh one per call is cheap.
    return toBuffer(aessiv(this.#key, NAME_AAD).encrypt(plain));
  }

  decrypt(ct: Uint8Array): Buffer {
    if (ct.length < NAME_OVERHEAD) throw new IntegrityError('encrypted name is truncated');
    try {
      return toBuffer(aessiv(this.#key, NAME_AAD).decrypt(ct));
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
