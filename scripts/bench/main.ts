// `make bench`: tardis (file: and, once it exists, tardisd on loopback), restic and borg side by
// side on the same real-file dataset, step by step (init, initial backup, no-change backup,
// backup after a day of changes, list, restore + verification), then micro-benchmarks of our
// stages; prints the tables and writes them to bench/results/. Never part of `make test`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyDayOfChanges, type ChangeSummary } from './changes.ts';
import { buildDataset } from './dataset.ts';
import { ensurePeers } from './install.ts';
import { diskUsage, killAll, runMeasured, syncDisks, warmCache, type CommandSpec } from './measure.ts';
import { runMicro, type MicroResult } from './micro.ts';
import { machine, machineBusySeconds } from './procfs.ts';
import { renderReport, STEPS, writeResults, type BenchRun, type StepName, type StepResult, type ToolInfo } from './report.ts';
import { readSettings, type ToolName } from './settings.ts';
import type { Tool, ToolContext } from './tools/adapter.ts';
import { Borg } from './tools/borg.ts';
import { Restic } from './tools/restic.ts';
import { TardisFile } from './tools/tardis-file.ts';
import { TardisServer } from './tools/tardis-server.ts';
import { verifyRestore } from './verify.ts';

const MARKER = '.tardis-bench';
const PASSWORD = 'tardis-bench-password';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const settings = readSettings(process.env, root);
const t0 = performance.now();
const log = (msg: string) => {
  const s = Math.floor((performance.now() - t0) / 1000);
  console.log(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}`);
};
const MiB = 2 ** 20;

const tools: Tool[] = [];
/** Set once the work directory is ours: only then may the end of the run remove it. */
let ownsWorkDir = false;

async function stopServers(): Promise<void> {
  for (const t of tools) await t.stop?.().catch(() => {});
}

function cleanWorkDir(): void {
  if (!ownsWorkDir) return;
  if (settings.keep) {
    log(`BENCH_KEEP: left ${settings.dir} in place`);
    return;
  }
  rmSync(settings.dir, { recursive: true, force: true });
}

// Interrupted: nothing may stay running, and the work directory goes unless BENCH_KEEP.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping`);
    killAll();
    void stopServers().finally(() => {
      cleanWorkDir();
      process.exit(130);
    });
  });
}

/** An empty work directory, refusing one that holds anything the bench did not make. */
function prepareWorkDir(): void {
  const dir = settings.dir;
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(path.join(dir, MARKER))) throw new Error(`BENCH_DIR ${dir} is not empty and was not made by the bench; remove it or choose another`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  ownsWorkDir = true;
  writeFileSync(path.join(dir, MARKER), 'work directory of `make bench`; removed at its end unless BENCH_KEEP=1\n');
}

function makeTool(name: ToolName, ctx: ToolContext): Tool {
  switch (name) {
    case 'tardis-file':
      return new TardisFile(ctx);
    case 'tardis-server':
      return new TardisServer(ctx);
    case 'restic':
      return new Restic(ctx);
    case 'borg':
      return new Borg(ctx);
  }
}

/** Disk usage of each top-level entry of a repository (one level down for a server's base directory). */
function repoParts(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(dir)) return out;
  let names = readdirSync(dir);
  // tardisd: BASEDIR/CLIENT/…; the parts of the one client are what matter.
  if (names.length === 1 && existsSync(path.join(dir, names[0]!, 'config'))) {
    dir = path.join(dir, names[0]!);
    names = readdirSync(dir);
  }
  for (const n of names.sort()) out[n] = diskUsage(path.join(dir, n));
  return out;
}

function specFor(tool: Tool, step: StepName, restoreDir: string): CommandSpec | null {
  switch (step) {
    case 'init':
      return tool.init();
    case 'initial':
      return tool.backup(1);
    case 'nochange':
      return tool.backup(2);
    case 'changes':
      return tool.backup(3);
    case 'list':
      return tool.list();
    case 'restore':
      return tool.restore(restoreDir);
  }
}

async function main(): Promise<number> {
  const started = new Date();
  log(`make bench: BENCH_SIZE=${settings.size} BENCH_DIR=${settings.dir}${settings.keep ? ' BENCH_KEEP=1' : ''}`);
  if (!existsSync(path.join(root, 'bin', 'tardis'))) throw new Error('bin/tardis is missing: run make build');
  const notes: string[] = [];
  notes.push(...ensurePeers(settings.tools.filter((t) => t === 'restic' || t === 'borg'), log));
  prepareWorkDir();

  log('building the dataset');
  const dataset = await buildDataset(settings, log);
  log(`dataset ${dataset.id}: ${(dataset.bytes / MiB).toFixed(0)} MiB, ${dataset.files} files, ${dataset.dirs} directories, built in ${dataset.buildSeconds.toFixed(1)} s`);

  const infos: ToolInfo[] = [];
  for (const name of settings.tools) {
    const dir = path.join(settings.dir, 'tools', name);
    mkdirSync(dir, { recursive: true });
    const tool = makeTool(name, { settings, dataset, dir, password: PASSWORD });
    let skipped = await tool.prepare();
    if (!skipped && tool.start) {
      try {
        await tool.start();
      } catch (err) {
        skipped = `could not start: ${(err as Error).message}`;
        await tool.stop?.();
      }
    }
    if (skipped) {
      log(`${tool.label}: skipped: ${skipped}`);
      notes.push(`${tool.label}: ${skipped}.`);
    } else log(`${tool.label}: ${tool.version}`);
    infos.push({ name, label: tool.label, version: tool.version, skipped });
    if (!skipped) tools.push(tool);
  }

  const results: StepResult[] = [];
  const failed = new Set<ToolName>();
  let changes: ChangeSummary | null = null;
  const logDir = path.join(settings.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  for (const step of STEPS) {
    if (step === 'changes') {
      changes = await applyDayOfChanges(dataset, settings.seed);
      log(`day of changes: ${changes.appended} appended, ${changes.edited} edited, ${changes.overwritten} overwritten, ${changes.deleted} deleted, ${changes.added} added, ${changes.renamedDir} renamed`);
    }
    for (const tool of tools) {
      if (failed.has(tool.name)) continue;
      const restoreDir = path.join(settings.dir, 'restore', tool.name);
      if (step === 'restore') mkdirSync(restoreDir, { recursive: true });
      const spec = specFor(tool, step, restoreDir);
      if (spec === null) {
        if (step === 'init') notes.push(`${tool.label}: the repository is created by the first backup (\`tardis --create\`), so there is no init step.`);
        results.push({ tool: tool.name, step, measured: null, repoBytes: diskUsage(tool.repoDir()), cacheBytes: 0 });
        continue;
      }
      if (step === 'initial' || step === 'nochange' || step === 'changes') warmCache(dataset.root);
      syncDisks();
      const server = tool.server?.() ?? null;
      server?.watch.begin();
      server?.resetWire();
      const busy0 = machineBusySeconds();
      const self0 = process.cpuUsage();
      const measured = await runMeasured(spec, path.join(logDir, `${tool.name}-${step}.log`), server ? () => server.watch.sample() : undefined);
      const self = process.cpuUsage(self0);
      const serverFigures = server ? server.watch.end() : null;
      const ours = measured.userS + measured.sysS + (serverFigures?.cpuS ?? 0) + (self.user + self.system) / 1e6;
      const r: StepResult = {
        tool: tool.name, step, measured,
        backgroundCpuS: Math.max(0, machineBusySeconds() - busy0 - ours),
        repoBytes: diskUsage(tool.repoDir()),
        cacheBytes: tool.cacheDir() ? diskUsage(tool.cacheDir()!) : 0,
        ...(server && serverFigures ? { server: serverFigures, wire: server.wire() } : {}),
      };
      if (step === 'changes' && measured.ok) r.repoParts = repoParts(tool.repoDir());
      results.push(r);
      const cpu = measured.userS + measured.sysS;
      log(`${step.padEnd(8)} ${tool.label.padEnd(15)} ${measured.ok ? '' : `FAILED (exit ${measured.exitCode}) `}wall ${measured.wallS.toFixed(2)} s, cpu ${cpu.toFixed(2)} s, rss ${(measured.peakRssKiB / 1024).toFixed(0)} MiB, repo ${(r.repoBytes / MiB).toFixed(1)} MiB`);
      if (!measured.ok) {
        console.log(measured.errorTail);
        failed.add(tool.name);
        continue;
      }
      if (step === 'restore') {
        r.verify = await verifyRestore(dataset.root, tool.restoredRoot(restoreDir));
        log(`verify   ${tool.label.padEnd(15)} ${r.verify.ok ? 'identical to the source' : `${r.verify.differences} differences: ${r.verify.sample.join('; ')}`} (${r.verify.seconds.toFixed(1)} s)`);
        rmSync(restoreDir, { recursive: true, force: true });
      }
    }
  }
  await stopServers();

  let micro: MicroResult[] = [];
  try {
    log('micro-benchmarks');
    micro = await runMicro(dataset, settings.profile.microBytes, settings.seed, settings.dir, log);
  } catch (err) {
    notes.push(`micro-benchmarks failed: ${(err as Error).message}`);
    log(`micro-benchmarks failed: ${(err as Error).stack}`);
  }

  const run: BenchRun = {
    settings, startedAt: started, wallS: (performance.now() - t0) / 1000,
    machine: { ...machine(), debian: existsSync('/etc/debian_version') ? readFileSync('/etc/debian_version', 'utf8').trim() : 'n/a' },
    dataset, changes, tools: infos, results, micro, notes,
  };
  const md = renderReport(run);
  console.log('\n' + md);
  const files = writeResults(run, md);
  log(`results: ${files.map((f) => path.relative(root, f)).join(', ')}`);
  const bad = results.filter((r) => (r.measured && !r.measured.ok) || (r.verify && !r.verify.ok));
  return bad.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: error: ${(err as Error).stack ?? err}`);
  killAll();
} finally {
  await stopServers();
  cleanWorkDir();
  log(`done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
process.exit(code);
