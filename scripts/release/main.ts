// `make release`: dist/ gets, per architecture, the self-contained executable, a .tar.xz and a
// .deb, plus SHA256SUMS. `make install`: the executable for this machine into PREFIX.
//
//   node scripts/release/main.ts [x64] [arm64]        (default: both)
//   node scripts/release/main.ts --install DESTDIR/PREFIX
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { VERSION } from '../../internal/version/version.ts';
import { ROOT, TOOLS } from '../build-common.ts';
import { bundle } from './bundle.ts';
import { ARCHES, libsqlAddon, runtime, type Arch } from './fetch.ts';
import { ensureCrossDebs, runnerFor } from './host.ts';
import { BUNDLE, DIST, exeName, LICENSES, WORK } from './layout.ts';
import { thirdPartyLicenses } from './licenses.ts';
import { deb, sizeOf, tarball } from './package.ts';
import { buildExecutable } from './sea.ts';

const log = (m: string) => console.log(`release: ${m}`);
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Runs `exe --version` (under qemu for another arch); a broken blob exits 0 printing nothing. */
function smoke(exe: string, arch: Arch): void {
  const runner = runnerFor(arch);
  if (!runner) return log(`${arch}: no emulator here, --version not checked`);
  const [cmd, ...args] = [...runner, exe, '--version'];
  const r = spawnSync(cmd!, args, { encoding: 'utf8', env: {} });
  if (r.status !== 0 || !r.stdout.startsWith(`tardis/${VERSION} linux-${arch}`)) {
    throw new Error(`${exe} --version gave exit ${r.status}, '${r.stdout.trim()}' ${r.stderr.trim()}`);
  }
}

async function executables(arches: Arch[], outDir: string): Promise<Record<string, string>> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const { tools, packages } = await bundle(BUNDLE);
  log(`bundled ${tools.join(', ')} into ${path.relative(ROOT, BUNDLE)}`);
  const host = process.arch as Arch;
  writeFileSync(LICENSES, thirdPartyLicenses({ runtimeDir: path.dirname(path.dirname(runtime(host, log))), addonDir: path.dirname(libsqlAddon(host, log)), packages }));
  const out: Record<string, string> = {};
  for (const arch of arches) {
    const exe = path.join(outDir, exeName(arch));
    buildExecutable({ arch, bundle: BUNDLE, out: exe, work: WORK, version: VERSION, log });
    smoke(exe, arch);
    out[arch] = exe;
  }
  return out;
}

async function release(arches: Arch[]): Promise<void> {
  const t0 = Date.now();
  ensureCrossDebs(arches, log);
  rmSync(DIST, { recursive: true, force: true });
  const exes = await executables(arches, DIST);
  const files: string[] = [];
  for (const arch of arches) {
    const exe = exes[arch]!;
    log(`${arch}: .tar.xz`);
    const tar = tarball({ exe, name: exeName(arch), work: WORK, out: DIST });
    log(`${arch}: .deb`);
    const pkg = deb({ exe, arch, version: VERSION, work: WORK, out: DIST });
    files.push(exe, tar, pkg);
    log(`${arch}: executable ${mib(sizeOf(exe))}, .tar.xz ${mib(sizeOf(tar))}, .deb ${mib(sizeOf(pkg))}`);
  }
  const sums = execFileSync('sha256sum', files.map((f) => path.basename(f)), { cwd: DIST, encoding: 'utf8' });
  writeFileSync(path.join(DIST, 'SHA256SUMS'), sums);
  rmSync(WORK, { recursive: true, force: true }); // ~700 MB of stripped runtimes and package trees
  log(`dist/: ${readdirSync(DIST).join(' ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

/** PREFIX/bin/tardis (this machine's executable) and its symlinks, docs and sample configs. */
async function install(prefix: string): Promise<void> {
  const exe = (await executables([process.arch as Arch], WORK))[process.arch]!;
  const put = (from: string, to: string, mode: number) => {
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, mode);
  };
  const bin = path.join(prefix, 'bin');
  put(exe, path.join(bin, 'tardis'), 0o755);
  for (const t of TOOLS) {
    if (t === 'tardis') continue;
    rmSync(path.join(bin, t), { force: true });
    symlinkSync('tardis', path.join(bin, t));
  }
  for (const f of ['README.md', 'LICENSE', 'docs/commands.md', path.relative(ROOT, LICENSES)]) put(path.join(ROOT, f), path.join(prefix, 'share', 'doc', 'tardis-ts', path.basename(f)), 0o644);
  for (const f of ['packaging/tardisd.conf', 'packaging/tardisd.service', 'packaging/deb/client.cfg']) {
    put(path.join(ROOT, f), path.join(prefix, 'share', 'tardis-ts', path.basename(f)), 0o644);
  }
  rmSync(WORK, { recursive: true, force: true });
  log(`installed ${path.join(bin, 'tardis')} (+ ${TOOLS.length - 1} symlinks), ${path.join(prefix, 'share', 'tardis-ts')}/ (sample configs, unit)`);
}

const argv = process.argv.slice(2);
if (argv[0] === '--install') {
  if (!argv[1]) throw new Error('--install needs a directory');
  await install(path.resolve(argv[1]));
} else {
  const bad = argv.filter((a) => !ARCHES.includes(a as Arch));
  if (bad.length) throw new Error(`unknown architecture ${bad.join(', ')} (known: ${ARCHES.join(', ')})`);
  await release(argv.length ? (argv as Arch[]) : ARCHES);
}
