// tardisd's log destination: stderr (systemd's journal adds times and levels), or a file that
// SIGHUP reopens so logrotate can move it away.
import fs from 'node:fs';
import { Writable } from 'node:stream';

export class LogFile extends Writable {
  readonly path: string | null;
  private fd: number;

  /** `path` null: stderr. Throws if the file cannot be opened. */
  constructor(path: string | null) {
    super({ decodeStrings: true });
    this.path = path;
    this.fd = path === null ? 2 : LogFile.open(path);
  }

  private static open(p: string): number {
    return fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
  }

  /** Opens the file again by name (after logrotate); on failure keeps writing to the old one. */
  reopen(): void {
    if (this.path === null) return;
    const fd = LogFile.open(this.path);
    const old = this.fd;
    this.fd = fd;
    fs.closeSync(old);
  }

  /** The open file's descriptor, e.g. to hand its ownership to the user tardisd runs as. */
  get descriptor(): number {
    return this.fd;
  }

  // Synchronous: a line logged just before exit is in the file, and lines never interleave.
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      fs.writeSync(this.fd, chunk);
    } catch {
      // A full disk or a vanished file must not take the server down with it.
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.fd !== 2) fs.closeSync(this.fd);
    cb();
  }
}
