// Assembles sealed blobs into one pack file in memory; the caller hands the bytes to the store.

import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import { CRC_SIZE, DEFAULT_PACK_SIZE, ID_SIZE, INDEX_VERSION, PACK_MAGIC, TRAILER_FIXED } from './format.ts';
import type { PackEntry } from './format.ts';

export { BLOB_DATA, BLOB_TREE } from './format.ts';
export type { PackEntry } from './format.ts';

export class PackBuilder {
  readonly targetSize: number;
  // Blobs are kept by reference (sealed output is never reused by the caller) and copied once.
  #blobs: Uint8Array[] = [];
  #entries: PackEntry[] = [];
  #ids = new Set<string>();
  #size = 0;
  #finished = false;

  constructor(targetSize = DEFAULT_PACK_SIZE) {
    if (!Number.isSafeInteger(targetSize) || targetSize <= 0) {
      throw new RangeError(`invalid pack target size: ${targetSize}`);
    }
    this.targetSize = targetSize;
  }

  /** Appends a sealed blob; the id must be new to this pack (check `has` first). */
  add(id: Buffer, type: number, blob: Uint8Array): { offset: number; length: number } {
    if (this.#finished) throw new Error('PackBuilder.add after finish');
    if (!(id instanceof Uint8Array) || id.byteLength !== ID_SIZE) {
      throw new TypeError(`blob id must be ${ID_SIZE} bytes`);
    }
    if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`invalid blob type: ${type}`);
    const key = Buffer.from(id).toString('hex');
    if (this.#ids.has(key)) throw new Error(`blob ${key} already in this pack`);
    const entry = { id: Buffer.from(id), type, offset: this.#size, length: blob.byteLength };
    this.#ids.add(key);
    this.#entries.push(entry);
    this.#blobs.push(blob);
    this.#size += blob.byteLength;
    return { offset: entry.offset, length: entry.length };
  }

  /** Bytes of blobs added so far (the trailer is not counted). */
  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#entries.length;
  }

  isFull(): boolean {
    return this.#size >= this.targetSize;
  }

  has(id: Buffer): boolean {
    return this.#ids.has(Buffer.from(id).toString('hex'));
  }

  /** Builds the pack bytes; the builder cannot be used afterwards. */
  finish(): { name: string; data: Buffer; entries: PackEntry[] } {
    if (this.#finished) throw new Error('PackBuilder.finish called twice');
    if (this.#entries.length === 0) throw new Error('PackBuilder.finish on an empty pack');
    this.#finished = true;
    const index = pack({ v: INDEX_VERSION, e: this.#entries.map((e) => [e.id, e.type, e.offset, e.length]) });
    // Not from the shared pool: callers may hand data.buffer to APIs that ignore byteOffset.
    const data = Buffer.allocUnsafeSlow(this.#size + index.length + CRC_SIZE + TRAILER_FIXED);
    let pos = 0;
    for (const blob of this.#blobs) {
      data.set(blob, pos);
      pos += blob.byteLength;
    }
    data.set(index, pos);
    pos += index.length;
    pos = data.writeUInt32BE(crc32(index), pos);
    pos = data.writeUInt32BE(index.length, pos);
    PACK_MAGIC.copy(data, pos);
    this.#blobs = [];
    return { name: randomBytes(16).toString('hex'), data, entries: this.#entries };
  }
}
