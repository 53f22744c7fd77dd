// The peers come from Debian: `apt-get install -y restic borgbackup`, only for what is missing.
import { spawnSync } from 'node:child_process';

const PACKAGES: Record<string, string> = { restic: 'restic', borg: 'borgbackup' };

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the missing peers; returns a note for each one that is still missing. */
export function ensurePeers(wanted: string[], log: (m: string) => void): string[] {
  const missing = wanted.filter((c) => PACKAGES[c] && !has(c));
  if (missing.length === 0) return [];
  const pkgs = missing.map((c) => PACKAGES[c]!);
  const root = process.getuid?.() === 0;
  const apt = (args: string[]) => {
    const argv = root ? ['apt-get', ...args] : ['sudo', '-n', 'apt-get', ...args];
    log(`$ ${argv.join(' ')}`);
    return spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  // A fresh machine may have no package lists yet: update once and try again.
  if (!apt(['install', '-y', ...pkgs])) apt(['update']) && apt(['install', '-y', ...pkgs]);
  return missing.filter((c) => !has(c)).map((c) => `${c}: not installed and \`apt-get install -y ${PACKAGES[c]}\` failed; its columns are skipped`);
}
