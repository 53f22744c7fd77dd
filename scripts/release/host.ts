// What the building machine needs from Debian to cross-build and to run the other
// architecture's executable: qemu user emulation, that architecture's C runtime, its strip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Arch } from './fetch.ts';

const CROSS: Record<Arch, { qemu: string; sysroot: string; debs: string[] }> = {
  arm64: {
    qemu: 'qemu-aarch64-static',
    sysroot: '/usr/aarch64-linux-gnu',
    debs: ['qemu-user-static', 'libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libatomic1-arm64-cross', 'binutils-aarch64-linux-gnu'],
  },
  x64: {
    qemu: 'qemu-x86_64-static',
    sysroot: '/usr/x86_64-linux-gnu',
    debs: ['qemu-user-static', 'libc6-amd64-cross', 'libstdc++6-amd64-cross', 'libatomic1-amd64-cross', 'binutils-x86-64-linux-gnu'],
  },
};

function installed(deb: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', deb], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs (apt-get, as root or through sudo -n) the Debian packages the other arches need. */
export function ensureCrossDebs(arches: Arch[], log: (m: string) => void): void {
  const want = [...new Set(arches.filter((a) => a !== process.arch).flatMap((a) => CROSS[a].debs))];
  const missing = want.filter((d) => !installed(d));
  if (missing.length === 0) return;
  const apt = (args: string[]) => {
    const argv = process.getuid?.() === 0 ? ['apt-get', ...args] : ['sudo', '-n', 'apt-get', ...args];
    log(`$ ${argv.join(' ')}`);
    return spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  // A fresh machine may have no package lists yet: update once and try again.
  if (!apt(['install', '-y', '-q', ...missing])) apt(['update', '-q']) && apt(['install', '-y', '-q', ...missing]);
  const still = missing.filter((d) => !installed(d));
  if (still.length) log(`warning: not installed: ${still.join(' ')}; executables of other architectures cannot be run here`);
}

/** The command prefix that runs an `arch` executable here: nothing, or qemu; null if neither. */
export function runnerFor(arch: Arch): string[] | null {
  if (arch === process.arch) return [];
  const c = CROSS[arch];
  const qemu = ['/usr/bin', '/usr/local/bin'].map((d) => `${d}/${c.qemu}`).find(existsSync);
  return qemu && existsSync(c.sysroot) ? [qemu, '-L', c.sysroot] : null;
}
