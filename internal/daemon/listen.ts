// Listening sockets: TCP (IPv6 and IPv4) or a Unix socket. TLS is not started here: the protocol
// host announces it and upgrades the plain connection itself (internal/remote).
import fs from 'node:fs';
import net from 'node:net';
import { TardisError, UsageError } from '../errors/errors.ts';

export type OnConnection = (socket: net.Socket, peer: string) => void;

export interface Listener {
  /** Where it listens, for logs: "127.0.0.1:7420", "[::]:7420", "unix:/run/tardis/tardisd.sock". */
  readonly where: string;
  /** Stops accepting; open connections are untouched. Removes a Unix socket file. */
  close(): Promise<void>;
}

function peerOf(socket: net.Socket, fallback: string): string {
  if (!socket.remoteAddress) return fallback;
  return socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
}

function bind(server: net.Server, what: net.ListenOptions, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why =
        err.code === 'EADDRINUSE' ? 'the address is in use (another tardisd?)'
        : err.code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
        : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine'
        : err.message;
      reject(new TardisError(`cannot listen on ${where}: ${why}`));
    };
    server.once('error', onError);
    server.listen(what, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  // close() shuts the listening socket at once; its callback (and 'close') would also wait for
  // every open connection, which the daemon tracks itself.
  if (server.listening) server.close();
  return new Promise((resolve) => setImmediate(resolve));
}

/** Listens on `port` at each of `addresses` (none: every interface, dual-stack). */
export async function listenTcp(addresses: string[], port: number, onConnection: OnConnection): Promise<Listener[]> {
  const hosts: (string | undefined)[] = addresses.length ? addresses : [undefined];
  const listeners: Listener[] = [];
  try {
    for (const host of hosts) {
      const server = net.createServer((s) => onConnection(s, peerOf(s, 'tcp')));
      const shown = host === undefined ? `*:${port}` : net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
      await bind(server, { host, port, ipv6Only: host === '::' ? false : undefined }, shown);
      const addr = server.address() as net.AddressInfo;
      const where = host === undefined ? `*:${addr.port}` : addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
      listeners.push({ where, close: () => closeServer(server) });
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  return listeners;
}

/**
 * Removes a Unix socket left by a server that died, and only that: a live socket (something
 * answers) or anything that is not a socket stays, and starting fails.
 */
export async function removeStaleSocket(p: string): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new TardisError(`cannot check ${p}: ${(err as Error).message}`);
  }
  if (!st.isSocket()) throw new UsageError(`${p} exists and is not a socket; not replacing it`);
  const live = await new Promise<boolean | Error>((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? false : err));
  });
  if (live === true) throw new TardisError(`cannot listen on unix:${p}: another server is listening there`);
  if (live instanceof Error) throw new TardisError(`cannot check ${p}: ${live.message}`);
  try {
    fs.unlinkSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TardisError(`cannot remove the stale socket ${p}: ${(err as Error).message}`);
  }
  return true;
}

/** Listens on a Unix socket with mode 0777 & ~umask. */
export async function listenUnix(p: string, umask: number, onConnection: OnConnection): Promise<Listener & { staleRemoved: boolean }> {
  const staleRemoved = await removeStaleSocket(p);
  // A Unix socket peer has no address; the connection id tells connections apart in the log.
  const server = net.createServer((s) => onConnection(s, 'unix'));
  await bind(server, { path: p }, `unix:${p}`);
  fs.chmodSync(p, 0o777 & ~umask);
  const ino = fs.statSync(p).ino;
  return {
    where: `unix:${p}`,
    staleRemoved,
    close: async () => {
      await closeServer(server);
      // Node removes the file itself when it can; after a privilege drop the directory may not
      // let it. Never remove a socket some other server has put there since.
      try {
        if (fs.lstatSync(p).ino === ino) fs.unlinkSync(p);
      } catch {
        // gone already, or not ours to remove
      }
    },
  };
}
