// Pack file layout, shared by writer and reader:
//   [blob 0][blob 1]…[index][CRC32(index): 4 BE][index length: 4 BE][magic "TARDPK01"]
// index = msgpack { v: 1, e: [[id(32 bytes), type, offset, length], …] }, plaintext on purpose:
// the server assembling packs holds no keys, and ids are keyed hashes the catalog stores anyway.

export type PackEntry = { id: Buffer; type: number; offset: number; length: number };

export const BLOB_DATA = 0;
export const BLOB_TREE = 1;

export const PACK_MAGIC = Buffer.from('TARDPK01', 'latin1');
/** Index length (4) + magic (8): the part of the trailer whose size is known in advance. */
export const TRAILER_FIXED = 12;
export const CRC_SIZE = 4;
export const INDEX_VERSION = 1;
export const ID_SIZE = 32;
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;
