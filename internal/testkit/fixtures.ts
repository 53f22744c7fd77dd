// Fixtures for the end-to-end tests: backups and restores through the real commands, and
// reproducible file contents.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createCipheriv, createHash } from 'node:crypto';
import { compareTrees, type CompareOptions } from '../treecmp/compare.ts';
import { createRepo, mustRun, tempDir, type RunResult } from './testkit.ts';

/** What `tardis --json` prints. */
export interface BackupJson {
  set: string;
  id: number;
  resumed: boolean;
  stats: Record<string, number>;
}

type RunOpts = Parameters<typeof mustRun>[2];

/** `tardis -R repo --json ARGS…`, which must succeed (or exit `opts.expect`); the parsed result. */
export async function backup(repo: string, args: string[], opts: RunOpts = {}): Promise<BackupJson & { run: RunResult }> {
  const run = await mustRun('tardis', ['-R', repo, '--json', ...args], opts);
  return { ...(JSON.parse(run.stdout) as BackupJson), run };
}

/** `regenerate -R repo ARGS…`, which must succeed (or exit `opts.expect`). */
export function restore(repo: string, args: string[], opts: RunOpts = {}): Promise<RunResult> {
  return mustRun('regenerate', ['-R', repo, ...args], opts);
}

/** Pseudo-random bytes that depend only on `seed` (AES-CTR keystream): failures reproduce. */
export function seededBytes(n: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Fails with every difference between the trees (see treecmp) listed. */
export async function assertSameTree(a: string | Buffer, b: string | Buffer, opts: CompareOptions = {}): Promise<void> {
  assert.deepEqual(await compareTrees(a, b, opts), [], `trees differ: ${String(a)} vs ${String(b)}`);
}

/** A temp dir with an empty repository and a `src` directory, removed after the test. */
export async function setupRepo(t: TestContext, prefix = 'tardis-test-'): Promise<{ dir: string; repo: string; src: string }> {
  const { dir, cleanup } = tempDir(prefix);
  t.after(cleanup);
  const repo = await createRepo(dir);
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  return { dir, repo, src };
}

/** Writes a file, creating its parent directories. */
export function write(file: string, data: string | Buffer = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}
