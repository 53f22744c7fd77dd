// Helpers for the release tests: run a command with exactly the environment given (as
// `env -i` does), a source tree with the awkward cases, and the checks after a restore.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compareTrees } from '../../internal/treecmp/compare.ts';

export const PASSWORD = 'release test password';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs argv under `env -i VARS`: nothing of this process's environment leaks in. Killed after
 * `timeoutMs` (a hang fails the test instead of stalling the run).
 */
export function run(argv: string[], env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/env', ['-i', ...vars, ...argv], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** run(), and fail with its output unless it exits `expect` (0). */
export async function ok(argv: string[], env: Record<string, string>, expect = 0): Promise<Ran> {
  const r = await run(argv, env);
  assert.equal(r.code, expect, `${argv.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Starts a long-running command under `env -i`; resolves once its stderr matches `ready`. */
export async function start(argv: string[], env: Record<string, string>, ready: RegExp, ms = 60_000): Promise<{ child: ChildProcess; match: RegExpExecArray; stderr: () => string }> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = spawn('/usr/bin/env', ['-i', ...vars, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${ms} ms:\n${err}`)), ms);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before it was ready:\n${err}`));
    });
  });
  return { child, match, stderr: () => err };
}

function bytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let o = 0; o < n; o += block.length) {
    block.copy(out, o);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/**
 * A tree with many chunks, a hard link, a symlink, an empty file, odd modes and (unless
 * `nonUtf8` is false) a name that is not UTF-8.
 */
export function makeTree(dir: string, opts: { nonUtf8?: boolean } = {}): void {
  fs.mkdirSync(path.join(dir, 'docs', 'deep', 'er'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'big.bin'), bytes(5 << 20, 'big'));
  fs.writeFileSync(path.join(dir, 'docs', 'notes.txt'), 'tardis release test\n'.repeat(500));
  fs.writeFileSync(path.join(dir, 'docs', 'deep', 'er', 'empty'), '');
  fs.writeFileSync(path.join(dir, 'secret'), 'mode 0600\n', { mode: 0o600 });
  fs.chmodSync(path.join(dir, 'secret'), 0o600);
  fs.linkSync(path.join(dir, 'docs', 'notes.txt'), path.join(dir, 'hardlink.txt'));
  fs.symlinkSync('docs/notes.txt', path.join(dir, 'link'));
  if (opts.nonUtf8 !== false) fs.writeFileSync(Buffer.from(`${dir}/latin1-\xe9.txt`, 'latin1'), 'a name that is not UTF-8\n');
}

/** Changes for a second backup: one file edited, one added, one removed. */
export function changeTree(dir: string): void {
  fs.appendFileSync(path.join(dir, 'docs', 'notes.txt'), 'second backup\n');
  fs.writeFileSync(path.join(dir, 'docs', 'new.bin'), bytes(1 << 20, 'new'));
  fs.rmSync(path.join(dir, 'secret'));
}

/** Compares; `msTimes` accepts times cut to the millisecond (what a backup under Deno records). */
export async function assertSameTree(a: string, b: string, opts: { msTimes?: boolean } = {}): Promise<void> {
  const cut = (d: string) => {
    const m = /: mtime (\d+) != (\d+)$/.exec(d);
    return m !== null && BigInt(m[1]!) / 1_000_000n === BigInt(m[2]!) / 1_000_000n && BigInt(m[2]!) % 1_000_000n === 0n;
  };
  const diffs = (await compareTrees(a, b)).filter((d) => !(opts.msTimes && cut(d)));
  assert.deepEqual(diffs, [], `${b} differs from ${a}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}
