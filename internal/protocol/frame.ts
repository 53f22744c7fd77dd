// Frames: a 4-byte big-endian header, then the payload. The header's top bit says the payload is
// zstd-compressed; the other 31 bits are the payload's length on the wire. A length over the
// limit is refused as soon as the header arrives, before any of the payload is buffered, and a
// compressed payload may not expand beyond the same limit.
import zlib from 'node:zlib';
import { ProtocolError } from './errors.ts';

export const HEADER = 4;
export const COMPRESSED = 0x8000_0000;
export const LENGTH_MASK = 0x7fff_ffff;

/** Largest payload accepted by default: a 64 MiB batch plus room for its message fields. */
export const DEFAULT_MAX_FRAME = (64 << 20) + (1 << 20);

// Compression is tried on a sample first, so encrypted chunk data costs almost nothing.
const MIN_COMPRESS = 1024;
const SAMPLE = 64 << 10;
const ZSTD_LEVEL = 3;

export const zstdAvailable = typeof zlib.zstdCompressSync === 'function';

function zstd(data: Uint8Array): Buffer {
  return zlib.zstdCompressSync(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
}

/** Whether compressing saves at least an eighth. */
function pays(original: number, compressed: number): boolean {
  return compressed <= original - (original >> 3);
}

/**
 * A frame for `payload`: compressed when `compress` is set, the payload is large enough and a
 * sample of it shrinks by an eighth or more, and the whole does too.
 */
export function encodeFrame(payload: Buffer, compress = false): Buffer {
  if (payload.length > LENGTH_MASK) throw new RangeError('frame payload too large');
  if (compress && zstdAvailable && payload.length >= MIN_COMPRESS) {
    if (payload.length <= SAMPLE || pays(SAMPLE, zstd(payload.subarray(0, SAMPLE)).length)) {
      const packed = zstd(payload);
      if (pays(payload.length, packed.length)) {
        const out = Buffer.allocUnsafe(HEADER + packed.length);
        out.writeUInt32BE((COMPRESSED | packed.length) >>> 0, 0);
        packed.copy(out, HEADER);
        return out;
      }
    }
  }
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, HEADER);
  return out;
}

export interface Frame {
  /** The (decompressed) payload. */
  payload: Buffer;
  /** Bytes the frame took on the wire, header included (what flow control counts). */
  wireBytes: number;
}

/**
 * Splits a byte stream into frames. push() returns the frames completed by a chunk and throws a
 * ProtocolError on a header over the limit, a payload that does not decompress, or one that
 * decompresses beyond the limit. After a throw the decoder is unusable (the stream has lost
 * its framing).
 */
export class FrameDecoder {
  /** May change between frames (a connection accepts only small frames before authentication). */
  maxFrame: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length and flag of the frame being read, once its header is in. */
  private want = -1;
  private compressed = false;

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.want < 0) {
        if (this.buffered < HEADER) break;
        const head = this.take(HEADER);
        const word = head.readUInt32BE(0);
        const len = word & LENGTH_MASK;
        if (len > this.maxFrame) {
          throw new ProtocolError(`frame of ${len} bytes is over the limit of ${this.maxFrame} bytes`);
        }
        this.want = len;
        this.compressed = (word & COMPRESSED) !== 0;
      }
      if (this.buffered < this.want) break;
      const body = this.take(this.want);
      const wireBytes = HEADER + this.want;
      this.want = -1;
      out.push({ payload: this.compressed ? this.inflate(body) : body, wireBytes });
    }
    return out;
  }

  private inflate(body: Buffer): Buffer {
    if (!zstdAvailable) throw new ProtocolError('compressed frame, but this runtime has no zstd');
    try {
      return zlib.zstdDecompressSync(body, { maxOutputLength: this.maxFrame });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new ProtocolError(`compressed frame expands beyond the limit of ${this.maxFrame} bytes`);
      throw new ProtocolError(`compressed frame does not decompress: ${(err as Error).message}`);
    }
  }

  /** The next n buffered bytes (n <= buffered), copied only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - got);
      c.copy(out, got, 0, k);
      got += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
