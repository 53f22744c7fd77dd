// The archives around an executable: a .tar.xz to unpack anywhere (e.g. /opt/tardis, where
// packaging/tardisd.service looks), and a .deb for /usr/bin with a systemd unit.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { builtTools, ROOT, TOOLS } from '../build-common.ts';
import type { Arch } from './fetch.ts';
import { debName, DEB_ARCH, LICENSES } from './layout.ts';

/** Same bytes from the same commit: file times from SOURCE_DATE_EPOCH or the last commit. */
export function sourceDate(): string {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH;
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || '0';
  } catch {
    return '0';
  }
}

function copy(from: string, to: string, mode = 0o644): void {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(path.join(ROOT, from), to);
  chmodSync(to, mode);
}

/** bin/tardis and a symlink to it for every other tool (the executable picks by its name). */
function binDir(dir: string, exe: string): void {
  copy(path.relative(ROOT, exe), path.join(dir, 'tardis'), 0o755);
  for (const t of TOOLS) if (t !== 'tardis') symlinkSync('tardis', path.join(dir, t));
}

/** Modes that do not depend on the builder's umask: rwxr-xr-x / rw-r--r--. */
function normalizeModes(dir: string): void {
  execFileSync('chmod', ['-R', 'u+rwX,go+rX,go-w', dir]);
}

/** dist/<name>.tar.xz holding <name>/{bin,packaging,docs,README.md,LICENSE}. */
export function tarball(o: { exe: string; name: string; work: string; out: string }): string {
  const top = path.join(o.work, o.name);
  rmSync(top, { recursive: true, force: true });
  binDir(path.join(top, 'bin'), o.exe);
  copy('README.md', path.join(top, 'README.md'));
  copy('LICENSE', path.join(top, 'LICENSE'));
  copy(path.relative(ROOT, LICENSES), path.join(top, 'THIRD-PARTY-LICENSES'));
  copy('docs/commands.md', path.join(top, 'docs', 'commands.md'));
  copy('packaging/tardisd.conf', path.join(top, 'packaging', 'tardisd.conf'));
  copy('packaging/tardisd.service', path.join(top, 'packaging', 'tardisd.service'));
  copy('packaging/deb/client.cfg', path.join(top, 'packaging', 'client.cfg'));
  normalizeModes(top);
  const file = path.join(o.out, `${o.name}.tar.xz`);
  execFileSync('tar', ['--sort=name', `--mtime=@${sourceDate()}`, '--owner=0', '--group=0', '--numeric-owner',
    '-C', o.work, '-cf', file, '--use-compress-program=xz -6 -T2', o.name]);
  return file;
}

/** The unit for the package: the sample one, pointed at /usr/bin, with a cache directory. */
export function debUnit(): string {
  let unit = readFileSync(path.join(ROOT, 'packaging', 'tardisd.service'), 'utf8');
  const edits: [string | RegExp, string][] = [
    [/^(#[^\n]*\n)+/, '# systemd unit for tardisd, installed by the tardis-ts package.\n' +
      '# Change settings in /etc/tardis/tardisd.conf; to change this unit: systemctl edit tardisd\n'],
    ['/opt/tardis/bin/tardisd', '/usr/bin/tardisd'],
    ['file:///opt/tardis/README.md', 'file:///usr/share/doc/tardis-ts/README.md'],
  ];
  for (const [from, to] of edits) {
    const next = unit.replace(from, to);
    if (next === unit) throw new Error(`packaging/tardisd.service changed: '${String(from)}' not found; update scripts/release/package.ts`);
    unit = next;
  }
  return unit;
}

function debControl(o: { version: string; arch: Arch; installedKiB: number }): string {
  return [
    'Package: tardis-ts',
    `Version: ${o.version}`,
    `Architecture: ${DEB_ARCH[o.arch]}`,
    'Maintainer: Tardis-TS maintainers <tardis-ts@localhost>',
    `Installed-Size: ${o.installedKiB}`,
    // What the embedded Node runtime and the libSQL addon link against.
    'Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1, libatomic1, passwd',
    'Section: admin',
    'Priority: optional',
    'Description: encrypted, deduplicated, incremental backups (Tardis in TypeScript)',
    ' Time-Machine-style backups to a local repository or a tardisd server: content-defined',
    ' chunking, zstd, authenticated encryption, pack files and a SQLite catalog.',
    ` One self-contained executable provides ${builtTools().join(', ')};`,
    ' no Node.js is needed.',
    '',
  ].join('\n');
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sk', '--apparent-size', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** dist/tardis-ts_<version>_<debarch>.deb, built with dpkg-deb (files owned by root). */
export function deb(o: { exe: string; arch: Arch; version: string; work: string; out: string }): string {
  const root = path.join(o.work, `deb-${o.arch}`);
  rmSync(root, { recursive: true, force: true });
  binDir(path.join(root, 'usr', 'bin'), o.exe);
  copy('packaging/tardisd.conf', path.join(root, 'etc', 'tardis', 'tardisd.conf'));
  copy('packaging/deb/client.cfg', path.join(root, 'etc', 'tardis', 'client.cfg'));
  const unit = path.join(root, 'lib', 'systemd', 'system', 'tardisd.service');
  mkdirSync(path.dirname(unit), { recursive: true });
  writeFileSync(unit, debUnit());
  const doc = path.join(root, 'usr', 'share', 'doc', 'tardis-ts');
  copy('README.md', path.join(doc, 'README.md'));
  copy('docs/commands.md', path.join(doc, 'commands.md'));
  copy('LICENSE', path.join(doc, 'copyright'));
  copy(path.relative(ROOT, LICENSES), path.join(doc, 'THIRD-PARTY-LICENSES'));
  normalizeModes(root);
  const control = path.join(root, 'DEBIAN');
  mkdirSync(control);
  writeFileSync(path.join(control, 'control'), debControl({ version: o.version, arch: o.arch, installedKiB: du(root) }));
  writeFileSync(path.join(control, 'conffiles'), '/etc/tardis/tardisd.conf\n/etc/tardis/client.cfg\n');
  for (const s of ['postinst', 'prerm', 'postrm']) copy(`packaging/deb/${s}`, path.join(control, s), 0o755);
  const file = path.join(o.out, debName(o.arch));
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-z6', '--build', root, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SOURCE_DATE_EPOCH: sourceDate() },
  });
  return file;
}

export function sizeOf(file: string): number {
  return statSync(file).size;
}
