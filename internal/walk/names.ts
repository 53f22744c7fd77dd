// Byte-string path helpers: file names are bytes, never assumed to be UTF-8.

const SLASH = Buffer.from('/');

/** `dir + '/' + name`, without doubling a trailing slash (so the root `/` joins to `/name`). */
export function joinPath(dir: Buffer, name: Buffer): Buffer {
  if (dir.length > 0 && dir[dir.length - 1] === 0x2f) return Buffer.concat([dir, name]);
  return Buffer.concat([dir, SLASH, name]);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the byte there does not start one. */
export function utf8SeqLen(b: Buffer, i: number): number {
  const c = b[i];
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  // Overlong forms and surrogates decode to U+FFFD; re-encoding exposes them.
  const seq = b.subarray(i, i + n);
  return Buffer.from(seq.toString('utf8'), 'utf8').equals(seq) ? n : 0;
}

/**
 * A one-line, unambiguous rendering of a byte path for messages: valid UTF-8 is kept,
 * control characters, backslashes and invalid bytes are escaped (`\n`, `\\`, `\xff`).
 */
export function printable(b: Buffer): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c >= 0x80) {
      const n = utf8SeqLen(b, i);
      if (n > 0) {
        out += b.toString('utf8', i, i + n);
        i += n;
        continue;
      }
      out += '\\x' + c.toString(16).padStart(2, '0');
    } else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
    i++;
  }
  return out;
}
