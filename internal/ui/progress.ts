// One live status line on a terminal, e.g.
//   12.3s  1234 files  56 dirs  1.2 GiB read  98.0 MiB/s  300.0 MiB new  /home/u/…/file.txt
// redrawn in place at most every intervalMs; silent when the stream is not a TTY (cron).
import { escapeControl, formatBytes, formatDuration, displayWidth, truncateEnd, truncateMiddle } from './format.ts';

export interface ProgressState {
  files: number;
  dirs: number;
  bytesRead: number;
  bytesTotal?: number;
  bytesNew: number;
  current?: string;
  phase?: string;
}

export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Default: whether the stream is a TTY. */
  enabled?: boolean;
  /** Minimum time between redraws (default 150 ms). */
  intervalMs?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

const CLEAR_EOL = '\x1b[K';

export class Progress {
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private state: ProgressState | null = null;
  private lastDraw = -Infinity;
  private shown = false; // a status line is on the screen
  private finished = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? this.stream.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 150;
    this.now = opts.now ?? Date.now;
    this.start = this.now();
  }

  update(state: ProgressState): void {
    if (!this.enabled || this.finished) return;
    this.state = { ...state };
    if (this.timer === undefined) {
      // Keeps the elapsed time moving while one big file is read; never keeps the process alive.
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    this.tick();
  }

  /** Print a line above the status line (which is redrawn below it). */
  log(line: string): void {
    const text = escapeControl(line);
    if (!this.enabled || this.finished || !this.shown) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.stream.write(`\r${text}${CLEAR_EOL}\n`);
    this.draw();
  }

  /** Remove the status line and stop. Idempotent. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.shown) this.stream.write(`\r${CLEAR_EOL}`);
    this.shown = false;
  }

  /** The status text for a terminal `width` cells wide (exposed for tests). */
  render(state: ProgressState, width: number): string {
    const elapsedMs = this.now() - this.start;
    const parts: string[] = [];
    if (state.phase) parts.push(state.phase);
    parts.push(formatDuration(elapsedMs), `${state.files} files`, `${state.dirs} dirs`);
    const read = formatBytes(state.bytesRead);
    if (state.bytesTotal !== undefined && state.bytesTotal > 0) {
      const pct = Math.min(100, Math.floor((state.bytesRead / state.bytesTotal) * 100));
      parts.push(`${read}/${formatBytes(state.bytesTotal)} read (${pct}%)`);
    } else {
      parts.push(`${read} read`);
    }
    if (elapsedMs >= 1000) parts.push(`${formatBytes(state.bytesRead / (elapsedMs / 1000))}/s`);
    parts.push(`${formatBytes(state.bytesNew)} new`);
    let line = escapeControl(parts.join('  '));
    if (state.current) {
      const room = width - displayWidth(line) - 2;
      if (room >= 12) line += `  ${truncateMiddle(escapeControl(state.current), room)}`;
    }
    return truncateEnd(line, width);
  }

  private tick(): void {
    if (this.state && this.now() - this.lastDraw >= this.intervalMs) this.draw();
  }

  private draw(): void {
    if (!this.state || this.finished) return;
    // One cell short of the width: writing the last column makes some terminals wrap.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`\r${this.render(this.state, width)}${CLEAR_EOL}`);
    this.lastDraw = this.now();
    this.shown = true;
  }
}
