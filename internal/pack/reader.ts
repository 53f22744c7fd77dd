// Parses the trailer index of a pack. Pack bytes come from a server that may be damaged or
// hostile, so every field is checked and every failure is an IntegrityError.

import { crc32 } from 'node:zlib';
import { unpack } from 'msgpackr';
import { IntegrityError } from '../errors/errors.ts';
import { CRC_SIZE, ID_SIZE, INDEX_VERSION, PACK_MAGIC, TRAILER_FIXED } from './format.ts';
import type { PackEntry } from './format.ts';

export { TRAILER_FIXED } from './format.ts';
export type { PackEntry } from './format.ts';

/**
 * Total trailer size (index + CRC + fixed part) of a pack of `packSize` bytes, given at least
 * its last TRAILER_FIXED bytes in `tail`.
 */
export function packTrailerSize(tail: Uint8Array, packSize: number): number {
  if (!Number.isSafeInteger(packSize) || packSize < 0) throw new IntegrityError(`invalid pack size: ${packSize}`);
  if (packSize < TRAILER_FIXED + CRC_SIZE) throw new IntegrityError(`pack truncated: only ${packSize} bytes`);
  if (tail.length < TRAILER_FIXED) throw new IntegrityError(`pack tail too short: ${tail.length} bytes`);
  if (tail.length > packSize) throw new IntegrityError(`pack tail (${tail.length} bytes) exceeds pack size ${packSize}`);
  const fixed = Buffer.from(tail.buffer, tail.byteOffset + tail.length - TRAILER_FIXED, TRAILER_FIXED);
  if (!fixed.subarray(4).equals(PACK_MAGIC)) throw new IntegrityError('not a pack file (bad magic)');
  const total = fixed.readUInt32BE(0) + CRC_SIZE + TRAILER_FIXED;
  if (total > packSize) throw new IntegrityError(`pack index length exceeds pack size ${packSize}`);
  return total;
}

/** Parses and validates the index of a pack from its last bytes (at least the whole trailer). */
export function parsePackTrailer(tail: Uint8Array, packSize: number): PackEntry[] {
  const trailerSize = packTrailerSize(tail, packSize);
  if (tail.length < trailerSize) {
    throw new IntegrityError(`pack trailer needs ${trailerSize} bytes, got ${tail.length}`);
  }
  const start = tail.byteOffset + tail.length - trailerSize;
  const indexLength = trailerSize - CRC_SIZE - TRAILER_FIXED;
  const index = Buffer.from(tail.buffer, start, indexLength);
  const storedCrc = Buffer.from(tail.buffer, start + indexLength, CRC_SIZE).readUInt32BE(0);
  if (crc32(index) !== storedCrc) throw new IntegrityError('pack index checksum mismatch');

  let decoded: unknown;
  try {
    decoded = unpack(index);
  } catch {
    throw new IntegrityError('pack index is not valid msgpack');
  }
  return validateIndex(decoded, packSize - trailerSize);
}

/** Reads a pack's index through a range reader: the fixed tail first, then the whole trailer. */
export async function readPackIndex(
  getRange: (offset: number, length: number) => Promise<Buffer>,
  size: number,
): Promise<PackEntry[]> {
  if (!Number.isSafeInteger(size) || size < TRAILER_FIXED + CRC_SIZE) {
    throw new IntegrityError(`pack truncated: only ${size} bytes`);
  }
  const fixed = await readExactly(getRange, size - TRAILER_FIXED, TRAILER_FIXED);
  const trailerSize = packTrailerSize(fixed, size);
  return parsePackTrailer(await readExactly(getRange, size - trailerSize, trailerSize), size);
}

async function readExactly(
  getRange: (offset: number, length: number) => Promise<Buffer>,
  offset: number,
  length: number,
): Promise<Buffer> {
  const buf = await getRange(offset, length);
  if (buf.length !== length) {
    throw new IntegrityError(`pack truncated: wanted ${length} bytes at ${offset}, got ${buf.length}`);
  }
  return buf;
}

function validateIndex(decoded: unknown, blobAreaSize: number): PackEntry[] {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new IntegrityError('pack index is not a map');
  }
  const { v, e } = decoded as { v?: unknown; e?: unknown };
  if (v !== INDEX_VERSION) throw new IntegrityError(`unsupported pack index version: ${String(v).slice(0, 20)}`);
  if (!Array.isArray(e)) throw new IntegrityError('pack index has no entry list');
  const entries: PackEntry[] = [];
  const seen = new Set<string>();
  let end = 0;
  for (let i = 0; i < e.length; i++) {
    const row: unknown = e[i];
    if (!Array.isArray(row) || row.length !== 4) throw new IntegrityError(`pack index entry ${i} is malformed`);
    const [id, type, offset, length] = row as unknown[];
    if (!(id instanceof Uint8Array) || id.byteLength !== ID_SIZE) {
      throw new IntegrityError(`pack index entry ${i} has a bad id`);
    }
    if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 255) {
      throw new IntegrityError(`pack index entry ${i} has a bad type`);
    }
    if (!isCount(offset) || !isCount(length)) throw new IntegrityError(`pack index entry ${i} has a bad offset or length`);
    // The writer lays blobs out in order; overlap or disorder means damage or tampering.
    if (offset < end) throw new IntegrityError(`pack index entry ${i} overlaps the previous blob`);
    end = offset + length;
    if (end > blobAreaSize) throw new IntegrityError(`pack index entry ${i} points past the blob area`);
    const copy = Buffer.from(id); // detach from the tail buffer
    const key = copy.toString('hex');
    if (seen.has(key)) throw new IntegrityError(`pack index lists blob ${key} twice`);
    seen.add(key);
    entries.push({ id: copy, type, offset, length });
  }
  return entries;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
