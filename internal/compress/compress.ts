// Self-describing blob compression: [1-byte algorithm id][payload]. Data that does not shrink
// is stored raw, so reading never pays for compression that bought nothing.
import * as zlib from 'node:zlib';
import { IntegrityError, UsageError } from '../errors/errors.ts';

export type CompressAlg = 'zstd' | 'gzip' | 'none';

const ID: Record<CompressAlg, number> = { none: 0, zstd: 1, gzip: 2 };
const DEFAULT_LEVEL: Record<CompressAlg, number> = { none: 0, zstd: 3, gzip: 6 };
const LEVEL_RANGE: Record<CompressAlg, [number, number]> = { none: [0, 0], zstd: [-7, 22], gzip: [0, 9] };
/** Compression must save at least 3 % to be kept. */
const KEEP_RATIO = 0.97;
const SAMPLE_PIECES = 4;
const SAMPLE_PIECE = 16 * 1024;
/** Inputs at least this big are sampled before compressing the whole. */
const SAMPLE_FROM = 256 * 1024;
export const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

function zstd(data: Uint8Array, level: number): Buffer {
  return zlib.zstdCompressSync(data, {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    pledgedSrcSize: data.length,
  });
}

// A 64 KiB sample spread over the input, compressed at zstd's fastest level, predicts whether
// the whole is worth compressing (media, archives and encrypted files are not).
function looksIncompressible(data: Uint8Array): boolean {
  const stride = Math.floor((data.length - SAMPLE_PIECE) / (SAMPLE_PIECES - 1));
  const sample = Buffer.allocUnsafe(SAMPLE_PIECES * SAMPLE_PIECE);
  for (let i = 0; i < SAMPLE_PIECES; i++) {
    sample.set(data.subarray(i * stride, i * stride + SAMPLE_PIECE), i * SAMPLE_PIECE);
  }
  return zstd(sample, 1).length > sample.length * KEEP_RATIO;
}

function raw(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = ID.none;
  out.set(data, 1);
  return out;
}

/** Compress into a self-describing buffer; stores the data raw when compression does not pay. */
export function compressBlob(data: Uint8Array, alg: CompressAlg, level?: number): Buffer {
  if (alg === 'none') return raw(data);
  const lvl = level ?? DEFAULT_LEVEL[alg];
  const [lo, hi] = LEVEL_RANGE[alg];
  if (!Number.isInteger(lvl) || lvl < lo || lvl > hi) throw new UsageError(`${alg} level must be ${lo}..${hi} (got ${lvl})`);
  if (data.length >= SAMPLE_FROM && looksIncompressible(data)) return raw(data);
  const payload = alg === 'zstd' ? zstd(data, lvl) : zlib.gzipSync(data, { level: lvl });
  if (payload.length >= data.length * KEEP_RATIO) return raw(data);
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = ID[alg];
  out.set(payload, 1);
  return out;
}

/** The algorithm a compressed blob was written with. */
export function blobCompression(buf: Uint8Array): CompressAlg {
  switch (buf[0]) {
    case ID.none:
      return 'none';
    case ID.zstd:
      return 'zstd';
    case ID.gzip:
      return 'gzip';
    default:
      throw new IntegrityError(`compressed blob has unknown algorithm id ${buf[0]}`);
  }
}

/**
 * Undo compressBlob. A raw blob comes back as a view into `buf`, not a copy. Output beyond
 * maxOutput bytes is treated as corruption (a decompression bomb cannot exhaust memory).
 */
export function decompressBlob(buf: Uint8Array, maxOutput = DEFAULT_MAX_OUTPUT): Buffer {
  if (buf.length === 0) throw new IntegrityError('compressed blob is empty');
  const alg = blobCompression(buf);
  const payload = Buffer.from(buf.buffer, buf.byteOffset + 1, buf.byteLength - 1);
  if (alg === 'none') {
    if (payload.length > maxOutput) throw new IntegrityError('blob exceeds the size limit');
    return payload;
  }
  try {
    const opts = { maxOutputLength: maxOutput, rejectGarbageAfterEnd: true };
    return alg === 'zstd' ? zlib.zstdDecompressSync(payload, opts) : zlib.gunzipSync(payload, opts);
  } catch (e) {
    throw new IntegrityError(`${alg} data is corrupt`, { cause: e });
  }
}

/** Parse the --compress-data option. */
export function parseCompressAlg(s: string): CompressAlg {
  switch (s.trim().toLowerCase()) {
    case 'zstd':
      return 'zstd';
    case 'gzip':
    case 'zlib':
      return 'gzip';
    case 'none':
      return 'none';
    default:
      throw new UsageError(`unknown compression '${s}' (use zstd, gzip, zlib or none)`);
  }
}
