// Sequential file writer that leaves holes: 4 KiB-aligned all-zero blocks are skipped (the
// offset just advances) and close() truncates to the final size, so zero tails become holes too.
// The file must be new and empty: skipped ranges read back as zeros only because nothing was there.
//
// The calls are synchronous: a write into the page cache takes microseconds, while a promise
// round trip through the thread pool costs tens of them per call (a restore of small files was
// bound by exactly that).

import { closeSync, ftruncateSync, writeSync } from 'node:fs';

export const SPARSE_BLOCK = 4096;
/** Adjacent data blocks are coalesced into writes of up to this many bytes. */
const MAX_WRITE = 1 << 20;
const ZERO = Buffer.alloc(SPARSE_BLOCK);

export class SparseWriter {
  private readonly fd: number;
  /** Bytes accepted so far (the logical file offset). */
  private pos = 0;
  /** The incomplete block at the end, pos - pending.length is block-aligned. */
  private readonly pending = Buffer.alloc(SPARSE_BLOCK);
  private pendingLen = 0;
  private skipped = 0;
  /** Where the data written so far ends (holes after it are not in the file yet). */
  private dataEnd = 0;
  private closed = false;

  /** `fd`: a new file open for writing; close() closes it, end() leaves it open. */
  constructor(fd: number) {
    this.fd = fd;
  }

  /** Bytes accepted so far. */
  get size(): number {
    return this.pos;
  }

  /** Bytes not written because they were whole zero blocks. */
  get skippedBytes(): number {
    return this.skipped;
  }

  /** Appends data; the caller may reuse `data` when it returns. */
  write(data: Uint8Array): void {
    if (this.closed) throw new Error('SparseWriter: write after close');
    let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.pendingLen > 0) {
      const n = Math.min(SPARSE_BLOCK - this.pendingLen, buf.length);
      buf.copy(this.pending, this.pendingLen, 0, n);
      this.pendingLen += n;
      buf = buf.subarray(n);
      if (this.pendingLen < SPARSE_BLOCK) {
        this.pos += n;
        return;
      }
      this.writeBlocks(this.pending, this.pos + n - SPARSE_BLOCK);
      this.pendingLen = 0;
      this.pos += n;
    }
    const whole = buf.length - (buf.length % SPARSE_BLOCK);
    if (whole > 0) this.writeBlocks(buf.subarray(0, whole), this.pos);
    this.pos += whole;
    const rest = buf.length - whole;
    buf.copy(this.pending, 0, whole);
    this.pendingLen = rest;
    this.pos += rest;
  }

  /** Writes whole blocks at a block-aligned offset, skipping zero blocks and coalescing the others. */
  private writeBlocks(buf: Buffer, at: number): void {
    let run = 0; // start of the data blocks not yet written
    let off = 0;
    for (; off < buf.length; off += SPARSE_BLOCK) {
      if (ZERO.equals(buf.subarray(off, off + SPARSE_BLOCK))) {
        if (off > run) this.writeAll(buf.subarray(run, off), at + run);
        run = off + SPARSE_BLOCK;
        this.skipped += SPARSE_BLOCK;
      } else if (off + SPARSE_BLOCK - run > MAX_WRITE) {
        this.writeAll(buf.subarray(run, off), at + run);
        run = off;
      }
    }
    if (off > run) this.writeAll(buf.subarray(run, off), at + run);
  }

  private writeAll(buf: Buffer, at: number): void {
    this.dataEnd = Math.max(this.dataEnd, at + buf.length);
    let done = 0;
    while (done < buf.length) {
      done += writeSync(this.fd, buf, done, buf.length - done, at + done);
    }
  }

  /**
   * Flushes the last partial block (skipped if all zeros), truncates the file to `size`
   * (default: bytes written) so trailing zeros are a hole, and closes the file.
   */
  close(size: number = this.pos): void {
    try {
      this.end(size);
    } finally {
      closeSync(this.fd);
    }
  }

  /** As close() but leaves the file open (for its metadata); no more writes. */
  end(size: number = this.pos): void {
    if (this.closed) return;
    this.closed = true;
    const tail = this.pending.subarray(0, this.pendingLen);
    if (tail.some((b) => b !== 0)) this.writeAll(tail, this.pos - this.pendingLen);
    else this.skipped += tail.length;
    // A file written up to its end needs no truncate (one syscall per restored file).
    if (this.dataEnd !== size) ftruncateSync(this.fd, size);
  }
}
