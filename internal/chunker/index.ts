export { type ChunkerParams, Chunker, chunkStream, DEFAULT_CHUNKER, gearTable, validateChunkerParams } from './chunker.ts';
