// The results as markdown: one table of the side-by-side run with our figures as ratios to
// restic and borg (and the issue's targets), one of the micro-benchmarks, and the context needed
// to read them (machine, dataset, the day of changes, versions).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChangeSummary } from './changes.ts';
import type { Dataset } from './dataset.ts';
import type { Measured } from './measure.ts';
import type { MicroResult } from './micro.ts';
import type { BenchSettings, ToolName } from './settings.ts';
import type { Verification } from './verify.ts';

export const STEPS = ['init', 'initial', 'nochange', 'changes', 'list', 'restore'] as const;
export type StepName = (typeof STEPS)[number];

const STEP_TITLE: Record<StepName, string> = {
  init: 'init',
  initial: 'initial backup',
  nochange: 'no-change backup',
  changes: 'backup after a day of changes',
  list: 'list',
  restore: 'restore newest',
};

export interface StepResult {
  tool: ToolName;
  step: StepName;
  /** null: the tool has no such step (e.g. tardisd clients are created by their first backup). */
  measured: Measured | null;
  repoBytes: number;
  cacheBytes: number;
  server?: { cpuS: number; peakRssKiB: number };
  wire?: { up: number; down: number } | null;
  verify?: Verification;
  /** CPU seconds other processes on the machine used during the step (noise). */
  backgroundCpuS?: number;
  /** Disk usage of each top-level entry of the repository (after the last backup). */
  repoParts?: Record<string, number>;
}

export interface ToolInfo {
  name: ToolName;
  label: string;
  version: string;
  skipped: string | null;
}

export interface BenchRun {
  settings: BenchSettings;
  startedAt: Date;
  wallS: number;
  machine: { cpu: string; cores: number; memGiB: number; kernel: string; debian: string };
  dataset: Dataset;
  changes: ChangeSummary | null;
  tools: ToolInfo[];
  results: StepResult[];
  micro: MicroResult[];
  notes: string[];
}

const MiB = 2 ** 20;
const fmtS = (s: number) => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const fmtMiB = (b: number) => (b < 10 * MiB ? `${(b / MiB).toFixed(2)} MiB` : `${(b / MiB).toFixed(0)} MiB`);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

type Getter = (r: StepResult, all: StepResult[]) => number | null;

interface Row {
  step: StepName;
  metric: string;
  get: Getter;
  fmt: (v: number) => string;
  /** The issue's target for our figure, as a ratio to a peer. */
  target?: { peer: 'restic' | 'borg'; max: number };
  /** Only for the server rows. */
  serverOnly?: boolean;
  /** A figure without a meaningful ratio. */
  noRatio?: boolean;
}

const m = (f: (x: Measured) => number): Getter => (r) => (r.measured?.ok ? f(r.measured) : null);
const repoDelta: Getter = (r, all) => {
  const before = all.find((x) => x.tool === r.tool && x.step === 'nochange');
  return r.measured?.ok && before?.measured?.ok ? r.repoBytes - before.repoBytes : null;
};

const ROWS: Row[] = [
  { step: 'init', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS },
  { step: 'initial', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS, target: { peer: 'restic', max: 0.6 } },
  { step: 'initial', metric: 'CPU user+sys', get: m((x) => x.userS + x.sysS), fmt: fmtS },
  { step: 'initial', metric: 'peak RSS (client)', get: m((x) => x.peakRssKiB * 1024), fmt: fmtMiB, target: { peer: 'restic', max: 1.0 } },
  { step: 'initial', metric: 'repository size', get: (r) => (r.measured?.ok ? r.repoBytes : null), fmt: fmtMiB },
  { step: 'nochange', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS, target: { peer: 'restic', max: 0.2 } },
  { step: 'nochange', metric: 'CPU user+sys', get: m((x) => x.userS + x.sysS), fmt: fmtS },
  { step: 'nochange', metric: 'peak RSS (client)', get: m((x) => x.peakRssKiB * 1024), fmt: fmtMiB, target: { peer: 'restic', max: 1.0 } },
  { step: 'changes', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS, target: { peer: 'restic', max: 0.4 } },
  { step: 'changes', metric: 'CPU user+sys', get: m((x) => x.userS + x.sysS), fmt: fmtS },
  { step: 'changes', metric: 'peak RSS (client)', get: m((x) => x.peakRssKiB * 1024), fmt: fmtMiB, target: { peer: 'restic', max: 1.0 } },
  { step: 'changes', metric: 'stored for the day (repo growth)', get: repoDelta, fmt: fmtMiB, target: { peer: 'restic', max: 1.0 } },
  { step: 'changes', metric: 'repository size', get: (r) => (r.measured?.ok ? r.repoBytes : null), fmt: fmtMiB, target: { peer: 'borg', max: 1.0 } },
  { step: 'changes', metric: 'client cache', get: (r) => (r.measured?.ok ? r.cacheBytes : null), fmt: fmtMiB, noRatio: true },
  { step: 'list', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS },
  { step: 'restore', metric: 'wall', get: m((x) => x.wallS), fmt: fmtS, target: { peer: 'restic', max: 0.6 } },
  { step: 'restore', metric: 'CPU user+sys', get: m((x) => x.userS + x.sysS), fmt: fmtS },
  { step: 'restore', metric: 'peak RSS (client)', get: m((x) => x.peakRssKiB * 1024), fmt: fmtMiB },
  ...(['initial', 'nochange', 'changes', 'restore'] as const).flatMap((step): Row[] => [
    { step, metric: 'tardisd peak RSS', get: (r) => (r.measured?.ok && r.server ? r.server.peakRssKiB * 1024 : null), fmt: fmtMiB, serverOnly: true },
    { step, metric: 'tardisd CPU', get: (r) => (r.measured?.ok && r.server ? r.server.cpuS : null), fmt: fmtS, serverOnly: true },
    { step, metric: 'bytes on the wire (up / down)', get: (r) => (r.measured?.ok && r.wire ? r.wire.up + r.wire.down : null), fmt: fmtMiB, serverOnly: true },
  ]),
];

const ORDER: StepName[] = ['init', 'initial', 'nochange', 'changes', 'list', 'restore'];

function ratio(a: number | null, b: number | null): string {
  if (a === null || b === null) return '—';
  if (b === 0) return a === 0 ? '1.00x' : '—';
  return `${(a / b).toFixed(2)}x`;
}

export function mainTable(run: BenchRun): string {
  const active = run.tools.filter((t) => !t.skipped);
  const ours = active.filter((t) => t.name.startsWith('tardis'));
  const peers = (['restic', 'borg'] as const).filter((p) => active.some((t) => t.name === p));
  const server = active.some((t) => t.name === 'tardis-server');
  const head = ['Step', 'Metric', ...active.map((t) => t.label)];
  for (const o of ours) for (const p of peers) head.push(`${ours.length > 1 ? o.label.replace('tardis ', '') : 'tardis'} / ${p}`);
  head.push('target');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  const get = (tool: ToolName, row: Row): number | null => {
    const r = run.results.find((x) => x.tool === tool && x.step === row.step);
    return r ? row.get(r, run.results) : null;
  };
  for (const step of ORDER) {
    for (const row of ROWS.filter((x) => x.step === step)) {
      if (row.serverOnly && !server) continue;
      const cells = [STEP_TITLE[step], row.metric];
      for (const t of active) {
        const v = get(t.name, row);
        let cell = v === null ? '—' : row.fmt(v);
        if (row.metric.startsWith('bytes on the wire') && t.name === 'tardis-server') {
          const r = run.results.find((x) => x.tool === t.name && x.step === step);
          cell = r?.measured?.ok && r.wire ? `${fmtMiB(r.wire.up)} / ${fmtMiB(r.wire.down)}` : '—';
        }
        cells.push(cell);
      }
      for (const o of ours) for (const p of peers) cells.push(row.serverOnly || row.noRatio ? '' : ratio(get(o.name, row), get(p, row)));
      let target = '';
      if (row.target) {
        const v = get('tardis-file', row);
        const peer = get(row.target.peer, row);
        const met = v !== null && peer !== null && peer > 0 ? (v / peer <= row.target.max ? ' ✔' : ' ✘') : '';
        target = `≤ ${row.target.max.toFixed(1)}x ${row.target.peer}${met}`;
      }
      if (row.metric === 'tardisd peak RSS') target = '< 150 MiB';
      cells.push(target);
      lines.push(`| ${cells.join(' | ')} |`);
    }
    if (step === 'restore') {
      const cells = ['restore newest', 'verified against the source'];
      for (const t of active) {
        const v = run.results.find((x) => x.tool === t.name && x.step === 'restore')?.verify;
        cells.push(!v ? '—' : v.ok ? 'identical' : `${v.differences} differences`);
      }
      for (const _o of ours) for (const _p of peers) cells.push('');
      cells.push('');
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

export function microTable(micro: MicroResult[]): string {
  const lines = ['| Stage (one thread) | Work | Rate | Dataset MiB/s | vs raw read |', '|---|---|---:|---:|---:|'];
  for (const r of micro) {
    const rate = r.unit === 'MiB/s' ? `${r.rate.toFixed(0)} MiB/s` : `${fmtInt(r.rate)} ${r.unit}`;
    lines.push(`| ${r.stage}${r.note ? ` (${r.note})` : ''} | ${r.work} | ${rate} | ${r.mibPerS.toFixed(0)} | ${r.vsRead.toFixed(2)}x |`);
  }
  return lines.join('\n');
}

export function renderReport(run: BenchRun): string {
  const ds = run.dataset;
  const c = run.changes;
  const date = run.startedAt.toISOString().replace('T', ' ').slice(0, 16);
  const out: string[] = [];
  out.push(`# make bench — ${run.settings.size} — ${date} UTC`, '');
  out.push(`Machine: ${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memGiB.toFixed(0)} GiB RAM, Linux ${run.machine.kernel}, Debian ${run.machine.debian}.`);
  out.push(`Dataset \`${ds.id}\`: ${fmtMiB(ds.bytes)} in ${fmtInt(ds.files)} files, ${fmtInt(ds.dirs)} directories, ${fmtInt(ds.symlinks)} symlinks, ${fmtInt(ds.hardlinks)} extra hard links, from ${run.settings.sources.join(' and ')}; one ${fmtMiB(ds.bigBytes)} tar file stands in for a VM image.`);
  if (c) {
    out.push(`Day of changes: ${c.appended} files appended to, ${c.edited} edited in the middle, ${c.overwritten} overwritten in place, ${c.deleted} deleted, ${c.added} added, directory \`${c.renamedDir}\` (${c.renamedFiles} files) renamed, 16 bytes changed at offset ${fmtInt(c.bigFileOffset)} of the big file; ${fmtMiB(c.bytesWritten)} written.`);
  }
  out.push(`Tools: ${run.tools.map((t) => `${t.label} (${t.skipped ? 'skipped' : t.version})`).join('; ')}. restic with its defaults, borg with \`--compression zstd --encryption repokey-blake2\`, tardis with its defaults (zstd, ChaCha20-Poly1305); every repository encrypted.`);
  out.push('Steps run tool after tool for each step on the same dataset (page cache warmed and disks synced before each tool); peers keep their caches between steps. Ratios are ours divided by theirs: below 1.00x is better for every metric; ✔/✘ mark tardis file: against the targets of issue 6.');
  out.push(`Whole bench: ${fmtS(run.wallS)}.`);
  const timed = run.results.filter((r) => r.measured?.ok);
  const bg = timed.reduce((n, r) => n + (r.backgroundCpuS ?? 0), 0);
  const capacity = timed.reduce((n, r) => n + r.measured!.wallS, 0) * run.machine.cores;
  if (capacity > 0) {
    const worst = [...timed].sort((a, b) => (b.backgroundCpuS ?? 0) - (a.backgroundCpuS ?? 0))[0]!;
    out.push(`Background load: other processes used ${fmtS(bg)} of CPU during the timed steps (${((100 * bg) / capacity).toFixed(0)} % of the machine); the most disturbed step was ${worst.tool} ${STEP_TITLE[worst.step]} (${fmtS(worst.backgroundCpuS ?? 0)} in ${fmtS(worst.measured!.wallS)}).${bg / capacity > 0.1 ? ' The machine was not quiet: compare ratios, not absolute times.' : ''}`);
  }
  out.push('');
  for (const n of run.notes) out.push(`- ${n}`);
  if (run.notes.length) out.push('');
  out.push(mainTable(run), '');
  if (run.micro.length) {
    out.push('Micro-benchmarks: each stage alone on one thread, over a sample of the dataset; "vs raw read" compares with reading the same files (page cache warm); per-entry stages are converted to dataset MiB/s at the dataset\'s mean bytes per entry.', '');
    out.push(microTable(run.micro), '');
  }
  const parts = run.results.filter((r) => r.repoParts && Object.keys(r.repoParts).length);
  if (parts.length) {
    out.push('Repository contents after the last backup:', '');
    for (const r of parts) {
      const label = run.tools.find((t) => t.name === r.tool)?.label ?? r.tool;
      const items = Object.entries(r.repoParts!).sort((a, b) => b[1] - a[1]).filter(([, b]) => b >= 64 * 1024);
      out.push(`- ${label} — ${items.map(([n, b]) => `${n} ${fmtMiB(b)}`).join(', ')}`);
    }
    out.push('');
  }
  const failures = run.results.filter((r) => r.measured && !r.measured.ok);
  if (failures.length) {
    out.push('Failures:', '');
    for (const f of failures) out.push(`- ${f.tool} ${STEP_TITLE[f.step]}: exit ${f.measured!.exitCode}`, '', '```', f.measured!.errorTail ?? '', '```');
    out.push('');
  }
  const diffs = run.results.filter((r) => r.verify && !r.verify.ok);
  for (const d of diffs) out.push(`- ${d.tool} restore differs: ${d.verify!.sample.join('; ')}`);
  return out.join('\n') + '\n';
}

/** Writes bench/results/<date>-<size>.md (and .json) and bench/results/latest.md. */
export function writeResults(run: BenchRun, markdown: string): string[] {
  const dir = path.join(run.settings.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = `${run.startedAt.toISOString().slice(0, 10)}-${run.settings.size}`;
  const files = [path.join(dir, `${stem}.md`), path.join(dir, 'latest.md'), path.join(dir, `${stem}.json`)];
  writeFileSync(files[0]!, markdown);
  writeFileSync(files[1]!, markdown);
  const { settings, ...rest } = run;
  const json = { ...rest, settings: { size: settings.size, profile: settings.profile, tools: settings.tools, sources: settings.sources, seed: settings.seed }, dataset: { ...run.dataset, spares: run.dataset.spares.length } };
  writeFileSync(files[2]!, JSON.stringify(json, null, 2) + '\n');
  return files;
}
