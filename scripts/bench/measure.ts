// Measuring one command: wall time, CPU time (user + sys, from /usr/bin/time or the shell's
// `times`), peak resident memory of the whole process tree (sampled from /proc, and the largest
// process's own peak from the kernel), plus repository sizes, the page cache and a server's
// figures over a step.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants as C, existsSync, openSync, readdirSync, readFileSync, readSync, lstatSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cpuSeconds, peakKiB, processTree, resetPeak, rssKiB } from './procfs.ts';

export interface CommandSpec {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that count as success besides 0. */
  okCodes?: number[];
}

export interface Measured {
  wallS: number;
  userS: number;
  sysS: number;
  /** Peak resident memory: the larger of the sampled tree sum and the biggest process's own peak. */
  peakRssKiB: number;
  exitCode: number;
  ok: boolean;
  /** The last lines of the command's output when it failed. */
  errorTail?: string;
}

const TIME = '/usr/bin/time';
const SAMPLE_MS = 50;
const live = new Set<ChildProcess>();

/** Servers and other long-running children, so killAll reaches them too. */
export function track(c: ChildProcess): void {
  live.add(c);
  c.on('exit', () => live.delete(c));
}

/** Kills whatever the bench started and has not reaped yet (on errors and signals). */
export function killAll(): void {
  for (const c of live) {
    for (const pid of processTree(c.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function hasTimeCommand(): boolean {
  return existsSync(TIME);
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Runs a command to completion with its output appended to `logFile`. `during` is called at
 * every sample (for a server's figures).
 */
export async function runMeasured(spec: CommandSpec, logFile: string, during?: () => void): Promise<Measured> {
  const timeFile = `${logFile}.time`;
  rmSync(timeFile, { force: true });
  // The wrapper is the root of the tree: its children are the command.
  const argv = hasTimeCommand()
    ? [TIME, '-f', '%e %U %S %M', '-o', timeFile, ...spec.argv]
    : ['/bin/sh', '-c', `"$@"; rc=$?; times > '${timeFile}'; exit $rc`, 'sh', ...spec.argv];
  const out = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', out, out] });
  live.add(child);
  let peakTree = 0;
  const sample = () => {
    const pids = processTree(child.pid!).slice(1);
    peakTree = Math.max(peakTree, rssKiB(pids));
    during?.();
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const code: number = await new Promise((resolve) => {
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    child.on('error', () => resolve(127));
  });
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(timer);
  live.delete(child);
  closeSync(out);
  let userS = 0;
  let sysS = 0;
  let maxKiB = 0;
  const times = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : [];
  if (hasTimeCommand()) {
    const m = times.at(-1)?.match(/^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/);
    if (m) [userS, sysS, maxKiB] = [Number(m[2]), Number(m[3]), Number(m[4])];
  } else {
    // `times`: the shell's own line, then its children's: "0m1.230s 0m0.450s".
    const secs = (t: string) => {
      const m = t.match(/(\d+)m([\d.]+)s/);
      return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
    };
    const parts = (times.at(-1) ?? '').split(/\s+/);
    [userS, sysS] = [secs(parts[0] ?? ''), secs(parts[1] ?? '')];
  }
  rmSync(timeFile, { force: true });
  const ok = code === 0 || (spec.okCodes ?? []).includes(code);
  return {
    wallS, userS, sysS, peakRssKiB: Math.max(peakTree, maxKiB), exitCode: code, ok,
    ...(ok ? {} : { errorTail: tail(logFile) }),
  };
}

/** A long-running process's CPU and peak memory over one step. */
export class ServerWatch {
  readonly pid: number;
  #cpu0 = { user: 0, sys: 0 };
  #peakSampled = 0;
  #resetOk = false;

  constructor(pid: number) {
    this.pid = pid;
  }

  begin(): void {
    this.#cpu0 = cpuSeconds(this.pid);
    this.#resetOk = resetPeak(processTree(this.pid));
    this.#peakSampled = rssKiB(processTree(this.pid));
  }

  sample(): void {
    this.#peakSampled = Math.max(this.#peakSampled, rssKiB(processTree(this.pid)));
  }

  end(): { cpuS: number; peakRssKiB: number } {
    const c = cpuSeconds(this.pid);
    const pids = processTree(this.pid);
    const hwm = this.#resetOk ? peakKiB(pids) : 0;
    return { cpuS: c.user - this.#cpu0.user + c.sys - this.#cpu0.sys, peakRssKiB: Math.max(this.#peakSampled, hwm) };
  }
}

/** Disk usage of a directory in bytes, as `du` reports it (0 if it does not exist). */
export function diskUsage(dir: string): number {
  if (!existsSync(dir)) return 0;
  const r = spawnSync('du', ['-s', '-B1', dir], { encoding: 'utf8' });
  return Number(r.stdout.split(/\s/)[0]) || 0;
}

/** Flush dirty pages, so one tool's write-back is not charged to the next. */
export function syncDisks(): void {
  spawnSync('sync');
}

/** Reads every file of the tree once (O_NOATIME: the read leaves no trace the tools could see). */
export function warmCache(root: string): number {
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile()) {
        let fd: number;
        try {
          fd = openSync(p, C.O_RDONLY | C.O_NOATIME);
        } catch {
          fd = openSync(p, C.O_RDONLY);
        }
        try {
          for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) bytes += n;
        } finally {
          closeSync(fd);
        }
      }
    }
  };
  visit(root);
  return bytes;
}
