// A counting budget (files or bytes in flight) that callers wait on in turn. A request bigger
// than the whole budget is let through when nothing else holds any, so nothing waits forever.
export class Budget {
  readonly #cap: number;
  #used = 0;
  readonly #waiting: { n: number; go: () => void }[] = [];

  constructor(cap: number) {
    this.#cap = cap;
  }

  take(n: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(n)) {
      this.#used += n;
      return Promise.resolve();
    }
    return new Promise((go) => this.#waiting.push({ n, go }));
  }

  give(n: number): void {
    this.#used -= n;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.n)) {
      const w = this.#waiting.shift()!;
      this.#used += w.n;
      w.go();
    }
  }

  #fits(n: number): boolean {
    return this.#used === 0 || this.#used + n <= this.#cap;
  }
}
