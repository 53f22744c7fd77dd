// tardisd as a process: listening, TLS, Unix sockets, signals, log files, --single and the
// privilege drop. Every server binds to loopback or a socket in a temporary directory, and is
// stopped by the test (or stops by itself).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runTool, tempDir } from '../../internal/testkit/testkit.ts';
import { DAEMON_ENV as ENV, startTardisd as startDaemon, waitFor } from '../../internal/testkit/tardisd.ts';

function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function connectUnix(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p, () => resolve(s));
    s.once('error', reject);
  });
}

function base(t: TestContext): { dir: string; basedir: string } {
  const { dir, cleanup } = tempDir('tardisd-test-');
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  return { dir, basedir };
}

test('listens on TCP, logs connections with -v, writes its pid file, and SIGTERM exits 0', async (t) => {
  const { dir, basedir } = base(t);
  const pidFile = path.join(dir, 'tardisd.pid');
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--pidfile', pidFile, '-v']);
  assert.ok(d.port && d.port > 0, d.stderr());
  assert.equal(fs.readFileSync(pidFile, 'utf8'), `${d.pid}\n`);
  const s = await connectTcp(d.port);
  await waitFor('the connection to be logged', () => /connection 1 from 127\.0\.0\.1:\d+/.test(d.stderr()));
  s.destroy();
  await waitFor('the connection to close', () => /connection 1 closed/.test(d.stderr()));
  d.child.kill('SIGTERM');
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.match(d.stderr(), /SIGTERM: stopping/);
  assert.match(d.stderr(), /stopped\n$/);
  assert.equal(fs.existsSync(pidFile), false, 'the pid file goes with the process');
});

test('command line over config file; unknown config keys fail naming file and line', async (t) => {
  const { dir, basedir } = base(t);
  const conf = path.join(dir, 'tardisd.conf');
  // The config's BaseDir does not exist: the command line's must win or startup fails.
  fs.writeFileSync(conf, `[Tardis]\nBaseDir = ${path.join(dir, 'missing')}\n[Daemon]\nAddress = 127.0.0.1\nPort = 1\nSingle = true\n`);
  const d = await startDaemon(t, ['--config', conf, '--basedir', basedir, '--port', '0']);
  assert.match(d.stderr(), new RegExp(`listening on 127\\.0\\.0\\.1:\\d+ for one connection; basedir ${basedir}`));
  (await connectTcp(d.port!)).destroy();
  assert.equal((await d.exited).code, 0, 'Single from the config file');

  const missing = await runTool('tardisd', ['--config', conf, '--port', '0'], { env: ENV });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^tardisd: error: the base directory .*missing does not exist/m);

  fs.writeFileSync(conf, `[Daemon]\n# comment\nPort = 0\nBaseDirectory = ${basedir}\n`);
  const r = await runTool('tardisd', ['--config', conf], { env: ENV });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `tardisd: error: ${conf}:4: unknown key 'BaseDirectory' in [Daemon] (the keys are listed in packaging/tardisd.conf)\n`);

  const bad = await runTool('tardisd', ['--basedir', basedir, '--prot', '7420'], { env: ENV });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Unknown option '--prot'/);
});

test('a port in use is a one-line error', async (t) => {
  const { basedir } = base(t);
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.after(() => busy.close());
  const port = (busy.address() as net.AddressInfo).port;
  const r = await runTool('tardisd', ['--basedir', basedir, '--address', '127.0.0.1', '--port', String(port)], { env: ENV });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').pop(), `tardisd: error: cannot listen on 127.0.0.1:${port}: the address is in use (another tardisd?)`);
});

test('Unix socket: mode from the umask, stale socket replaced, live one and other files kept, removed on SIGTERM', async (t) => {
  const { dir, basedir } = base(t);
  const sock = path.join(dir, 'tardisd.sock');
  const first = await startDaemon(t, ['--basedir', basedir, '--local', sock, '--umask', '007']);
  assert.equal(fs.statSync(sock).mode & 0o777, 0o770);
  assert.match(first.stderr(), /listening on unix:\S+tardisd\.sock/);

  // A second server on the same path must not steal a live socket.
  const live = await runTool('tardisd', ['--basedir', basedir, '--local', sock], { env: ENV });
  assert.equal(live.code, 1);
  assert.match(live.stderr, /another server is listening there/);
  (await connectUnix(sock)).destroy();

  // kill -9 leaves the socket file behind; the next start replaces it.
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(fs.lstatSync(sock).isSocket());
  const second = await startDaemon(t, ['--basedir', basedir, '--local', sock, '--grace', '200ms', '-v']);
  assert.match(second.stderr(), /removed the stale socket/);
  assert.equal(fs.statSync(sock).mode & 0o777, 0o750, 'default umask 027');
  const c = await connectUnix(sock);
  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
  c.destroy();
  assert.equal(fs.existsSync(sock), false, 'SIGTERM removes the socket file');

  fs.writeFileSync(sock, 'not a socket');
  const file = await runTool('tardisd', ['--basedir', basedir, '--local', sock], { env: ENV });
  assert.equal(file.code, 1);
  assert.match(file.stderr, /exists and is not a socket; not replacing it/);
  assert.equal(fs.readFileSync(sock, 'utf8'), 'not a socket');
});

test('--make-cert makes a certificate and key that --ssl accepts; a key that does not fit is refused', async (t) => {
  const { dir, basedir } = base(t);
  const certDir = path.join(dir, 'tls');
  const made = await runTool('tardisd', ['--make-cert', certDir], { env: ENV });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /SHA-256 fingerprint: [0-9A-F:]{95}/);
  const cert = path.join(certDir, 'tardisd.crt');
  const key = path.join(certDir, 'tardisd.key');
  assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  const again = await runTool('tardisd', ['--make-cert', certDir], { env: ENV });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists already/);

  // The protocol host upgrades each connection to TLS itself; here: the pair is loaded and checked.
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--ssl', '--certfile', cert, '--keyfile', key]);
  assert.match(d.stderr(), /listening on 127\.0\.0\.1:\d+ \(TLS\)/);
  d.child.kill('SIGTERM');
  assert.equal((await d.exited).code, 0);

  const other = path.join(dir, 'other');
  assert.equal((await runTool('tardisd', ['--make-cert', other], { env: ENV })).code, 0);
  const mismatch = await runTool('tardisd', ['--basedir', basedir, '--port', '0', '--ssl', '--certfile', cert, '--keyfile', path.join(other, 'tardisd.key')], { env: ENV });
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /cannot use the TLS certificate \S+tardisd\.crt with the key \S+tardisd\.key: the key does not belong to the certificate/);
  const plain = await runTool('tardisd', ['--basedir', basedir, '--ssl', '--certfile', cert], { env: ENV });
  assert.match(plain.stderr, /TLS needs a certificate and its key: give --keyfile/);
});

test('SIGTERM with an open session: waits the grace period, aborts it, exits 0', async (t) => {
  const { basedir } = base(t);
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--grace', '300ms', '-v']);
  const s = await connectTcp(d.port!);
  await waitFor('the connection', () => /connection 1 from/.test(d.stderr()));
  const closed = new Promise((r) => s.once('close', r));
  s.on('error', () => {});
  s.resume(); // read the greeting, so that the server's close is seen
  d.child.kill('SIGTERM');
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  await closed;
  assert.match(d.stderr(), /SIGTERM: stopping; waiting up to 300ms for 1 open session\(s\)/);
  assert.match(d.stderr(), /grace period over: aborting 1 open session\(s\)/);
  await assert.rejects(connectTcp(d.port!), /ECONNREFUSED/);
});

test('a second SIGTERM aborts open sessions without waiting for the grace period', async (t) => {
  const { basedir } = base(t);
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--grace', '10m', '-v']);
  const s = await connectTcp(d.port!);
  s.on('error', () => {});
  s.resume();
  await waitFor('the connection', () => /connection 1 from/.test(d.stderr()));
  d.child.kill('SIGTERM');
  await waitFor('the first SIGTERM', () => /waiting up to 10m00s for 1 open session/.test(d.stderr()));
  d.child.kill('SIGTERM');
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.match(d.stderr(), /SIGTERM again: aborting 1 open session\(s\) now/);
  s.destroy();
});

test('IPv6 and IPv4 addresses side by side', async (t) => {
  const { basedir } = base(t);
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '::1,127.0.0.1', '--port', '0']);
  const ports = [...d.stderr().matchAll(/(\[::1\]|127\.0\.0\.1):(\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
  assert.equal(ports.length, 2, d.stderr());
  for (const [host, port] of ports) {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect({ host: host.replace(/[[\]]/g, ''), port }, () => {
        c.destroy();
        resolve();
      });
      c.once('error', reject);
    });
  }
  assert.equal((await d.stop()).code, 0);
});

test('SIGHUP reopens the log file', async (t) => {
  const { dir, basedir } = base(t);
  const log = path.join(dir, 'tardisd.log');
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--logfile', log, '-v'], { logFile: log });
  assert.equal(d.stderr(), '', 'nothing on stderr with --logfile');
  assert.match(fs.readFileSync(log, 'utf8'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d tardisd: listening on/m);
  fs.renameSync(log, `${log}.1`);
  d.child.kill('SIGHUP');
  await waitFor('the new log file', () => fs.existsSync(log) && /reopened the log file/.test(fs.readFileSync(log, 'utf8')));
  (await connectTcp(d.port!)).destroy();
  await waitFor('the connection in the new file', () => /connection 1 closed/.test(fs.readFileSync(log, 'utf8')));
  assert.doesNotMatch(fs.readFileSync(`${log}.1`, 'utf8'), /connection 1/);
  d.child.kill('SIGTERM');
  assert.equal((await d.exited).code, 0);
  assert.match(fs.readFileSync(log, 'utf8'), /stopped\n$/);
});

test('--single serves one connection, then exits by itself', async (t) => {
  const { basedir } = base(t);
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--single', '-v']);
  const s = await connectTcp(d.port!);
  await waitFor('the connection', () => /connection 1 from/.test(d.stderr()));
  await assert.rejects(connectTcp(d.port!), /ECONNREFUSED/, 'no second connection');
  s.end();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.match(d.stderr(), /served its one connection: stopping/);
});

test('--stdio serves one session on stdin/stdout and exits when it ends', async (t) => {
  const { basedir } = base(t);
  const d = await startDaemon(t, ['--basedir', basedir, '--stdio', '-v'], { ready: false });
  await waitFor('the session', () => /connection 1 from stdio/.test(d.stderr()));
  d.child.stdin!.end();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
});

test('--user drops root privileges once listening', { skip: process.getuid?.() !== 0 && 'needs root' }, async (t) => {
  const { dir, basedir } = base(t);
  fs.chmodSync(dir, 0o755);
  fs.chownSync(basedir, 65534, 65534);
  const d = await startDaemon(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--user', 'nobody', '-v']);
  const status = fs.readFileSync(`/proc/${d.pid}/status`, 'utf8');
  const ids = (key: string): number[] => new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(status)![1].trim().split(/\s+/).map(Number);
  assert.deepEqual(ids('Uid'), [65534, 65534, 65534, 65534]);
  assert.deepEqual(ids('Gid').slice(0, 4), [65534, 65534, 65534, 65534]);
  assert.deepEqual(ids('Groups'), [65534]);
  assert.match(d.stderr(), /running as nobody \(uid 65534, gid 65534\)/);
  (await connectTcp(d.port!)).destroy();
  d.child.kill('SIGTERM');
  assert.equal((await d.exited).code, 0);
});
