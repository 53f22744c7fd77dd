// Frames: a 4-byte big-endian header, then the payload. The header's top bit says the payload is
// zstd-compressed, the next one that a 16-byte MAC follows it; the other 30 bits are the length
// on the wire. A length over the limit is refused as soon as the header arrives, before any of
// the payload is buffered, and a compressed payload may not expand beyond the same limit.
//
// After an SRP login both ends hold a session key: from then on their messages carry
// HMAC-SHA256(key, sequence number | header | payload), cut to 16 bytes, one key and one
// sequence per direction. Without TLS, that is what stops a man in the middle from changing,
// replaying or injecting requests once the client has logged in.
import { createHmac, timingSafeEqual } from 'node:crypto';
import zlib from 'node:zlib';
import { ProtocolError } from './errors.ts';

export const HEADER = 4;
export const COMPRESSED = 0x8000_0000;
export const AUTHENTICATED = 0x4000_0000;
export const LENGTH_MASK = 0x3fff_ffff;
export const MAC_SIZE = 16;

/** One direction's frame MACs: a key and the number of frames it has covered. */
export class FrameMac {
  private readonly key: Buffer;
  private seq = 0n;

  constructor(key: Buffer) {
    this.key = key;
  }

  /** The tag of the next frame (header and wire payload); advances the sequence. */
  next(header: Buffer, payload: Uint8Array): Buffer {
    const n = Buffer.allocUnsafe(8);
    n.writeBigUInt64BE(this.seq++);
    return createHmac('sha256', this.key).update(n).update(header).update(payload).digest().subarray(0, MAC_SIZE);
  }
}

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
 * sample of it shrinks by an eighth or more, and the whole does too. `macRoom` leaves room at
 * the end for sealFrame's MAC, so its size is final before the MAC is known.
 */
export function encodeFrame(payload: Buffer, compress = false, macRoom = false): Buffer {
  let body: Buffer = payload;
  let flags = 0;
  if (compress && zstdAvailable && payload.length >= MIN_COMPRESS) {
    if (payload.length <= SAMPLE || pays(SAMPLE, zstd(payload.subarray(0, SAMPLE)).length)) {
      const packed = zstd(payload);
      if (pays(payload.length, packed.length)) {
        body = packed;
        flags |= COMPRESSED;
      }
    }
  }
  const room = macRoom ? MAC_SIZE : 0;
  if (body.length + room > LENGTH_MASK) throw new RangeError('frame payload too large');
  const out = Buffer.allocUnsafe(HEADER + body.length + room);
  out.writeUInt32BE((flags | body.length) >>> 0, 0);
  body.copy(out, HEADER);
  return out;
}

/**
 * MACs a frame made with `macRoom`, in place: marks it, counts the tag in its length and writes
 * the tag. Frames must be sealed in the order they go out (the MAC covers a sequence number).
 */
export function sealFrame(frame: Buffer, mac: FrameMac): Buffer {
  const word = frame.readUInt32BE(0);
  const len = word & LENGTH_MASK;
  if (frame.length !== HEADER + len + MAC_SIZE || (word & AUTHENTICATED) !== 0) throw new RangeError('frame has no room for a MAC');
  frame.writeUInt32BE(((word & ~LENGTH_MASK) | AUTHENTICATED | (len + MAC_SIZE)) >>> 0, 0);
  mac.next(frame.subarray(0, HEADER), frame.subarray(HEADER, HEADER + len)).copy(frame, HEADER + len);
  return frame;
}

export interface Frame {
  /** The (decompressed) payload. */
  payload: Buffer;
  /** Bytes the frame took on the wire, header included (what flow control counts). */
  wireBytes: number;
  /** It carried a valid MAC (see `FrameDecoder.mac`). */
  authenticated: boolean;
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
  /** Set after the login: frames marked as MACed are checked against it (others still pass, unmarked). */
  mac: FrameMac | null = null;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length and flag of the frame being read, once its header is in. */
  private want = -1;
  private head = 0;

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
        this.head = word;
      }
      if (this.buffered < this.want) break;
      let body = this.take(this.want);
      const wireBytes = HEADER + this.want;
      this.want = -1;
      const authenticated = (this.head & AUTHENTICATED) !== 0;
      if (authenticated) body = this.check(body);
      out.push({ payload: (this.head & COMPRESSED) !== 0 ? this.inflate(body) : body, wireBytes, authenticated });
    }
    return out;
  }

  /** The payload of a MACed frame, its tag checked. */
  private check(body: Buffer): Buffer {
    if (!this.mac) throw new ProtocolError('a MACed frame before the login');
    if (body.length < MAC_SIZE) throw new ProtocolError('a MACed frame too short for its MAC');
    const payload = body.subarray(0, body.length - MAC_SIZE);
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32BE(this.head >>> 0, 0);
    if (!timingSafeEqual(this.mac.next(header, payload), body.subarray(body.length - MAC_SIZE))) {
      throw new ProtocolError('a frame failed its MAC: the connection was tampered with');
    }
    return payload;
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
