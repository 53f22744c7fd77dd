// `make release-test`: what `make release` put in dist/, run as a user would, with nothing of
// this clone (no node on PATH, an empty environment). The arm64 executable runs under qemu.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VERSION } from '../../internal/version/version.ts';
import { builtTools, TOOLS } from '../build-common.ts';
import type { Arch } from './fetch.ts';
import { runnerFor } from './host.ts';
import { DEB_ARCH, debName, DIST, exeName } from './layout.ts';
import { assertSameTree, changeTree, makeTree, median, ok, PASSWORD, run, start } from './testkit.ts';

const ARCHES: Arch[] = ['x64', 'arm64'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-release-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** How to start `tool` of `arch`'s executable: by name through PATH here, via qemu otherwise. */
function tool(arch: Arch, name: string): string[] {
  const runner = runnerFor(arch);
  if (!runner) throw new Error(`no way to run ${arch} executables here: make release installs qemu-user-static`);
  return runner.length ? [...runner, path.join(tmp, `bin-${arch}`, name)] : [name];
}

function envFor(arch: Arch, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: path.join(tmp, `bin-${arch}`), HOME: path.join(tmp, `home-${arch}`), TARDIS_PASSWORD: PASSWORD, TARDIS_DEFAULTS: '/nonexistent', ...extra };
}

before(() => {
  for (const arch of ARCHES) {
    const exe = path.join(DIST, exeName(arch));
    assert.ok(fs.existsSync(exe), `${exe} is missing: run make release first`);
    const bin = path.join(tmp, `bin-${arch}`);
    fs.mkdirSync(bin);
    for (const t of TOOLS) fs.symlinkSync(exe, path.join(bin, t));
    fs.mkdirSync(path.join(tmp, `home-${arch}`));
  }
  // The point of env -i and this PATH: no node anywhere the executable could find one.
  assert.notEqual(spawnSync('/usr/bin/env', ['-i', `PATH=${path.join(tmp, 'bin-x64')}`, 'sh', '-c', 'command -v node'], { encoding: 'utf8' }).status, 0);
});

/** create, backup, restore and compare, change, second backup, restore and compare. */
async function roundTrip(arch: Arch): Promise<{ repo: string; src: string }> {
  const src = path.join(tmp, `src-${arch}`);
  const repo = path.join(tmp, `repo-${arch}`, 'client');
  const env = envFor(arch);
  makeTree(src);
  await ok([...tool(arch, 'sonic'), 'create', '-R', repo], env);
  await ok([...tool(arch, 'tardis'), '-R', repo, src], env);
  const out1 = path.join(tmp, `out1-${arch}`);
  await ok([...tool(arch, 'regenerate'), '-R', repo, '-o', out1, src], env);
  await assertSameTree(src, out1);
  changeTree(src);
  // The busybox form, and a password from a file this time.
  const pwFile = path.join(tmp, 'password');
  fs.writeFileSync(pwFile, `${PASSWORD}\n`);
  const { TARDIS_PASSWORD: _, ...noPw } = env;
  await ok([...tool(arch, 'tardis'), 'tardis', '-R', repo, '--password-file', pwFile, src], noPw);
  const list = await ok([...tool(arch, 'tardis'), 'sonic', 'list', '-R', repo], env);
  assert.equal(list.stdout.trim().split('\n').length, 3, list.stdout);
  const out2 = path.join(tmp, `out2-${arch}`);
  await ok([...tool(arch, 'regenerate'), '-R', repo, '-o', out2, src], env);
  await assertSameTree(src, out2);
  return { repo, src };
}

const repos: Partial<Record<Arch, { repo: string; src: string }>> = {};

describe('the x64 executable', () => {
  test('--version of each tool, and the start-up time against bare node', async (t) => {
    for (const name of builtTools()) {
      const r = await ok([...tool('x64', name), '--version'], envFor('x64'));
      assert.match(r.stdout, new RegExp(`^${name}/${VERSION} linux-x64 node-v`));
    }
    const unwritten = TOOLS.find((n) => !builtTools().includes(n));
    if (unwritten) assert.equal((await run([...tool('x64', unwritten)], envFor('x64'))).code, 2);
    const times = async (argv: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < 9; i++) ms.push((await ok(argv, envFor('x64'))).ms);
      return median(ms);
    };
    const exe = await times([...tool('x64', 'tardis'), '--version']);
    const node = await times([process.execPath, '--version']);
    t.diagnostic(`start-up, median of 9: tardis --version ${exe.toFixed(0)} ms, node --version ${node.toFixed(0)} ms`);
  });

  test('a local round trip under env -i', async (t) => {
    const t0 = performance.now();
    repos.x64 = await roundTrip('x64');
    t.diagnostic(`x64 round trip: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  test('a client and a tardisd started from the same executable, over TCP', async () => {
    const env = envFor('x64');
    const base = path.join(tmp, 'srv');
    fs.mkdirSync(base);
    const d = await start([...tool('x64', 'tardisd'), '--basedir', base, '--allow-new-hosts', '--address', '127.0.0.1', '--port', '0'], env, /listening on \S*:(\d+)/);
    try {
      const url = `tardis://127.0.0.1:${d.match[1]}/laptop`;
      const src = repos.x64!.src;
      await ok([...tool('x64', 'tardis'), '--create', '-R', url, src], env);
      const out = path.join(tmp, 'out-remote');
      await ok([...tool('x64', 'regenerate'), '-R', url, '-o', out, src], env);
      await assertSameTree(src, out);
      assert.ok(fs.existsSync(path.join(base, 'laptop', 'catalog.db')));
    } finally {
      const exited = new Promise<number | null>((resolve) => d.child.on('exit', (code) => resolve(code)));
      d.child.kill('SIGTERM');
      assert.equal(await exited, 0, d.stderr());
    }
  });

  test('the libSQL addon goes to /tmp when no cache directory can be written; parallel first starts agree', async () => {
    const tmpdir = path.join(tmp, 'tmpdir');
    fs.mkdirSync(tmpdir);
    // /proc refuses a .cache directory even to root.
    await ok([...tool('x64', 'sonic'), 'list', '-R', repos.x64!.repo], envFor('x64', { HOME: '/proc', TMPDIR: tmpdir }));
    const uid = process.getuid!();
    assert.ok(fs.readdirSync(path.join(tmpdir, `tardis-${uid}`)).some((f) => /^libsql-linux-x64-[0-9a-f]{16}\.node$/.test(f)));
    const home = path.join(tmp, 'home-parallel');
    fs.mkdirSync(home);
    await Promise.all([1, 2, 3].map(() => ok([...tool('x64', 'sonic'), 'list', '-R', repos.x64!.repo], envFor('x64', { HOME: home }))));
    assert.deepEqual(fs.readdirSync(path.join(home, '.cache', 'tardis')).filter((f) => f.startsWith('.')), []);
  });
});

describe('the arm64 executable under qemu', () => {
  test('a local round trip', async (t) => {
    const t0 = performance.now();
    repos.arm64 = await roundTrip('arm64');
    t.diagnostic(`arm64 round trip under qemu: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  test('reads the repository the x64 executable wrote, and the other way round', async () => {
    const out = path.join(tmp, 'out-x64-by-arm64');
    await ok([...tool('arm64', 'regenerate'), '-R', repos.x64!.repo, '-o', out, repos.x64!.src], envFor('arm64'));
    await assertSameTree(repos.x64!.src, out);
    const back = path.join(tmp, 'out-arm64-by-x64');
    await ok([...tool('x64', 'regenerate'), '-R', repos.arm64!.repo, '-o', back, repos.arm64!.src], envFor('x64'));
    await assertSameTree(repos.arm64!.src, back);
  });
});

describe('the archives', () => {
  test('SHA256SUMS matches dist/', () => {
    execFileSync('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: DIST });
  });

  test('the .tar.xz unpacks to bin/ with a symlink per tool, docs and samples', async () => {
    for (const arch of ARCHES) {
      const dir = path.join(tmp, `tar-${arch}`);
      fs.mkdirSync(dir);
      execFileSync('tar', ['-xJf', path.join(DIST, `${exeName(arch)}.tar.xz`), '-C', dir]);
      const top = path.join(dir, exeName(arch));
      for (const t of TOOLS) if (t !== 'tardis') assert.equal(fs.readlinkSync(path.join(top, 'bin', t)), 'tardis');
      for (const f of ['README.md', 'LICENSE', 'THIRD-PARTY-LICENSES', 'docs/commands.md', 'packaging/tardisd.conf', 'packaging/tardisd.service', 'packaging/client.cfg']) {
        assert.ok(fs.statSync(path.join(top, f)).isFile(), f);
      }
    }
    const top = path.join(tmp, 'tar-x64', exeName('x64'));
    const r = await ok([path.join(top, 'bin', 'regenerate'), '--version'], { PATH: '/nonexistent' });
    assert.match(r.stdout, /^regenerate\//);
  });

  for (const arch of ARCHES) {
    test(`the ${arch} .deb installs into an empty root, tardisd runs, purge removes it`, { skip: process.getuid?.() !== 0 && 'needs root (dpkg --root)' }, async () => {
      const deb = path.join(DIST, debName(arch));
      assert.match(execFileSync('dpkg-deb', ['-f', deb, 'Architecture'], { encoding: 'utf8' }), new RegExp(`^${DEB_ARCH[arch]}`));
      const root = path.join(tmp, `root-${arch}`);
      for (const d of ['var/lib/dpkg/updates', 'var/lib/dpkg/info', 'etc']) fs.mkdirSync(path.join(root, d), { recursive: true });
      for (const f of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) fs.writeFileSync(path.join(root, f), '');
      fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
      fs.writeFileSync(path.join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
      fs.writeFileSync(path.join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
      // The maintainer scripts run here, not chrooted, with DPKG_ROOT naming the root; the
      // root has no libc package, so its dependencies cannot be met.
      const dpkg = (args: string[]) => execFileSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-architecture', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      dpkg(['-i', deb]);
      const user = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('tardis:'));
      assert.ok(user, 'postinst made no tardis user');
      const [, , uid] = user.split(':');
      assert.equal(String(fs.statSync(path.join(root, 'srv/tardis')).uid), uid);
      assert.equal(fs.statSync(path.join(root, 'srv/tardis')).mode & 0o777, 0o750);
      const unit = fs.readFileSync(path.join(root, 'lib/systemd/system/tardisd.service'), 'utf8');
      assert.match(unit, /^ExecStart=\/usr\/bin\/tardisd --config \/etc\/tardis\/tardisd.conf$/m);
      assert.match(unit, /^CacheDirectory=tardis$/m);
      assert.deepEqual(fs.readFileSync(path.join(root, 'var/lib/dpkg/info/tardis-ts.conffiles'), 'utf8').trim().split('\n'), ['/etc/tardis/tardisd.conf', '/etc/tardis/client.cfg']);
      const runner = runnerFor(arch)!;
      const r = await ok([...runner, path.join(root, 'usr/bin/tardisd'), '--version'], { PATH: '/nonexistent' });
      assert.match(r.stdout, new RegExp(`^tardisd/${VERSION} linux-${arch}`));
      // The sample client config is valid as shipped.
      await ok([...runner, path.join(root, 'usr/bin/sonic'), 'list', '--config', path.join(root, 'etc/tardis/client.cfg'), '-R', repos.x64!.repo], envFor(arch));
      dpkg(['--purge', 'tardis-ts']);
      assert.ok(!fs.existsSync(path.join(root, 'usr/bin/tardis')));
      assert.ok(!fs.existsSync(path.join(root, 'etc/tardis/tardisd.conf')));
      // The backups and the user stay.
      assert.ok(fs.existsSync(path.join(root, 'srv/tardis')));
    });
  }
});
