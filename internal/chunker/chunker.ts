// Content-defined chunking: FastCDC (Xia et al.) with normalised chunking at level 2 and a
// per-repository gear table, streaming so that the cut points never depend on how the input
// was split into pushes.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors/errors.ts';

export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

export const DEFAULT_CHUNKER: Readonly<ChunkerParams> = Object.freeze({
  min: 512 * 1024,
  avg: 1024 * 1024,
  max: 8 * 1024 * 1024,
});

const NORMALIZATION = 2;
const MIN_AVG_BITS = 6;
const MAX_AVG_BITS = 28;
const MAX_MAX = 1 << 30;

/** Throws UsageError unless avg is a power of two and 0 < min < avg < max ≤ 1 GiB. */
export function validateChunkerParams(p: ChunkerParams): void {
  const { min, avg, max } = p;
  if (![min, avg, max].every((v) => Number.isSafeInteger(v) && v > 0)) {
    throw new UsageError(`chunker sizes must be positive integers (min=${min} avg=${avg} max=${max})`);
  }
  const bits = Math.log2(avg);
  if (!Number.isInteger(bits) || bits < MIN_AVG_BITS || bits > MAX_AVG_BITS) {
    throw new UsageError(`chunker avg must be a power of two from ${2 ** MIN_AVG_BITS} to ${2 ** MAX_AVG_BITS} (got ${avg})`);
  }
  if (!(min < avg && avg < max && max <= MAX_MAX)) {
    throw new UsageError(`chunker sizes must satisfy min < avg < max <= 1 GiB (min=${min} avg=${avg} max=${max})`);
  }
}

const tables = new WeakMap<Uint8Array, Int32Array>();

/** 256 pseudo-random 32-bit gear values from a 32-byte seed (SHA-256 in counter mode). */
export function gearTable(seed: Uint8Array): Int32Array {
  if (seed.length !== 32) throw new RangeError('chunker seed must be 32 bytes');
  // A chunker per file: derive each repository's table once.
  const cached = tables.get(seed);
  if (cached) return cached;
  const table = new Int32Array(256);
  const ctr = Buffer.alloc(4);
  for (let block = 0; block < 32; block++) {
    ctr.writeUInt32BE(block);
    const d = createHash('sha256').update('tardis-gear').update(seed).update(ctr).digest();
    for (let j = 0; j < 8; j++) table[block * 8 + j] = d.readInt32BE(j * 4);
  }
  tables.set(seed, table);
  return table;
}

// The gear hash shifts left once per byte, so the high bits carry the most history (up to 32
// bytes); the masks therefore take their bits from the top of the word.
function topMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

export class Chunker {
  readonly #min: number;
  readonly #avg: number;
  readonly #max: number;
  readonly #maskS: number;
  readonly #maskL: number;
  readonly #gear: Int32Array;
  // Bytes of the chunk in progress that earlier pushes delivered; sized lazily up to max.
  #acc: Buffer = Buffer.alloc(0);
  #len = 0;
  // Gear hash over the chunk's bytes from offset min up to #len.
  #hash = 0;

  constructor(params: ChunkerParams, seed: Uint8Array) {
    validateChunkerParams(params);
    this.#min = params.min;
    this.#avg = params.avg;
    this.#max = params.max;
    const bits = Math.log2(params.avg);
    this.#maskS = topMask(bits + NORMALIZATION);
    this.#maskL = topMask(bits - NORMALIZATION);
    this.#gear = gearTable(seed);
  }

  /** Feed data; returns the chunks it completes, each a fresh Buffer owned by the caller. */
  push(data: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let p = 0;
    const n = data.length;
    while (p < n) {
      const len = this.#len;
      const cut = this.#findCut(data, p, n - p);
      if (cut < 0) {
        this.#append(data.subarray(p));
        break;
      }
      // `cut` bytes of `data` from p finish the chunk.
      const chunk = Buffer.allocUnsafe(len + cut);
      if (len > 0) this.#acc.copy(chunk, 0, 0, len);
      chunk.set(data.subarray(p, p + cut), len);
      out.push(chunk);
      this.#len = 0;
      this.#hash = 0;
      p += cut;
    }
    return out;
  }

  /** End of stream: the last chunk (possibly shorter than min), if any bytes are pending. */
  finish(): Buffer[] {
    if (this.#len === 0) return [];
    const chunk = Buffer.allocUnsafe(this.#len);
    this.#acc.copy(chunk, 0, 0, this.#len);
    this.#len = 0;
    this.#hash = 0;
    // Release the accumulator: a finished chunker should not pin up to `max` bytes.
    this.#acc = Buffer.alloc(0);
    return [chunk];
  }

  /**
   * Continue the scan of the pending chunk over src[start, start+avail). Returns how many of
   * those bytes complete the chunk, or -1 when all of them belong to it and more are needed.
   */
  #findCut(src: Uint8Array, start: number, avail: number): number {
    const len = this.#len;
    const min = this.#min;
    const max = this.#max;
    const gear = this.#gear;
    // Chunk offsets this call can reach: [len, end).
    const end = Math.min(len + avail, max);
    let i = len < min ? min : len; // the first min bytes are never hashed
    let h = this.#hash;
    const base = start - len; // src index = chunk offset + base
    const normal = Math.min(this.#avg, end);
    if (i < normal) {
      const mask = this.#maskS;
      for (let j = i + base, stop = normal + base; j < stop; j++) {
        h = ((h << 1) + gear[src[j]]) | 0;
        if ((h & mask) === 0) return j - base + 1 - len;
      }
      i = normal;
    }
    if (i < end) {
      const mask = this.#maskL;
      for (let j = i + base, stop = end + base; j < stop; j++) {
        h = ((h << 1) + gear[src[j]]) | 0;
        if ((h & mask) === 0) return j - base + 1 - len;
      }
    }
    if (end === max) return max - len;
    this.#hash = h;
    return -1;
  }

  #append(data: Uint8Array): void {
    const need = this.#len + data.length;
    if (need > this.#acc.length) {
      // Grow geometrically but never past max: the pending chunk cannot exceed it.
      const grown = Buffer.allocUnsafe(Math.min(this.#max, Math.max(need, this.#acc.length * 2, 64 * 1024)));
      this.#acc.copy(grown, 0, 0, this.#len);
      this.#acc = grown;
    }
    this.#acc.set(data, this.#len);
    this.#len = need;
  }
}

/** Chunk an async byte stream. */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  params: ChunkerParams,
  seed: Uint8Array,
): AsyncGenerator<Buffer, void, undefined> {
  const c = new Chunker(params, seed);
  for await (const data of source) yield* c.push(data);
  yield* c.finish();
}
