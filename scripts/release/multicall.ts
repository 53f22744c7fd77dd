// The multi-call entry of the release executable: one file holds every tool and runs the one
// named by the name it was started as (a symlink `sonic` → tardis), or by `tardis TOOL ARGS`.
// Each tool's main.ts runs at import time, so only the chosen one is imported.
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { applyRuntimeFixes } from './compat.ts';

export type Loader = () => Promise<unknown>;

/**
 * Which tool to run and with which arguments. `argv0` is the name the program was started as;
 * any name that is not a tool (the dist file name, `node`, `bun`) counts as `tardis`. As
 * `tardis`, a first argument naming a tool runs that tool (busybox-style): a directory named
 * like a tool is backed up as `tardis ./sonic`.
 */
export function pickTool(argv0: string, args: string[], tools: readonly string[]): { tool: string; args: string[] } {
  const name = path.basename(argv0);
  if (tools.includes(name) && name !== 'tardis') return { tool: name, args };
  const first = args[0];
  if (first !== undefined && tools.includes(first)) return { tool: first, args: args.slice(1) };
  return { tool: 'tardis', args };
}

/**
 * Runs the tool picked from process.argv0 and process.argv. `built` maps each tool in this
 * executable to its lazy import; `all` is every tool name (for a helpful message about the
 * ones not written yet).
 *
 * A worker thread (a pool's, started on this same bundle) loads every tool instead: the module
 * that serves its jobs does so at its top level, and loading is what runs that; the commands
 * themselves do nothing off the main thread (cli.runMain).
 */
export function run(built: Record<string, Loader>, all: readonly string[]): void {
  const fail = (err: unknown) => {
    process.stderr.write(`tardis: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  };
  applyRuntimeFixes();
  if (!isMainThread) {
    Promise.all(Object.values(built).map((load) => load())).catch(fail);
    return;
  }
  const { tool, args } = pickTool(process.argv0, process.argv.slice(2), all);
  const load = built[tool];
  if (!load) {
    process.stderr.write(`${tool}: not built yet in this version of tardis-ts\n`);
    process.exitCode = 2;
    return;
  }
  // The tools read process.argv.slice(2); drop the tool name when it was given as an argument.
  process.argv.splice(2, process.argv.length - 2, ...args);
  load().catch(fail);
}
