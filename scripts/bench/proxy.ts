// A byte-counting TCP relay on loopback: the client talks to it, it talks to the server, and
// every byte each way is counted. That is the only exact measure of "bytes over the wire" that
// needs no privileges and no cooperation from either side.
import net from 'node:net';

export interface CountingProxy {
  port: number;
  counts(): { up: number; down: number };
  reset(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, host = '127.0.0.1'): Promise<CountingProxy> {
  let up = 0;
  let down = 0;
  const sockets = new Set<net.Socket>();
  // No Nagle on either leg: the client and tardisd disable it on their own sockets, and a relay
  // that kept it would add delayed-ACK stalls to every small request.
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ port: targetPort, host, noDelay: true });
    sockets.add(client).add(upstream);
    client.on('data', (b: Buffer) => {
      up += b.length;
    });
    upstream.on('data', (b: Buffer) => {
      down += b.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    counts: () => ({ up, down }),
    reset: () => {
      up = 0;
      down = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on right now (bound and released; good enough on a quiet machine). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, host, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves once something accepts connections on the port; rejects after `ms`. */
export async function waitForPort(port: number, ms: number, alive: () => boolean, host = '127.0.0.1'): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('the server exited before it listened');
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
