// Helpers for tests that drive the real commands in bin/ (built by `make build`, which
// `make test` runs first) against real repositories in temporary directories.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const BIN = path.join(ROOT, 'bin');
export const PASSWORD = 'correct horse battery staple';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** A fresh temporary directory, removed by the returned cleanup (call it in t.after). */
export function tempDir(prefix = 'tardis-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs bin/<tool> with TARDIS_PASSWORD set (unless env overrides it) and waits for it. `prefix`
 * runs it through another command (e.g. setpriv to run as another user).
 */
export function runTool(tool: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; prefix?: string[] } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...cmdArgs] = [...(opts.prefix ?? []), path.join(BIN, tool), ...args];
    const child = spawn(cmd!, cmdArgs, {
      cwd: opts.cwd,
      env: { ...process.env, TARDIS_PASSWORD: PASSWORD, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    } satisfies SpawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

/** Like runTool, but fails with the command's stderr unless it exits with `expect` (default 0). */
export async function mustRun(tool: string, args: string[], opts: Parameters<typeof runTool>[2] & { expect?: number } = {}): Promise<RunResult> {
  const r = await runTool(tool, args, opts);
  const expect = opts.expect ?? 0;
  if (r.code !== expect) throw new Error(`${tool} ${args.join(' ')} exited ${r.code} (${r.signal ?? ''}), expected ${expect}\n${r.stderr}`);
  return r;
}

/** Creates an encrypted repository `<dir>/repo/CLIENT` through `sonic create`; returns its path. */
export async function createRepo(dir: string, client = 'client'): Promise<string> {
  const repo = path.join(dir, 'repo', client);
  await mustRun('sonic', ['create', '-R', repo]);
  return repo;
}

/** Synchronous shell helper for fixtures (mkfifo, truncate, chown …). */
export function sh(cmd: string): void {
  const r = spawnSync('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`);
}
