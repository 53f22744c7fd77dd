export {
  blobCompression,
  type CompressAlg,
  compressBlob,
  DEFAULT_MAX_OUTPUT,
  decompressBlob,
  parseCompressAlg,
} from './compress.ts';
