// The tardisd process: listens, drops privileges, hands each connection to the protocol host,
// and stops cleanly on SIGTERM/SIGINT (SIGHUP reopens the log file). The protocol itself is not
// here: the host is internal/remote's RepositoryHost.
import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { formatDuration } from '../config/duration.ts';
import { TardisError, UsageError } from '../errors/errors.ts';
import type { HostOptions } from '../remote/host.ts';
import { Logger } from '../ui/index.ts';
import { describeSettings, type DaemonSettings } from './config.ts';
import { listenTcp, listenUnix, type Listener } from './listen.ts';
import { LogFile } from './logfile.ts';
import { dropPrivileges, resolveIds, type Ids } from './privileges.ts';

/** Serves connections with the daemon's settings: internal/remote's RepositoryHost. */
export interface Host {
  /** Serves one connection until it ends. */
  serve(socket: Duplex, peer: string): Promise<void>;
}

export type MakeHost = (opts: HostOptions) => Host;

/** After the grace period and the abort signal, how long sessions get before their sockets go. */
const ABORT_WAIT_MS = 5000;

interface Conn {
  id: number;
  socket: Duplex;
  peer: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export class Daemon {
  readonly settings: DaemonSettings;
  readonly log: Logger;
  /** Lines printed whatever the verbosity (start, stop, signals), except with --stdio. */
  readonly notice: Logger;
  private readonly logFile: LogFile;
  private readonly makeHost: MakeHost;
  private host: Host | null = null;
  private listeners: Listener[] = [];
  private readonly conns = new Map<number, Conn>();
  private readonly abort = new AbortController();
  private seq = 0;
  /** Connections accepted before privileges were dropped wait here. */
  private pending: [net.Socket, string][] | null = [];
  private stopping = false;
  private served = false;
  private stopped!: (code: number) => void;
  /** Resolves with the exit code once the daemon has stopped. */
  readonly done: Promise<number> = new Promise((r) => { this.stopped = r; });
  /** While stopping: called when the last connection has closed. */
  private allClosed: (() => void) | null = null;
  private abortResolve: (() => void) | null = null;
  /** Resolves when open sessions are told to abort (grace period over, or a second signal). */
  private readonly aborted: Promise<'aborted'> = new Promise((r) => { this.abortResolve = () => r('aborted'); });
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];

  constructor(settings: DaemonSettings, makeHost: MakeHost, logFile: LogFile) {
    this.settings = settings;
    this.makeHost = makeHost;
    this.logFile = logFile;
    const time = settings.timestamps || logFile.path !== null;
    this.log = new Logger({ verbosity: settings.verbosity, stream: logFile, time });
    // Over ssh (--stdio) stderr is the client's terminal: no notices there unless asked for.
    this.notice = settings.stdio ? this.log : new Logger({ verbosity: Math.max(1, settings.verbosity), stream: logFile, time });
  }

  private hostOptions(tlsOptions: HostOptions['tls']): HostOptions {
    const s = this.settings;
    return {
      basedir: s.basedir,
      allowNewHosts: s.allowNewHosts,
      requirePassword: s.requirePassword,
      allowSchemaUpgrades: s.allowSchemaUpgrades,
      policy: { naming: s.naming, autoPurge: s.autoPurge, disabled: false },
      allowClientOverrides: s.allowClientOverrides,
      idleTimeoutMs: s.timeoutMs,
      tls: tlsOptions,
      signal: this.abort.signal,
      log: this.log,
    };
  }

  /** Binds, writes the pid file, drops privileges, then serves. Throws on any startup failure. */
  async start(): Promise<void> {
    const s = this.settings;
    for (const line of s.ignored) this.log.info(line);
    this.log.detail(describeSettings(s));
    checkBasedir(s.basedir);
    const ids = s.user !== null || s.group !== null ? resolveIds(s.user ?? String(process.getuid!()), s.group) : null;
    this.installSignals();
    if (s.stdio) {
      this.host = this.makeHost(this.hostOptions(undefined));
      this.drop(ids);
      this.pending = null;
      this.serveStdio();
      return;
    }
    // One host for all connections (it holds the TLS context and the per-client registry).
    this.host = this.makeHost(this.hostOptions(s.ssl ? loadTls(s.certFile!, s.keyFile!) : undefined));
    const accept = (socket: net.Socket, peer: string): void => this.accept(socket, peer);
    try {
      if (s.local) {
        const l = await listenUnix(s.local, s.umask, accept);
        if (l.staleRemoved) this.log.info(`removed the stale socket ${s.local}`);
        this.listeners.push(l);
        if (ids) fs.chownSync(s.local, ids.uid, ids.gid);
      } else {
        this.listeners.push(...(await listenTcp(s.addresses, s.port, accept)));
      }
      if (s.pidFile) writePidFile(s.pidFile);
      this.drop(ids);
    } catch (err) {
      await this.closeListeners();
      this.removeSignals();
      throw err;
    }
    this.notice.info(`listening on ${this.listeners.map((l) => l.where).join(', ')}${s.ssl ? ' (TLS)' : ''}${s.single ? ' for one connection' : ''}; basedir ${s.basedir}`);
    const queued = this.pending ?? [];
    this.pending = null;
    for (const [socket, peer] of queued) this.accept(socket, peer);
  }

  private drop(ids: Ids | null): void {
    if (ids) {
      if (this.logFile.path !== null) fs.fchownSync(this.logFile.descriptor, ids.uid, ids.gid);
      dropPrivileges(ids);
      this.log.info(`running as ${ids.user} (uid ${ids.uid}, gid ${ids.gid})`);
      try {
        fs.accessSync(this.settings.basedir, fs.constants.W_OK | fs.constants.X_OK);
      } catch {
        this.log.warn(`${this.settings.basedir} is not writable by ${ids.user}: backups will fail`);
      }
    } else if (process.getuid?.() === 0) {
      this.log.warn('running as root: give --user (User) to drop privileges once listening');
    }
  }

  private serveStdio(): void {
    this.log.info(`serving one session on stdin/stdout; basedir ${this.settings.basedir}`);
    // Typed for web streams only, but Node streams are what Duplex.from pairs here.
    const socket = Duplex.from({ readable: process.stdin, writable: process.stdout } as unknown as Parameters<typeof Duplex.from>[0]);
    this.served = true;
    this.run({ id: ++this.seq, socket, peer: 'stdio' });
  }

  private accept(socket: net.Socket, peer: string): void {
    if (this.pending) {
      this.pending.push([socket, peer]);
      return;
    }
    if (this.stopping || (this.settings.single && this.served)) {
      socket.destroy();
      return;
    }
    this.served = true;
    if (this.settings.single) void this.closeListeners();
    if ('setNoDelay' in socket && socket.remoteAddress) {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
    }
    this.run({ id: ++this.seq, socket, peer });
  }

  private run(conn: Conn): void {
    const { id, socket, peer } = conn;
    this.log.info(`connection ${id} from ${peer}`);
    // An unhandled 'error' event would end the whole server.
    socket.on('error', (err) => this.log.debug(`connection ${id}: ${err.message}`));
    this.conns.set(id, conn);
    void Promise.resolve()
      .then(() => this.host!.serve(socket, peer))
      .catch((err: unknown) => {
        const msg = err instanceof Error ? (err instanceof TardisError || this.log.verbosity < 3 ? err.message : (err.stack ?? err.message)) : String(err);
        this.log.warn(`connection ${id} (${peer}): ${msg}`);
      })
      .finally(() => {
        if (!socket.destroyed) socket.destroy();
        this.conns.delete(id);
        this.log.info(`connection ${id} closed`);
        if ((this.settings.single || this.settings.stdio) && !this.stopping) void this.stop('served its one connection');
        else if (this.stopping && this.conns.size === 0) this.allClosed?.();
      });
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners;
    this.listeners = [];
    await Promise.all(ls.map((l) => l.close()));
  }

  private installSignals(): void {
    const on = (sig: NodeJS.Signals, fn: () => void): void => {
      process.on(sig, fn);
      this.signalHandlers.push([sig, fn]);
    };
    on('SIGTERM', () => void this.stop('SIGTERM'));
    on('SIGINT', () => void this.stop('SIGINT'));
    on('SIGHUP', () => this.reopenLog());
  }

  private removeSignals(): void {
    for (const [sig, fn] of this.signalHandlers) process.off(sig, fn);
    this.signalHandlers.length = 0;
  }

  reopenLog(): void {
    if (this.logFile.path === null) {
      this.log.debug('SIGHUP: logging to stderr, nothing to reopen');
      return;
    }
    try {
      this.logFile.reopen();
      this.notice.info(`SIGHUP: reopened the log file ${this.logFile.path}`);
    } catch (err) {
      this.log.warn(`SIGHUP: cannot reopen the log file ${this.logFile.path}: ${(err as Error).message}; still writing to the old one`);
    }
  }

  /**
   * Stops accepting, lets open sessions run on for the grace period, then aborts them (a second
   * signal aborts at once), and resolves `done` with 0.
   */
  async stop(why: string): Promise<void> {
    if (this.stopping) {
      if (why === 'SIGTERM' || why === 'SIGINT') {
        this.notice.info(`${why} again: aborting ${this.conns.size} open session(s) now`);
        this.abortAll();
      }
      return;
    }
    this.stopping = true;
    const open = this.conns.size;
    this.notice.info(`${why}: stopping${open ? `; waiting up to ${formatDuration(this.settings.graceMs)} for ${open} open session(s)` : ''}`);
    await this.closeListeners();
    const allDone = new Promise<void>((resolve) => {
      this.allClosed = resolve;
      if (this.conns.size === 0) resolve();
    });
    const graceOver = sleep(this.settings.graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([allDone.then(() => 'done' as const), graceOver, this.aborted])) !== 'done') {
      if (!this.abort.signal.aborted) {
        this.notice.info(`grace period over: aborting ${this.conns.size} open session(s)`);
        this.abortAll();
      }
      await Promise.race([allDone, sleep(ABORT_WAIT_MS + 1000)]);
    }
    this.finish();
  }

  private abortAll(): void {
    this.abort.abort(new TardisError('the server is shutting down'));
    this.abortResolve?.();
    // A session that ignores the signal loses its connection a little later.
    setTimeout(() => {
      for (const conn of this.conns.values()) conn.socket.destroy();
    }, ABORT_WAIT_MS).unref();
  }

  private finish(): void {
    this.removeSignals();
    const pid = this.settings.pidFile;
    if (pid) {
      try {
        if (fs.readFileSync(pid, 'utf8').trim() === String(process.pid)) fs.unlinkSync(pid);
      } catch {
        // not ours any more, or no longer allowed after the privilege drop
      }
    }
    this.notice.info('stopped');
    this.stopped(0);
  }
}

function checkBasedir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UsageError(`the base directory ${dir} does not exist: create it (owned by the user tardisd runs as) or give --basedir`);
  }
  if (!st.isDirectory()) throw new UsageError(`the base directory ${dir} is not a directory`);
}

function writePidFile(file: string): void {
  try {
    fs.writeFileSync(file, `${process.pid}\n`);
  } catch (err) {
    throw new UsageError(`cannot write the pid file ${file}: ${(err as Error).message}`);
  }
}

function readSecret(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** Reads the certificate and key (before privileges are dropped) and checks they fit together. */
function loadTls(certFile: string, keyFile: string): HostOptions['tls'] {
  const opts = { cert: readSecret(certFile, 'certificate'), key: readSecret(keyFile, 'key'), minVersion: 'TLSv1.2' as const };
  try {
    tls.createSecureContext(opts);
  } catch (err) {
    const why = /mismatch/i.test((err as Error).message) ? 'the key does not belong to the certificate' : (err as Error).message;
    throw new UsageError(`cannot use the TLS certificate ${certFile} with the key ${keyFile}: ${why}`);
  }
  return opts;
}

/**
 * Runs tardisd with `settings` until it stops; the exit code. The umask is set before anything
 * is created, so the log file and every repository file get it.
 */
export async function runTardisd(settings: DaemonSettings, makeHost: MakeHost): Promise<number> {
  process.umask(settings.umask);
  let logFile: LogFile;
  try {
    logFile = new LogFile(settings.logFile);
  } catch (err) {
    throw new UsageError(`cannot open the log file ${settings.logFile}: ${(err as Error).message}`);
  }
  const daemon = new Daemon(settings, makeHost, logFile);
  try {
    await daemon.start();
  } catch (err) {
    // Also in the log file, where an operator of a service looks first.
    if (settings.logFile !== null) daemon.log.error(err instanceof Error ? err.message : String(err));
    throw err;
  }
  const code = await daemon.done;
  await new Promise<void>((r) => logFile.end(r));
  return code;
}
