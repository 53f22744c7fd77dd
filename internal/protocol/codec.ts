// Message bodies: msgpack through msgpackr, configured for plain data only. Bytes travel as bin
// and come back as Buffers; before decoding, a linear scan of the input rejects every extension
// type (records, dates, sets, errors, regexps, typed arrays, bigints …), non-string map keys and
// nesting deeper than a bound, so a peer can only ever produce null, booleans, numbers, strings,
// Buffers, arrays and plain objects — and cannot make the decoder recurse or allocate beyond
// the frame it sent.
import { Packr, Unpackr } from 'msgpackr';
import { ProtocolError } from './errors.ts';

export const MAX_DEPTH = 32;

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  encodeUndefinedAsNil: true,
  bundleStrings: false,
});

const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  int64AsType: 'number',
  bundleStrings: false,
});

export type Message = Record<string, unknown>;

/** Encodes one message body (a plain object of plain data). */
export function encodeBody(value: unknown): Buffer {
  return packr.pack(value);
}

const bad = (why: string): never => {
  throw new ProtocolError(`malformed message: ${why}`);
};

/**
 * Checks that `buf` holds exactly one msgpack value of plain types, with string map keys and at
 * most `maxDepth` levels of nesting. Linear in the input; allocates nothing per item.
 */
export function checkBody(buf: Uint8Array, maxDepth = MAX_DEPTH): void {
  const end = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Per open container: items still to read, and whether it is a map (even counts are keys).
  const left: number[] = [];
  const isMap: boolean[] = [];
  let pos = 0;
  let values = 0;
  const need = (n: number): void => {
    if (end - pos < n) bad('truncated');
  };
  for (;;) {
    const depth = left.length;
    if (depth === 0 && values === 1) break;
    const keyWanted = depth > 0 && isMap[depth - 1] && left[depth - 1] % 2 === 0;
    need(1);
    const b = buf[pos++];
    let children = -1; // >= 0: a container with this many items
    let map = false;
    let skip = 0;
    let isString = false;
    if (b <= 0x7f || b >= 0xe0) skip = 0;
    else if (b <= 0x8f) { children = (b & 0x0f) * 2; map = true; }
    else if (b <= 0x9f) children = b & 0x0f;
    else if (b <= 0xbf) { skip = b & 0x1f; isString = true; }
    else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xc4: need(1); skip = buf[pos++]; break;
        case 0xc5: need(2); skip = view.getUint16(pos); pos += 2; break;
        case 0xc6: need(4); skip = view.getUint32(pos); pos += 4; break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd9: need(1); skip = buf[pos++]; isString = true; break;
        case 0xda: need(2); skip = view.getUint16(pos); pos += 2; isString = true; break;
        case 0xdb: need(4); skip = view.getUint32(pos); pos += 4; isString = true; break;
        case 0xdc: need(2); children = view.getUint16(pos); pos += 2; break;
        case 0xdd: need(4); children = view.getUint32(pos); pos += 4; break;
        case 0xde: need(2); children = view.getUint16(pos) * 2; pos += 2; map = true; break;
        case 0xdf: need(4); children = view.getUint32(pos) * 2; pos += 4; map = true; break;
        default:
          // 0xc1 (never used), 0xc7-0xc9 and 0xd4-0xd8: extension types.
          bad(b === 0xc1 ? 'reserved byte 0xc1' : `extension type (0x${b.toString(16)}) not allowed`);
      }
    }
    if (keyWanted && !isString) bad('map key is not a string');
    need(skip);
    pos += skip;
    if (depth > 0) left[depth - 1]--;
    else values++;
    if (children > 0) {
      if (depth + 1 > maxDepth) bad(`nested deeper than ${maxDepth} levels`);
      // Every item takes at least one byte: a count beyond what is left cannot be real.
      if (children > end - pos) bad('truncated');
      left.push(children);
      isMap.push(map);
    }
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      isMap.pop();
    }
  }
  if (pos !== end) bad('trailing bytes after the message');
}

/** Decodes one checked message body; the top level must be a map. */
export function decodeBody(buf: Buffer): Message {
  checkBody(buf);
  let value: unknown;
  try {
    value = unpackr.unpack(buf);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) bad('not a map');
  return value as Message;
}
