// A real bin/tardisd for tests: started on loopback (or a Unix socket in a temp dir), ready once
// it logs "listening on", killed in t.after if the test has not stopped it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { BIN, tempDir } from './testkit.ts';

/** The environment tardisd runs with in tests: no system defaults file, no config from outside. */
export const DAEMON_ENV: NodeJS.ProcessEnv = { ...process.env, TARDIS_DEFAULTS: '/nonexistent', TARDIS_DAEMON_CONFIG: '' };

export interface RunningDaemon {
  child: ChildProcess;
  pid: number;
  /** The TCP port it listens on (null for a Unix socket or --stdio). */
  port: number | null;
  /** Everything it wrote to stderr so far. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, and the exit. */
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Polls `probe` every 25 ms until it returns something truthy. */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts bin/tardisd with `args` (give `--address 127.0.0.1 --port 0` or `--local PATH`) and
 * waits for its "listening on" line, in stderr or in `logFile`; `ready: false` does not wait.
 */
export async function startTardisd(t: TestContext, args: string[], opts: { logFile?: string; ready?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunningDaemon> {
  const child = spawn(path.join(BIN, 'tardisd'), args, { env: { ...DAEMON_ENV, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  t.after(async () => {
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const log = (): string => (opts.logFile ? (fs.existsSync(opts.logFile) ? fs.readFileSync(opts.logFile, 'utf8') : '') : err);
  let port: number | null = null;
  if (opts.ready !== false) {
    const m = await waitFor('tardisd to listen', () => {
      if (gone) throw new Error(`tardisd exited early:\n${err}`);
      return /listening on (\S+?);?(?: |$)/m.exec(log());
    });
    const p = /:(\d+)$/.exec(m[1]);
    port = p && !m[1].startsWith('unix:') ? Number(p[1]) : null;
  }
  return {
    child,
    pid: child.pid!,
    port,
    stderr: () => err,
    exited,
    stop: () => {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * A temp dir with an empty BASEDIR and a tardisd serving it on a Unix socket (new clients
 * allowed; `config` is its config file's text, `args` more options): `url(client)` reaches a
 * client's repository.
 */
export async function serveTemp(t: TestContext, prefix: string, opts: { args?: string[]; config?: string } = {}): Promise<{ dir: string; basedir: string; src: string; daemon: RunningDaemon; url: (client?: string) => string }> {
  const { dir, cleanup } = tempDir(prefix);
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const sock = path.join(dir, 'tardisd.sock');
  const args = [...(opts.args ?? []), '--basedir', basedir, '--local', sock, '--allow-new-hosts'];
  if (opts.config !== undefined) {
    fs.writeFileSync(path.join(dir, 'tardisd.conf'), opts.config);
    args.unshift('--config', path.join(dir, 'tardisd.conf'));
  }
  const daemon = await startTardisd(t, args);
  return { dir, basedir, src: path.join(dir, 'src'), daemon, url: (client = 'client') => `unix:${sock}/${client}` };
}
