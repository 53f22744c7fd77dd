// What the bench needs from each backup tool: the commands of each step, where its repository
// and its client cache are, and (for a server) how to start, watch and stop it.
import { spawnSync } from 'node:child_process';
import type { Dataset } from '../dataset.ts';
import type { CommandSpec, ServerWatch } from '../measure.ts';
import type { BenchSettings, ToolName } from '../settings.ts';

export interface ToolContext {
  settings: BenchSettings;
  dataset: Dataset;
  /** The tool's own directory in the work directory (repository, cache, server files). */
  dir: string;
  password: string;
}

export interface ServerFigures {
  watch: ServerWatch;
  /** Bytes client → server and server → client since the last reset, if measurable. */
  wire(): { up: number; down: number } | null;
  resetWire(): void;
}

export interface Tool {
  readonly name: ToolName;
  /** Column heading in the report. */
  readonly label: string;
  /** Version string for the report; set by prepare(). */
  version: string;
  /** null when the tool can run; otherwise why it is skipped. */
  prepare(): Promise<string | null>;
  /** Starts what must run across the steps (a server); stop() must always be safe to call. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  server?(): ServerFigures | null;
  /** Directory whose disk usage is the repository size. */
  repoDir(): string;
  /** The client-side cache the tool keeps between runs, if any. */
  cacheDir(): string | null;
  /** null: the repository is created by the first backup. */
  init(): CommandSpec | null;
  /** Backup number n (1: initial, 2: no change, 3: after the day of changes). */
  backup(n: number): CommandSpec;
  list(): CommandSpec;
  /** Restores the newest backup below `target`. */
  restore(target: string): CommandSpec;
  /** Where the restored copy of the dataset root ends up. */
  restoredRoot(target: string): string;
}

/** The environment without the user's own repository settings, plus the tool's. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(TARDIS_|RESTIC_|BORG_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** First line of `cmd args` if it exits 0, else null. */
export function versionOf(cmd: string, args: string[]): { ok: boolean; line: string; code: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return { ok: r.status === 0, line, code: r.status };
}
