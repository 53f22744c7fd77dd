export { BLOB_DATA, BLOB_TREE, DEFAULT_PACK_SIZE, ID_SIZE, PACK_MAGIC, TRAILER_FIXED } from './format.ts';
export type { PackEntry } from './format.ts';
export { PackBuilder } from './writer.ts';
export { packTrailerSize, parsePackTrailer, readPackIndex } from './reader.ts';
