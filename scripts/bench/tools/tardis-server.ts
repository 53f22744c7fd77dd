// tardis through tardisd on loopback: `tardis://127.0.0.1:PORT/CLIENT`, with a counting relay
// between the two so the bytes on the wire are known. Runs only when `bin/tardisd --version`
// exits 0 (the server is being written; until then the rows are skipped with a note).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServerWatch, track } from '../measure.ts';
import { freePort, startProxy, waitForPort, type CountingProxy } from '../proxy.ts';
import { cleanEnv, type ServerFigures, versionOf } from './adapter.ts';
import { TardisBase } from './tardis-file.ts';

const CLIENT = 'bench';

export class TardisServer extends TardisBase {
  readonly name = 'tardis-server' as const;
  readonly label = 'tardis tardisd';
  #daemon: ChildProcess | null = null;
  #proxy: CountingProxy | null = null;
  #watch: ServerWatch | null = null;

  override async prepare(): Promise<string | null> {
    const d = versionOf(this.bin('tardisd'), ['--version']);
    if (!d.ok) return `\`bin/tardisd --version\` exits ${d.code ?? 'abnormally'} (${d.line || 'no output'}): tardisd is not built yet, rows skipped`;
    return super.prepare();
  }

  protected url(): string {
    return `tardis://127.0.0.1:${this.#proxy?.port ?? 0}/${CLIENT}`;
  }

  /** The server's base directory: every client's repository lives below it. */
  repoDir(): string {
    return path.join(this.ctx.dir, 'basedir');
  }

  /** Clients are created by their first backup (AllowNewHosts); `sonic create` is for file: only. */
  override init(): null {
    this.createOnFirstBackup = true;
    return null;
  }

  async start(): Promise<void> {
    const port = await freePort();
    mkdirSync(this.repoDir(), { recursive: true });
    // The Tardis [Daemon] keys (reference §1.2); the log goes to stderr, in the foreground.
    const conf = path.join(this.ctx.dir, 'tardisd.conf');
    writeFileSync(conf, ['[Daemon]', `Port = ${port}`, 'Address = 127.0.0.1', `BaseDir = ${this.repoDir()}`, 'AllowNewHosts = True', ''].join('\n'));
    const log = openSync(path.join(this.ctx.dir, 'tardisd.log'), 'a');
    const daemon = spawn(this.bin('tardisd'), ['--config', conf], { env: cleanEnv({}), stdio: ['ignore', log, log] });
    closeSync(log);
    track(daemon);
    this.#daemon = daemon;
    let alive = true;
    daemon.on('exit', () => {
      alive = false;
    });
    await waitForPort(port, 30_000, () => alive);
    this.#proxy = await startProxy(port);
    this.#watch = new ServerWatch(daemon.pid!);
  }

  async stop(): Promise<void> {
    await this.#proxy?.close();
    this.#proxy = null;
    const d = this.#daemon;
    this.#daemon = null;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => d.once('exit', () => resolve()));
    d.kill('SIGTERM');
    const timer = setTimeout(() => d.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  server(): ServerFigures | null {
    const watch = this.#watch;
    const proxy = this.#proxy;
    if (!watch) return null;
    return {
      watch,
      wire: () => proxy?.counts() ?? null,
      resetWire: () => proxy?.reset(),
    };
  }
}
