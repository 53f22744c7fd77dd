// What `make bench` was asked to do: the size of the dataset, where it works, what it keeps.
// Everything comes from the environment (BENCH_SIZE, BENCH_DIR, BENCH_KEEP, BENCH_TOOLS).
import path from 'node:path';

export type BenchSize = 'small' | 'default';

export interface SizeProfile {
  /** Bytes of real files copied from the sources into the tree. */
  treeBytes: number;
  /** Size of the one large tar file (the stand-in for a VM image or database). */
  bigBytes: number;
  /** Files bigger than this are left out of the tree (the big file covers large files). */
  maxFileBytes: number;
  /** Bytes of dataset files the micro-benchmarks run on. */
  microBytes: number;
}

const MiB = 1024 * 1024;

export const PROFILES: Record<BenchSize, SizeProfile> = {
  small: { treeBytes: 192 * MiB, bigBytes: 64 * MiB, maxFileBytes: 16 * MiB, microBytes: 64 * MiB },
  default: { treeBytes: 1600 * MiB, bigBytes: 448 * MiB, maxFileBytes: 64 * MiB, microBytes: 256 * MiB },
};

export const TOOL_NAMES = ['tardis-file', 'tardis-server', 'restic', 'borg'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface BenchSettings {
  size: BenchSize;
  profile: SizeProfile;
  /** The work directory: dataset, repositories, caches, restores, logs. */
  dir: string;
  keep: boolean;
  tools: ToolName[];
  /** The project root (bin/, build/ and bench/results/ live there). */
  root: string;
  /** Directories the dataset is copied from, in this order. */
  sources: string[];
  seed: string;
}

export function readSettings(env: NodeJS.ProcessEnv, root: string): BenchSettings {
  const sizeRaw = (env.BENCH_SIZE ?? '').trim() || 'default';
  if (sizeRaw !== 'small' && sizeRaw !== 'default') throw new Error(`BENCH_SIZE must be small or default (got '${sizeRaw}')`);
  const dir = path.resolve((env.BENCH_DIR ?? '').trim() || '/var/tmp/tardis-bench');
  // The work directory is emptied at the start and removed at the end: refuse the obvious mistakes.
  if (dir === '/' || ['/usr', '/var', '/var/tmp', '/tmp', '/home', '/root', root].includes(dir) || dir.startsWith('/usr/')) {
    throw new Error(`BENCH_DIR=${dir} is not a directory the bench may clear; name a dedicated one`);
  }
  const toolsRaw = (env.BENCH_TOOLS ?? '').trim();
  const tools = toolsRaw ? toolsRaw.split(/[\s,]+/) : [...TOOL_NAMES];
  for (const t of tools) if (!(TOOL_NAMES as readonly string[]).includes(t)) throw new Error(`BENCH_TOOLS: unknown tool '${t}' (use ${TOOL_NAMES.join(', ')})`);
  return {
    size: sizeRaw,
    profile: PROFILES[sizeRaw],
    dir,
    keep: ['1', 'yes', 'true'].includes((env.BENCH_KEEP ?? '').trim().toLowerCase()),
    tools: tools as ToolName[],
    root,
    sources: ['/usr/share', '/usr/lib'],
    seed: 'tardis-bench-1',
  };
}
