// A small seeded PRNG (sfc32), so the dataset and the day of changes are the same on every run.
import { createHash } from 'node:crypto';

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** Text-like bytes (words and lines), compressible as real logs and documents are. */
  text(n: number): Buffer {
    const words = ['backup', 'tardis', 'chunk', 'set', 'restore', 'file', 'error', 'ok', 'debug', 'info', 'the', 'a', 'of',
      'in', 'to', 'disk', 'node', 'pack', 'catalog', 'time', 'user', 'root', 'daily', 'weekly', 'size', 'inode'];
    const out = Buffer.allocUnsafe(n);
    let p = 0;
    while (p < n) {
      const w = this.u32() % 7 === 0 ? String(this.u32() % 100000) : words[this.u32() % words.length]!;
      const sep = this.u32() % 12 === 0 ? '\n' : ' ';
      p += out.write(w + sep, p, 'latin1');
    }
    return out;
  }
}
