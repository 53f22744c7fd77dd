// End to end through a real tardisd: bin/tardis backs up to it and bin/regenerate restores from
// it, over TCP, TLS, a Unix socket and ssh's stdio, and the trees are compared.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, runTool, tempDir } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, write } from '../../internal/testkit/fixtures.ts';
import { DAEMON_ENV, startTardisd } from '../../internal/testkit/tardisd.ts';

function setup(t: TestContext): { dir: string; basedir: string; src: string } {
  const { dir, cleanup } = tempDir('tardisd-e2e-');
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const src = path.join(dir, 'src');
  write(path.join(src, 'notes.txt'), 'hello over the wire\n');
  write(path.join(src, 'sub', 'random'), seededBytes(3 << 20, 'e2e'));
  write(path.join(src, 'sub', 'empty'));
  fs.symlinkSync('notes.txt', path.join(src, 'link'));
  return { dir, basedir, src };
}

/** Backs `src` up to `url` (creating the repository), restores it and compares. */
async function roundTrip(url: string, dir: string, src: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const b = await backup(url, ['--create', src], { env });
  assert.equal(b.stats.problems, 0);
  assert.equal(b.stats.files, 3);
  const out = path.join(dir, 'out');
  await restore(url, ['-o', out, src], { env });
  await assertSameTree(src, out);
}

test('backup with tardis:// and restore with regenerate through tardisd on loopback', async (t) => {
  const { dir, basedir, src } = setup(t);
  const d = await startTardisd(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--allow-new-hosts', '-v']);
  const url = `tardis://127.0.0.1:${d.port}/client`;
  await roundTrip(url, dir, src);
  assert.ok(fs.existsSync(path.join(basedir, 'client', 'config')), 'the repository is BASEDIR/CLIENT');
  const again = await backup(url, [src]);
  assert.equal(again.stats.filesRead, 0, 'the second backup reads nothing');
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
  assert.match(d.stderr(), /connection 1 from 127\.0\.0\.1:\d+/);
});

test('TLS with a certificate from --make-cert: validated against it (--ca, --validate-certs), refused without it', async (t) => {
  const { dir, basedir, src } = setup(t);
  const certDir = path.join(dir, 'tls');
  const otherDir = path.join(dir, 'other');
  for (const d of [certDir, otherDir]) assert.equal((await runTool('tardisd', ['--make-cert', d], { env: DAEMON_ENV })).code, 0);
  const cert = path.join(certDir, 'tardisd.crt');
  const d = await startTardisd(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--allow-new-hosts',
    '--ssl', '--certfile', cert, '--keyfile', path.join(certDir, 'tardisd.key')]);
  const url = `tardis://127.0.0.1:${d.port}/client`;
  // --ca alone checks the certificate: another one is refused, before anything is created.
  const wrongCa = await runTool('tardis', ['-R', url, '--create', '--ca', path.join(otherDir, 'tardisd.crt'), src]);
  assert.equal(wrongCa.code, 1, wrongCa.stderr);
  assert.match(wrongCa.stderr, /^tardis: error: TLS with tardisd at 127\.0\.0\.1:\d+ failed: .* \(--validate-certs is on\)\n$/);
  assert.equal(fs.existsSync(path.join(basedir, 'client')), false);
  const b = await backup(url, ['--create', '--ca', cert, src]);
  assert.equal(b.stats.files, 3);
  await restore(url, ['--validate-certs', '--ca', cert, '-o', path.join(dir, 'out'), src]);
  await assertSameTree(src, path.join(dir, 'out'));
  // Checked against the system's CAs (flag, or environment with the certificate added there).
  const untrusted = await runTool('regenerate', ['-R', url, '--validate-certs', '-o', path.join(dir, 'out2'), src]);
  assert.equal(untrusted.code, 1, untrusted.stderr);
  assert.match(untrusted.stderr, /TLS .*failed: self-signed certificate/);
  const viaEnv = await runTool('sonic', ['list', '-R', url], { env: { TARDIS_VALIDATE_CERTS: 'true', NODE_EXTRA_CA_CERTS: cert } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const unchecked = await runTool('sonic', ['list', '-R', url]);
  assert.equal(unchecked.code, 0, `without --validate-certs the connection is encrypted but not checked\n${unchecked.stderr}`);
  assert.equal((await d.stop()).code, 0);
});

test('a Unix socket (unix:) and ssh (tardisd --stdio)', async (t) => {
  const { dir, basedir, src } = setup(t);
  const sock = path.join(dir, 'tardisd.sock');
  const d = await startTardisd(t, ['--basedir', basedir, '--local', sock, '--allow-new-hosts']);
  await roundTrip(`unix:${sock}/viasocket`, dir, src);
  assert.equal((await d.stop()).code, 0);
  assert.equal(fs.existsSync(sock), false);

  // A stand-in for ssh that runs the remote command here: `ssh [-p N] -- HOST COMMAND...`.
  const ssh = path.join(dir, 'fake-ssh');
  fs.writeFileSync(ssh, '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nexec "$@"\n', { mode: 0o755 });
  const env = {
    TARDIS_SSH: ssh,
    TARDIS_SSH_COMMAND: `${path.join(BIN, 'tardisd')} --stdio --basedir ${basedir} --allow-new-hosts`,
    TARDIS_DEFAULTS: '/nonexistent',
  };
  fs.rmSync(path.join(dir, 'out'), { recursive: true });
  await roundTrip('ssh://backup@server.invalid/viassh', dir, src, env);
  assert.ok(fs.existsSync(path.join(basedir, 'viassh', 'config')));
});
