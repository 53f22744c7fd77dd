// Messages for the user on stderr, one line each, filtered by verbosity:
//   error  always          "tardis: error: ..."
//   warn   verbosity >= 0  "tardis: warning: ..."   (--quiet gives -1)
//   info   verbosity >= 1  "tardis: ..."
//   detail verbosity >= 2  "tardis: ..."
//   debug  verbosity >= 3  "tardis: debug: ..."
import { escapeControl, formatTime } from './format.ts';

let programName = 'tardis';

/** The name in front of every message (the tool's name: tardis, sonic, regenerate, ...). */
export function setProgramName(name: string): void {
  programName = name;
}

export function getProgramName(): string {
  return programName;
}

export type LogLevel = 'error' | 'warning' | 'info' | 'detail' | 'debug';

const MIN_VERBOSITY: Record<LogLevel, number> = { error: -Infinity, warning: 0, info: 1, detail: 2, debug: 3 };
const PREFIX: Record<LogLevel, string> = { error: 'error: ', warning: 'warning: ', info: '', detail: '', debug: 'debug: ' };

/** Something that prints whole lines without garbling a live display (a Progress). */
export interface LineSink {
  readonly enabled: boolean;
  log(line: string): void;
}

export interface LoggerOptions {
  verbosity: number;
  stream?: NodeJS.WritableStream;
  /** One JSON object per line: {"time","level","program","message"}. */
  json?: boolean;
  /** Prefix text lines with the local time. */
  time?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
}

export class Logger {
  verbosity: number;
  private readonly stream: NodeJS.WritableStream;
  private readonly json: boolean;
  private readonly time: boolean;
  private readonly now: () => Date;
  private sink: LineSink | null = null;

  constructor(opts: LoggerOptions) {
    this.verbosity = opts.verbosity;
    this.stream = opts.stream ?? process.stderr;
    this.json = opts.json ?? false;
    this.time = opts.time ?? false;
    this.now = opts.now ?? (() => new Date());
  }

  /** Route lines through `sink` while it is enabled (e.g. a progress line), or stop with null. */
  attach(sink: LineSink | null): void {
    this.sink = sink;
  }

  enabled(level: LogLevel): boolean {
    return this.verbosity >= MIN_VERBOSITY[level];
  }

  error(msg: string | Error): void {
    this.write('error', msg);
  }
  warn(msg: string | Error): void {
    this.write('warning', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  detail(msg: string): void {
    this.write('detail', msg);
  }
  debug(msg: string): void {
    this.write('debug', msg);
  }

  private write(level: LogLevel, msg: string | Error): void {
    if (!this.enabled(level)) return;
    const text = typeof msg === 'string' ? msg : msg.message;
    const now = this.now();
    const line = this.json
      ? JSON.stringify({ time: now.toISOString(), level, program: programName, message: text })
      : `${this.time ? `${formatTime(now)} ` : ''}${programName}: ${PREFIX[level]}${escapeControl(text)}`;
    if (this.sink?.enabled) this.sink.log(line);
    else this.stream.write(`${line}\n`);
  }
}
