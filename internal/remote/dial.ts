// The client's way to a tardisd: a TCP or Unix socket, or `ssh [user@]host tardisd --stdio`;
// then the server's greeting (TLS if it asks for it), the hellos and the login.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { RepoUrl } from '../config/url.ts';
import { WrongPasswordError } from '../errors/errors.ts';
import { readBanner } from '../protocol/banner.ts';
import type { Message } from '../protocol/codec.ts';
import { Connection, type Limits } from '../protocol/connection.ts';
import { ConnectionError, ProtocolError } from '../protocol/errors.ts';
import { SrpProver, type AuthSetup } from './auth.ts';

export interface DialOptions {
  /** Check the server's TLS certificate (--validate-certs, TARDIS_VALIDATE_CERTS). */
  validateCerts?: boolean;
  /** Trusted CA certificates (PEM) for a server with a self-signed certificate. */
  ca?: string | Buffer;
  /** Connecting, the greeting and TLS must be done within this time (default 30 s). */
  connectTimeoutMs?: number;
  limits?: Partial<Limits>;
  /** The ssh program for ssh:// URLs (default $TARDIS_SSH or "ssh"). */
  ssh?: string;
  /** The command ssh runs on the server (default $TARDIS_SSH_COMMAND or "tardisd --stdio"). */
  sshCommand?: string;
  env?: NodeJS.ProcessEnv;
}

type NetUrl = Exclude<RepoUrl, { kind: 'file' } | { kind: 'http' }>;

export function describeServer(url: NetUrl): string {
  switch (url.kind) {
    case 'tardis': return `tardisd at ${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}`;
    case 'unix': return `tardisd at unix:${url.socket}`;
    case 'ssh': return `tardisd over ssh to ${url.user ? `${url.user}@` : ''}${url.host}`;
  }
}

function connectSocket(opts: net.NetConnectOpts, name: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(opts);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ConnectionError(`cannot connect to ${name}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true); // request/reply: no waiting for Nagle
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (is tardisd running?)' : err.code === 'ENOENT' ? 'no such socket (is tardisd running?)' : err.message;
      reject(new ConnectionError(`cannot connect to ${name}: ${why}`));
    });
  });
}

function sshStream(url: NetUrl & { kind: 'ssh' }, o: DialOptions): Duplex {
  const env = o.env ?? process.env;
  const program = o.ssh ?? env.TARDIS_SSH ?? 'ssh';
  const command = o.sshCommand ?? env.TARDIS_SSH_COMMAND ?? 'tardisd --stdio';
  const args = [...(url.port ? ['-p', String(url.port)] : []), '--', `${url.user ? `${url.user}@` : ''}${url.host}`, ...command.split(/\s+/).filter(Boolean)];
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const stream: Duplex = Duplex.from({ readable: child.stdout, writable: child.stdin } as unknown as Iterable<never>);
  child.on('error', (err) => stream.destroy(new Error(`cannot run ${program}: ${err.message}`)));
  // ssh's own failures (unknown host, refused key) end its output; make the reason visible.
  child.on('exit', (code, signal) => {
    if (code !== 0) stream.destroy(new Error(`${program} exited with ${signal ?? `status ${code}`}`));
  });
  stream.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return stream;
}

/** Opens the transport and takes it through the greeting (and TLS); the stream is left paused. */
export async function openTransport(url: NetUrl, o: DialOptions = {}): Promise<Duplex> {
  const name = describeServer(url);
  const timeout = o.connectTimeoutMs ?? 30_000;
  let stream: Duplex;
  if (url.kind === 'tardis') stream = await connectSocket({ host: url.host, port: url.port }, name, timeout);
  else if (url.kind === 'unix') stream = await connectSocket({ path: url.socket }, name, timeout);
  else stream = sshStream(url, o);
  const greeting = await readBanner(stream, name, timeout);
  if (!greeting.tls) return stream;
  return new Promise((resolve, reject) => {
    const host = url.kind === 'tardis' ? url.host : 'localhost';
    const sock = tls.connect({
      socket: stream as net.Socket,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: o.validateCerts === true,
      ca: o.ca,
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ConnectionError(`TLS with ${name} did not complete within ${timeout / 1000} s`));
    }, timeout);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new ConnectionError(`TLS with ${name} failed: ${err.message}${o.validateCerts ? ' (--validate-certs is on)' : ''}`));
    });
  });
}

/** A protocol connection to the server of `url`, hellos exchanged. */
export async function dial(url: NetUrl, o: DialOptions = {}): Promise<Connection> {
  const stream = await openTransport(url, o);
  const conn = new Connection(stream, { role: 'client', peerName: describeServer(url), limits: o.limits });
  await conn.ready;
  return conn;
}

/**
 * Logs in as `client`. The password is asked for only if the repository has one. Resolves with
 * whether the password getter was called.
 */
export async function login(conn: Connection, client: string, password: () => Promise<string | null>): Promise<void> {
  const ch = await conn.request('login', { client }) as Message;
  if (ch?.method === 'none') return;
  if (ch?.method !== 'srp') throw new ProtocolError('the server answered the login with an unknown method');
  const pw = await password();
  if (pw === null) throw new WrongPasswordError('this repository has a password: give it with -P, --password-file or --password-prog');
  if (!conn.isOpen) throw conn.error ?? new ConnectionError('the connection closed during the login');
  const prover = await SrpProver.prove(client, pw, ch as { group: unknown; salt: unknown; B: unknown; kdf: unknown });
  // The answer and everything after it is MACed with the session key (frame.ts).
  const r = await conn.request('proof', { A: prover.A, M1: prover.M1 }, { thenAuthenticate: prover.keys() }) as Message;
  prover.check(r?.M2);
}

/** Creates the repository of `client` on the server; the connection is then logged in to it. */
export async function createRemote(conn: Connection, client: string, config: unknown, keySlot: unknown, auth: AuthSetup | null): Promise<void> {
  await conn.request('create', { client, config, keySlot, auth });
}
