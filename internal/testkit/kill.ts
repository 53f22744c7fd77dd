// Killing backups on purpose: bin/tardis started in its own process group and SIGKILLed (or its
// server killed) at a point in the data rather than in time, and what /proc tells about a process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, PASSWORD, type RunResult } from './testkit.ts';

export interface Killed {
  /** The process ended by itself before the kill came. */
  finished: boolean;
  result: RunResult;
}

/** Bytes `pid` has read so far (rchar of /proc/PID/io), or -1 once it is gone. */
export function bytesRead(pid: number): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** The peak resident set of `pid` in bytes (VmHWM of /proc/PID/status); read it before the process ends. */
export function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb) * 1024;
}

export interface KillOptions {
  /** The backup lock whose appearance starts the count (default REPO/locks/backup: a file: repository). */
  lock?: string;
  /** What to kill instead of the client's process group (e.g. its tardisd); the client is then awaited. */
  kill?: () => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts `bin/tardis -R repo --json ARGS…` in its own process group and SIGKILLs the group (the sh
 * wrapper execs node; the group makes sure node is hit anyway), or calls `opts.kill`, once the
 * backup has taken the repository lock and then the client has read `after` more bytes (or
 * `after()` holds): a point in the data rather than in time, so that the kill lands inside the
 * run however fast the machine is.
 */
export async function backupKilled(repo: string, args: string[], after: number | (() => boolean), opts: KillOptions = {}): Promise<Killed> {
  const child = spawn(path.join(BIN, 'tardis'), ['-R', repo, '--json', ...args], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARDIS_PASSWORD: PASSWORD, ...opts.env },
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  let finished = false;
  const closed = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => {
    const stdoutBytes = Buffer.concat(out);
    resolve({ code, signal, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes });
  }));
  child.on('exit', () => {
    finished = true;
  });
  const lock = opts.lock ?? path.join(repo, 'locks', 'backup');
  const started = Date.now();
  while (!finished && !fs.existsSync(lock) && Date.now() - started < 20_000) await sleep(2);
  const base = bytesRead(child.pid!);
  const reached = typeof after === 'function' ? after : () => bytesRead(child.pid!) - base >= after;
  while (!finished && !reached()) await sleep(2);
  const wasFinished = finished;
  if (!finished) {
    if (opts.kill) opts.kill();
    else {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // it ended just now
      }
    }
  }
  const result = await closed;
  return { finished: wasFinished, result };
}
