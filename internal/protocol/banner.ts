// The server's greeting, sent in plain text before anything else (as Tardis does): it says
// whether the client must start TLS before the hellos. A client that reads anything else knows
// at once that it did not reach a tardisd, instead of waiting for a hello that never comes.
import type { Duplex } from 'node:stream';
import { ConnectionError } from './errors.ts';

export const BANNER = 'TARDIS-TS/1\n';
export const BANNER_TLS = 'TARDIS-TS/1 TLS\n';
const MAX_BANNER = 64;

export function writeBanner(stream: Duplex, tls: boolean): void {
  stream.write(tls ? BANNER_TLS : BANNER);
}

/**
 * Reads the greeting of the server `name`; bytes after it stay in the stream, which is left
 * paused. Resolves with whether the server wants TLS.
 */
export function readBanner(stream: Duplex, name: string, timeoutMs: number): Promise<{ tls: boolean }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const fail = (msg: string) => {
      cleanup();
      stream.destroy();
      reject(new ConnectionError(msg));
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > MAX_BANNER) fail(notTardis(name, buf));
        return;
      }
      cleanup();
      stream.pause();
      const line = buf.subarray(0, nl + 1).toString('latin1');
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) stream.unshift(rest);
      if (line === BANNER) resolve({ tls: false });
      else if (line === BANNER_TLS) resolve({ tls: true });
      else fail(notTardis(name, buf));
    };
    const onEnd = () => fail(`${name} closed the connection without a greeting (is it a tardisd server?)`);
    const onError = (err: Error) => fail(`cannot reach ${name}: ${err.message}`);
    const timer = setTimeout(() => fail(`no greeting from ${name} within ${timeoutMs / 1000} s (is it a tardisd server?)`), timeoutMs);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}

function notTardis(name: string, got: Buffer): string {
  const text = got.subarray(0, MAX_BANNER).toString('latin1');
  if (/^TARDIS \d/.test(text)) return `${name} is a Tardis (Python) server, which tardis-ts cannot talk to`;
  const shown = text.replace(/[^\x20-\x7e]/g, '.').trim();
  return `${name} is not a tardisd server (it sent "${shown}")`;
}
