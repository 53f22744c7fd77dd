// One self-contained executable per architecture: a stripped official Node runtime with the
// release bundle injected as a single executable application (node --build-sea), and as assets
// the libSQL addon and the bundle again (for worker threads; see native.ts).
//
// Cross-building needs no emulation: this Node writes the blob and injects it into the target's
// runtime, which must be the very same version (a mismatched blob gives an executable that
// exits 0 silently). A V8 code cache (~30 ms off each start) only for this machine's own
// architecture: another one's runtime rejects it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { libsqlAddon, runtime, type Arch } from './fetch.ts';
import type { Manifest } from './native.ts';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** A strip that understands `arch`'s ELF files, or null. */
function stripper(arch: Arch): string | null {
  const native = arch === process.arch ? ['strip'] : [];
  const cross = arch === 'arm64' ? ['aarch64-linux-gnu-strip'] : ['x86_64-linux-gnu-strip'];
  return [...native, ...cross, 'llvm-strip', 'llvm-strip-16', 'llvm-strip-15', 'llvm-strip-14'].find(has) ?? null;
}

/** The runtime without its symbol table (150 MB → ~115 MB); unstripped if no strip fits. */
function strippedRuntime(arch: Arch, work: string, log: (m: string) => void): string {
  const src = runtime(arch, log);
  const out = path.join(work, `node-linux-${arch}`);
  const strip = stripper(arch);
  if (strip) execFileSync(strip, ['-o', out, src]);
  else {
    log(`warning: no strip for ${arch} (apt-get install binutils-aarch64-linux-gnu); the executable keeps its symbols`);
    copyFileSync(src, out);
  }
  return out;
}

function hash16(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/** Builds dist's executable for `arch` from `bundle` into `out`. */
export function buildExecutable(o: { arch: Arch; bundle: string; out: string; work: string; version: string; log: (m: string) => void }): void {
  const addon = libsqlAddon(o.arch, o.log);
  // File names fixed at build time, so a start never hashes 10 MB to find its cached copy.
  const manifest: Manifest = {
    addon: { asset: 'libsql.node', file: `libsql-linux-${o.arch}-${hash16(addon)}.node` },
    bundle: { asset: 'tardis.cjs', file: `tardis-${o.version}-${hash16(o.bundle)}.cjs` },
  };
  const manifestFile = path.join(o.work, `manifest-${o.arch}.json`);
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const config = {
    main: o.bundle,
    output: o.out,
    executable: strippedRuntime(o.arch, o.work, o.log),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: o.arch === process.arch,
    assets: { 'manifest.json': manifestFile, [manifest.addon.asset]: addon, [manifest.bundle.asset]: o.bundle },
  };
  const configFile = path.join(o.work, `sea-${o.arch}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  o.log(`node --build-sea (${o.arch})`);
  execFileSync(process.execPath, ['--build-sea', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  chmodSync(o.out, 0o755);
}
