// The server side of one connection, for tardisd: greeting (and TLS), hello, login, then the
// repository session of the logged-in client, under BASEDIR/CLIENT.
//
// Before the login only `login`, `proof` and `create` are accepted, in frames of at most 64 KiB;
// anything else ends the connection. A login names the client; the repository is BASEDIR/CLIENT
// and nothing else, so a client that logged in as A can never reach B's repository. Two
// backups of the same client at once are refused (unless the second says --force, which ends
// the first); reading sessions run in parallel with anything.
import { mkdir, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls, { type SecureContextOptions } from 'node:tls';
import { validateChunkerParams } from '../chunker/index.ts';
import { LockedError, NotFoundError, TardisError, UsageError, WrongPasswordError } from '../errors/errors.ts';
import type { RepoConfig } from '../model/session.ts';
import { writeBanner } from '../protocol/banner.ts';
import type { Message } from '../protocol/codec.ts';
import { Connection, type Limits, type RequestContext } from '../protocol/connection.ts';
import { ConnectionError, ProtocolError } from '../protocol/errors.ts';
import type { RepoPolicy } from '../retention/policy.ts';
import { ServerRepository } from '../server/repository.ts';
import { RepositorySession } from '../server/session.ts';
import { authRecord, checkAuthSetup, readAuthRecord, SrpVerifier, writeAuthRecord } from './auth.ts';
import { sessionHandler, type Handler } from './serve.ts';
import { Check, checkKeySlot } from './validate.ts';

/** Where log lines of the host go (tardisd passes its Logger; every method is optional). */
export interface HostLog {
  error?(msg: string): void;
  warn?(msg: string): void;
  info?(msg: string): void;
  detail?(msg: string): void;
  debug?(msg: string): void;
}

/** What tardisd knows about serving (its [Daemon] settings). */
export interface HostOptions {
  /** Parent of all client repositories: a client's repository is BASEDIR/CLIENT. */
  basedir: string;
  /** AllowNewHosts: a client may create its repository over the wire. */
  allowNewHosts?: boolean;
  /** RequirePassword: refuse repositories without a password (no "no auth" logins, no creation without one). */
  requirePassword?: boolean;
  /** AllowSchemaUpgrades: open repositories with an older catalog schema and upgrade them. */
  allowSchemaUpgrades?: boolean;
  /** Formats/Priorities/KeepDays/ForceFull and AutoPurge. */
  policy?: RepoPolicy;
  /** AllowClientOverrides: a repository's own settings (sonic setconfig) win over `policy` (default true). */
  allowClientOverrides?: boolean;
  /** Timeout: a connection whose peer sends nothing (not even keep-alives) this long is dropped. */
  idleTimeoutMs?: number;
  /** Greeting, hello and login must be over within this time (default 60 s). */
  handshakeTimeoutMs?: number;
  /**
   * TLS (--ssl --certfile --keyfile): pass the *plain* socket; serveConnection announces TLS in
   * its greeting and upgrades the socket itself, as Tardis does, so a client learns from the
   * server whether to speak TLS.
   */
  tls?: SecureContextOptions;
  /** Aborting it (SIGTERM) aborts an open backup (what was sent is kept) and ends the connection. */
  signal?: AbortSignal;
  log?: HostLog;
  /** How to name the peer in log lines ("127.0.0.1:53122", "unix", "stdio"). */
  peer?: string;
  /** Protocol limits beyond the timeouts above (tests make them small). */
  limits?: Partial<Limits>;
  /** Pause after a wrong password before answering (slows guessing; default 1 s). */
  authFailDelayMs?: number;
}

/** Frames accepted before the login: the login messages are small. */
const PRE_LOGIN_FRAME = 64 << 10;
/** Chunks larger than this cannot cross the wire (one frame holds a whole chunk). */
export const MAX_REMOTE_CHUNK = 32 << 20;

interface Registry {
  /** Client → the connection running its backup. */
  backups: Map<string, { owner: ServedConnection; since: number; peer: string }>;
  /** Clients being created right now. */
  creating: Set<string>;
}

const registries = new Map<string, Registry>();

function registryFor(basedir: string): Registry {
  const key = path.resolve(basedir);
  let r = registries.get(key);
  if (!r) {
    r = { backups: new Map(), creating: new Set() };
    registries.set(key, r);
  }
  return r;
}

/** A client name is one plain, visible path component (it names a directory under BASEDIR). */
export function checkClientName(v: unknown): string {
  const bad = (why: string): never => {
    throw new UsageError(`invalid client name: ${why}`);
  };
  if (typeof v !== 'string' || v === '') return bad('empty');
  if (Buffer.byteLength(v) > 255) bad('longer than 255 bytes');
  if (v === '.' || v === '..' || v.startsWith('.')) bad(`'${v}' starts with '.'`);
  if (v.includes('/') || v.includes('\\')) bad(`'${v}' contains a slash`);
  if (/[\u0000-\u001f\u007f]/.test(v)) bad('it contains control characters');
  return v;
}

/** A repository config sent by a client creating its repository: checked field by field. */
function checkRepoConfig(v: unknown): RepoConfig {
  const c = new Check('create');
  const o = c.obj(v, 'config');
  if (o.version !== 1) c.fail('config.version', 'is not 1');
  const id = c.str(o.id, 'config.id', 64);
  if (!/^[0-9a-f]{16,64}$/.test(id)) c.fail('config.id', 'is not a hex id');
  const ch = c.obj(o.chunker, 'config.chunker');
  const chunker = { min: c.int(ch.min, 'chunker.min', 1), avg: c.int(ch.avg, 'chunker.avg', 1), max: c.int(ch.max, 'chunker.max', 1) };
  validateChunkerParams(chunker);
  if (chunker.max > MAX_REMOTE_CHUNK) throw new UsageError(`chunks of up to ${chunker.max} bytes cannot be sent to a server (the limit is ${MAX_REMOTE_CHUNK})`);
  const aead = o.aead === 'chacha20-poly1305' || o.aead === 'aes-256-gcm' ? o.aead : c.fail('config.aead', 'is not a supported cipher');
  const compression = o.compression === 'zstd' || o.compression === 'gzip' || o.compression === 'none' ? o.compression : c.fail('config.compression', 'is not supported');
  return { version: 1, id, created: c.str(o.created, 'config.created', 64), chunker, aead, compression, encrypted: c.bool(o.encrypted, 'config.encrypted') };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One connection being served. */
class ServedConnection {
  readonly done: Promise<void>;
  conn!: Connection;
  private readonly host: RepositoryHost;
  private readonly peer: string;
  private state: 'login' | 'proof' | 'ready' | 'over' = 'login';
  private client = '';
  private verifier: SrpVerifier | null = null;
  private session: RepositorySession | null = null;
  private handler: Handler | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  /** The client closed its session with a `close` request: the end of the connection is no news. */
  private closedInOrder = false;

  constructor(host: RepositoryHost, duplex: Duplex, peer: string) {
    this.host = host;
    this.peer = peer;
    this.done = this.run(duplex).catch((err: unknown) => {
      this.log('error', `connection from ${this.peer}: ${(err as Error)?.stack ?? String(err)}`);
    });
  }

  get who(): string {
    return this.client ? `client '${this.client}' (${this.peer})` : this.peer;
  }

  private log(level: keyof HostLog, msg: string): void {
    this.host.opts.log?.[level]?.(msg);
  }

  private async run(duplex: Duplex): Promise<void> {
    const o = this.host.opts;
    duplex.on('error', () => undefined); // reported through the connection
    // Small replies must not wait for Nagle's algorithm (a delayed ACK costs 40 ms a round trip).
    if (duplex instanceof net.Socket) duplex.setNoDelay(true);
    let stream: Duplex = duplex;
    writeBanner(duplex, !!o.tls);
    if (o.tls) {
      const sock = new tls.TLSSocket(duplex as never, { isServer: true, secureContext: this.host.secureContext! });
      sock.on('error', () => undefined);
      stream = sock;
    }
    const handshakeMs = o.handshakeTimeoutMs ?? 60_000;
    this.conn = new Connection(stream, {
      role: 'server',
      peerName: `client ${this.peer}`,
      limits: { ...o.limits, ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}), handshakeTimeoutMs: handshakeMs },
      log: (level, msg) => this.log(level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug', msg),
      onRequest: (type, m, ctx) => this.handle(type, m, ctx),
    });
    this.conn.setFrameLimit(PRE_LOGIN_FRAME);
    this.loginTimer = setTimeout(() => {
      if (this.state !== 'ready') this.conn.fail(new ConnectionError(`no login within ${handshakeMs / 1000} s`));
    }, handshakeMs);
    const onAbort = () => this.conn.fail(new ConnectionError('the server is shutting down'));
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    this.log('debug', `connection from ${this.peer}`);

    const why = await this.conn.closed;
    clearTimeout(this.loginTimer);
    o.signal?.removeEventListener('abort', onAbort);
    this.state = 'over';
    await this.closeSession();
    const reason = why && !this.closedInOrder ? `: ${why.message}` : '';
    if (this.client) this.log('info', `${this.who}: session ended${reason}`);
    else this.log('debug', `connection from ${this.peer} ended${why ? `: ${why.message}` : ''}`);
  }

  private async closeSession(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) {
      try {
        await s.close();
      } catch (err) {
        this.log('warn', `${this.who}: closing the session: ${(err as Error).message}`);
      }
    }
    this.releaseBackup();
  }

  private releaseBackup(): void {
    const b = this.host.registry.backups.get(this.client);
    if (b?.owner === this) this.host.registry.backups.delete(this.client);
  }

  private async handle(type: string, m: Message, ctx: RequestContext): Promise<unknown> {
    if (this.state === 'ready') {
      if (type === 'close') {
        const s = this.session;
        this.session = null;
        this.handler = (t) => Promise.reject(new ProtocolError(`'${t.slice(0, 64)}' after the session was closed`));
        this.closedInOrder = true;
        try {
          await s?.close();
        } finally {
          this.releaseBackup();
        }
        return null;
      }
      return this.handler!(type, m, ctx);
    }
    let step: Promise<unknown>;
    if (this.state === 'login' && type === 'login') step = this.login(m);
    else if (this.state === 'login' && type === 'create') step = this.create(m);
    else if (this.state === 'proof' && type === 'proof') step = this.proof(m);
    else throw new ProtocolError(`'${type.slice(0, 64)}' before a login`);
    try {
      return await step;
    } catch (err) {
      // One attempt per connection: the error goes out, then the connection ends.
      this.conn.close();
      throw err;
    }
  }

  private root(client: string): string {
    return path.join(this.host.opts.basedir, client);
  }

  private async login(m: Message): Promise<unknown> {
    const client = checkClientName(m.client);
    this.client = client;
    const root = this.root(client);
    const o = this.host.opts;
    if (!(await exists(path.join(root, 'config')))) {
      this.log('info', `${this.who}: login refused: no such client`);
      throw new NotFoundError(`no repository for client '${client}' on this server (create it with --create${o.allowNewHosts ? '' : ', on a server that allows new clients'})`);
    }
    let record = await readAuthRecord(root);
    if (!record) {
      const { config } = await ServerRepository.inspect(root);
      if (config.encrypted) {
        throw new TardisError(`client '${client}' has no login on this server (its repository was made without one); it can only be used as a file: repository`);
      }
      record = { version: 1, method: 'none' };
    }
    if (record.method === 'none') {
      if (o.requirePassword) throw new TardisError(`this server requires a password, and the repository of '${client}' has none`);
      await this.open();
      this.log('info', `${this.who}: logged in (repository without password)`);
      return { method: 'none' };
    }
    this.verifier = await SrpVerifier.start(client, record);
    this.state = 'proof';
    return this.verifier.challenge;
  }

  private async proof(m: Message): Promise<unknown> {
    const v = this.verifier!;
    this.verifier = null;
    let M2: Buffer;
    try {
      M2 = v.verify(m.A, m.M1);
      // This answer and all that follows are MACed with the session key only the client shares.
      this.conn.authenticate(v.keys());
    } catch (err) {
      if (err instanceof WrongPasswordError) {
        this.log('warn', `${this.who}: wrong password`);
        await sleep(this.host.opts.authFailDelayMs ?? 1000);
      }
      throw err;
    }
    await this.open();
    this.log('info', `${this.who}: logged in`);
    return { M2 };
  }

  private async create(m: Message): Promise<unknown> {
    const o = this.host.opts;
    const client = checkClientName(m.client);
    this.client = client;
    const config = checkRepoConfig(m.config);
    const keySlot = checkKeySlot(new Check('create'), m.keySlot, 'keySlot');
    const setup = checkAuthSetup(m.auth);
    if (!o.allowNewHosts) {
      this.log('info', `${this.who}: creation refused (new clients are not allowed)`);
      throw new TardisError('this server does not allow new clients (AllowNewHosts / --allow-new-hosts)');
    }
    if (!setup && o.requirePassword) throw new TardisError('this server requires a password: create the repository with one');
    const reg = this.host.registry;
    if (reg.creating.has(client)) throw new LockedError(`client '${client}' is being created by another connection`);
    reg.creating.add(client);
    try {
      const root = this.root(client);
      if (await exists(path.join(root, 'config'))) throw new UsageError(`client '${client}' already exists on this server`);
      await mkdir(o.basedir, { recursive: true });
      await mkdir(root, { recursive: true, mode: 0o700 });
      // The login first: a repository whose config exists is complete, login included.
      await writeAuthRecord(root, authRecord(setup));
      const repo = await ServerRepository.create(root, config, keySlot);
      this.startSession(repo);
    } finally {
      reg.creating.delete(client);
    }
    this.log('info', `${this.who}: created a new repository${setup ? '' : ' without password'}`);
    return { created: true };
  }

  private async open(): Promise<void> {
    const repo = await ServerRepository.open(this.root(this.client), { allowUpgrade: this.host.opts.allowSchemaUpgrades === true });
    this.startSession(repo);
  }

  private startSession(repo: ServerRepository): void {
    if (this.state === 'over') {
      repo.close();
      return;
    }
    this.session = new RepositorySession(repo, { policy: this.host.opts.policy, allowOverrides: this.host.opts.allowClientOverrides !== false });
    this.handler = sessionHandler(this.session, {
      maxChunk: repo.config.chunker.max,
      beforeBegin: (req) => this.beforeBegin(req.force === true),
      afterBackup: () => this.releaseBackup(),
    });
    this.state = 'ready';
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.conn.setFrameLimit(this.conn.limits.maxFrame);
  }

  private async beforeBegin(force: boolean): Promise<void> {
    const reg = this.host.registry;
    const cur = reg.backups.get(this.client);
    if (cur && cur.owner !== this) {
      if (!force) {
        throw new LockedError(`client '${this.client}' is already backing up (from ${cur.peer} since ${new Date(cur.since).toISOString()}); use --force to take over`);
      }
      this.log('warn', `${this.who}: a forced backup takes over from ${cur.peer}`);
      cur.owner.conn.fail(new LockedError(`another backup of '${this.client}' took over (--force)`));
      await cur.owner.done;
    }
    reg.backups.set(this.client, { owner: this, since: Date.now(), peer: this.peer });
  }
}

/** Serves connections for the repositories under one basedir. */
export class RepositoryHost {
  readonly opts: HostOptions;
  readonly registry: Registry;
  readonly secureContext: tls.SecureContext | null;

  constructor(opts: HostOptions) {
    this.opts = opts;
    this.registry = registryFor(opts.basedir);
    this.secureContext = opts.tls ? tls.createSecureContext(opts.tls) : null;
  }

  /** Serves one connection until it ends; never rejects. */
  serve(duplex: Duplex, peer = this.opts.peer ?? 'peer'): Promise<void> {
    return new ServedConnection(this, duplex, peer).done;
  }
}

/**
 * Serves one connection until it ends; never rejects (every failure is logged and ends only this
 * connection). Sessions of the same client on other connections are seen through a registry
 * shared per basedir in this process.
 */
export function serveConnection(duplex: Duplex, opts: HostOptions): Promise<void> {
  try {
    return new RepositoryHost(opts).serve(duplex);
  } catch (err) {
    opts.log?.error?.(`cannot serve ${opts.peer ?? 'a connection'}: ${(err as Error).message}`);
    duplex.destroy();
    return Promise.resolve();
  }
}
