// Process-tree figures from /proc: descendants, resident memory, peak memory and CPU ticks.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function read(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** pid and every live descendant (threads' children included). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    out.push(p);
    for (const t of tasks) {
      const kids = read(`/proc/${p}/task/${t}/children`);
      if (kids) for (const k of kids.trim().split(/\s+/)) if (k) stack.push(Number(k));
    }
  }
  return out;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const s = read(`/proc/${pid}/status`);
  const m = s?.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : 0;
}

/** Resident memory of the processes, summed (KiB). */
export function rssKiB(pids: number[]): number {
  return pids.reduce((n, p) => n + statusKiB(p, 'VmRSS'), 0);
}

/** Peak resident memory since start or the last resetPeak, summed over the processes (KiB). */
export function peakKiB(pids: number[]): number {
  return pids.reduce((n, p) => n + statusKiB(p, 'VmHWM'), 0);
}

/** Resets VmHWM (Linux ≥ 4.0, needs write access to clear_refs); false if it could not. */
export function resetPeak(pids: number[]): boolean {
  let ok = true;
  for (const p of pids) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** CPU seconds (user, sys) of the process and of its waited-for children. */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return { user: 0, sys: 0 };
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state(3) … utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5).
  const n = (i: number) => Number(f[i - 3]);
  return { user: (n(14) + n(16)) / TICKS, sys: (n(15) + n(17)) / TICKS };
}

/** CPU seconds the whole machine has been busy (all cores, everything but idle and iowait). */
export function machineBusySeconds(): number {
  const line = (read('/proc/stat') ?? '').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / TICKS;
}

/** Physical memory of the machine and its CPU model, for the report. */
export function machine(): { cpu: string; cores: number; memGiB: number; kernel: string } {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const cpu = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? 'unknown CPU';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const mem = Number((read('/proc/meminfo') ?? '').match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  const kernel = (read('/proc/sys/kernel/osrelease') ?? '').trim();
  return { cpu, cores, memGiB: mem / 2 ** 20, kernel };
}
