// What a release is built from, fetched once into .tools/release/ with `npm pack` (npm install
// refuses packages of another CPU, and no install script is needed): the Node runtime and the
// libSQL addon for each target architecture.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../build-common.ts';

export type Arch = 'x64' | 'arm64';
export const ARCHES: Arch[] = ['x64', 'arm64'];
export const CACHE = path.join(ROOT, '.tools', 'release');

/** Unpacks npm package `spec` into `dest` (once; a half-done unpack is never left at `dest`). */
function npmUnpack(spec: string, dest: string, log: (m: string) => void): string {
  if (existsSync(dest)) return dest;
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(path.join(CACHE, '.dl-'));
  try {
    log(`npm pack ${spec}`);
    const tgz = execFileSync('npm', ['pack', '--silent', spec], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop()!;
    mkdirSync(path.join(tmp, 'x'));
    execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', path.join(tmp, 'x'), '--strip-components=1']);
    renameSync(path.join(tmp, 'x'), dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dest;
}

/** The official Node binary for `arch`, the very version this build runs on (SEA blobs must match). */
export function runtime(arch: Arch, log: (m: string) => void): string {
  if (arch === process.arch) return process.execPath;
  const version = process.version.slice(1);
  const dir = npmUnpack(`node-linux-${arch}@${version}`, path.join(CACHE, `node-${version}-linux-${arch}`), log);
  return path.join(dir, 'bin', 'node');
}

/** The libSQL addon for `arch`, at the version the bundled libsql asks for. */
export function libsqlAddon(arch: Arch, log: (m: string) => void): string {
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'libsql', 'package.json'), 'utf8')) as { version: string }).version;
  const name = `linux-${arch}-gnu`;
  // npm installed this machine's one already (an optional dependency of libsql).
  const local = path.join(ROOT, 'node_modules', '@libsql', name);
  try {
    if ((JSON.parse(readFileSync(path.join(local, 'package.json'), 'utf8')) as { version: string }).version === version) return path.join(local, 'index.node');
  } catch {
    // not installed here: fetch it
  }
  const dir = npmUnpack(`@libsql/${name}@${version}`, path.join(CACHE, `libsql-${version}-${name}`), log);
  return path.join(dir, 'index.node');
}

const OTHER_RUNTIMES = {
  bun: { version: '1.4.5', bin: 'bin/bun', pkg: { x64: '@oven/bun-linux-x64', arm64: '@oven/bun-linux-aarch64' } },
  deno: { version: '2.9.6', bin: 'deno', pkg: { x64: '@deno/linux-x64-glibc', arm64: '@deno/linux-arm64-glibc' } },
};

/** Bun or Deno for this machine, from their platform packages (no install script runs). */
export function otherRuntime(name: 'bun' | 'deno', log: (m: string) => void): string {
  const r = OTHER_RUNTIMES[name];
  const pkg = r.pkg[process.arch as Arch];
  const dir = npmUnpack(`${pkg}@${r.version}`, path.join(CACHE, `${name}-${r.version}-linux-${process.arch}`), log);
  return path.join(dir, r.bin);
}
