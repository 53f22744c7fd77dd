// Keyed identifiers. Every use gets its own key derived from idKey, and idKey itself only ever
// keys the derivations: a chunk whose content happened to be a derivation label therefore can
// never reveal another domain's key through its id.
import { createHmac, type Hmac } from 'node:crypto';
import { IntegrityError } from '../errors/errors.ts';

export const ID_LEN = 32;

const derived = new WeakMap<Uint8Array, Map<string, Buffer>>();

function deriveKey(idKey: Uint8Array, label: string): Buffer {
  let byLabel = derived.get(idKey);
  if (byLabel === undefined) {
    byLabel = new Map();
    derived.set(idKey, byLabel);
  }
  let k = byLabel.get(label);
  if (k === undefined) {
    if (idKey.length !== 32) throw new RangeError('id key must be 32 bytes');
    k = createHmac('sha256', idKey).update(label).digest();
    byLabel.set(label, k);
  }
  return k;
}

/** Id of a chunk: HMAC-SHA256 under the chunk-id key (32 bytes). */
export function chunkId(idKey: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', deriveKey(idKey, 'tardis-chunk')).update(data).digest();
}

/** Streaming keyed hash; update() may be called any number of times, digest() once. */
export class KeyedHasher {
  readonly #h: Hmac;

  constructor(key: Uint8Array) {
    this.#h = createHmac('sha256', key);
  }

  update(buf: Uint8Array): this {
    this.#h.update(buf);
    return this;
  }

  digest(): Buffer {
    return this.#h.digest();
  }
}

/** Keyed hash of a whole file's content. */
export class ContentHasher extends KeyedHasher {
  constructor(idKey: Uint8Array) {
    super(deriveKey(idKey, 'tardis-content'));
  }
}

/** Keyed hash of a directory listing. */
export function listingHash(idKey: Uint8Array): KeyedHasher {
  return new KeyedHasher(deriveKey(idKey, 'tardis-listing'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Buffer {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new IntegrityError(`malformed hex id '${s.slice(0, 80)}'`);
  return Buffer.from(s, 'hex');
}
