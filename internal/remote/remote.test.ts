import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import { createRepository, openRepository, serveConnection } from '../connect/connect.ts';
import { LockedError, NotFoundError, TardisError, UsageError, WrongPasswordError } from '../errors/errors.ts';
import { EntryEncoder } from '../backup/entries.ts';
import { ConnectionError, ProtocolError } from '../protocol/errors.ts';
import { entryFromStats } from '../walk/index.ts';
import { assertSameTree } from '../testkit/fixtures.ts';
import { ROOT, tempDir } from '../testkit/testkit.ts';
import { Connection } from '../protocol/connection.ts';
import { RemoteSession } from './client.ts';
import { serveSession } from './serve.ts';
import { dial, login } from './dial.ts';
import { backupTree, listing, makeTree, PW, restoreTree, SMALL_CHUNKS, startHost } from './testutil.ts';

/**
 * Waits until the host has finished with every connection and the catalogs it closed have
 * folded their write-ahead logs back (SQLite does that when the handle is finally released).
 */
async function settled(h: { active: () => number; basedir: string }): Promise<void> {
  while (h.active() > 0) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 300 && listing(h.basedir).some((l) => /-wal /.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
}

const opts = { scryptN: 1024, chunker: SMALL_CHUNKS };
const pw = (p: string | null) => async () => p;
const never = async (): Promise<string | null> => {
  throw new Error('the password was asked for');
};

test('backup and restore through a RemoteSession over a Unix socket', async (t) => {
  const h = await startHost(t);
  const src = path.join(h.dir, 'src');
  makeTree(src);
  const created = await createRepository(h.url('laptop'), PW, opts);
  assert.ok(created.session instanceof RemoteSession);
  const first = await backupTree(created, src);
  assert.equal(first.stats.files, 35);
  assert.ok(first.stats.chunksNew > 30);
  await created.session.close();
  assert.ok(fs.existsSync(path.join(h.basedir, 'laptop', 'auth')));

  const conn = await openRepository(h.url('laptop'), pw(PW));
  t.after(() => conn.session.close());
  // Unchanged: nothing read, nothing sent.
  const second = await backupTree(conn, src);
  assert.equal(second.stats.filesRead, 0);
  assert.equal(second.stats.bytesNew, 0);
  // Changed: only the new chunks cross.
  fs.appendFileSync(path.join(src, 'docs/readme.txt'), 'one more line\n');
  const third = await backupTree(conn, src);
  assert.ok(third.stats.filesRead >= 1 && third.stats.filesRead <= 2, 'the file and perhaps its hard link');
  assert.ok(third.stats.chunksNew <= 2);
  const sets = await conn.session.listSets();
  assert.deepEqual(sets.map((s) => s.completed), [true, true, true]);

  const out = path.join(h.dir, 'out');
  const stats = await restoreTree(conn, third.setId, out);
  assert.equal(stats.failed, 0);
  await assertSameTree(src, path.join(out, 'src'));
});

test('a wrong password is refused and writes nothing; the right one works', async (t) => {
  const h = await startHost(t);
  const c = await createRepository(h.url('box'), PW, opts);
  await c.session.close();
  await settled(h);
  const repo = path.join(h.basedir, 'box');
  const before = listing(repo);
  await assert.rejects(openRepository(h.url('box'), pw('not the password')), (err: Error) => {
    assert.ok(err instanceof WrongPasswordError);
    assert.equal(err.message, 'wrong password');
    return true;
  });
  await assert.rejects(openRepository(h.url('box'), pw(null)), WrongPasswordError);
  await settled(h);
  assert.deepEqual(listing(repo), before);
  assert.ok(h.logs.some((l) => /client 'box' \(unix\): wrong password/.test(l)));
  const ok = await openRepository(h.url('box'), pw(PW));
  assert.equal((await ok.session.listSets()).length, 0);
  await ok.session.close();
});

test('client A cannot reach client B: not with its password, not by name, not after its login', async (t) => {
  const h = await startHost(t);
  await (await createRepository(h.url('alice'), 'alice-pw', opts)).session.close();
  await (await createRepository(h.url('bob'), 'bob-pw', opts)).session.close();
  await settled(h);
  const bobFiles = listing(path.join(h.basedir, 'bob'));

  await assert.rejects(openRepository(h.url('bob'), pw('alice-pw')), WrongPasswordError);
  // Before a login nothing but the login is served, not even info (which holds the key slots).
  const pre = await dial({ kind: 'unix', socket: h.socket, client: 'bob' });
  await assert.rejects(pre.request('info'), (err: Error) => err instanceof ProtocolError && /before a login/.test(err.message));
  // A name is one path component.
  for (const bad of ['../bob', 'alice/../bob', '.', '..', '', '.hidden', 'a\u0000b']) {
    const c = await dial({ kind: 'unix', socket: h.socket, client: 'x' });
    await assert.rejects(c.request('login', { client: bad }), UsageError, bad);
    await c.closed;
  }
  // Logged in as alice, the session is alice's; a second login is a protocol error.
  const a = await dial({ kind: 'unix', socket: h.socket, client: 'alice' });
  await login(a, 'alice', pw('alice-pw'));
  const info = await a.request('info') as { client: string };
  assert.equal(info.client, 'alice');
  await assert.rejects(a.request('login', { client: 'bob' }), ProtocolError);
  await settled(h);
  assert.deepEqual(listing(path.join(h.basedir, 'bob')), bobFiles);
});

test('new clients, unknown clients, and repositories without a password', async (t) => {
  const h = await startHost(t, { allowNewHosts: false });
  await assert.rejects(createRepository(h.url('newbie'), PW, opts), /does not allow new clients/);
  assert.ok(!fs.existsSync(path.join(h.basedir, 'newbie')));
  await assert.rejects(openRepository(h.url('ghost'), never), (err: Error) => err instanceof NotFoundError && (err as TardisError).exitCode === 2);

  const open = await startHost(t);
  const c = await createRepository(open.url('nopw'), null, opts);
  await c.session.close();
  // No password: no proof asked, none prompted for.
  const again = await openRepository(open.url('nopw'), never);
  assert.equal((await again.session.info()).config.encrypted, false);
  await again.session.close();
  await assert.rejects(createRepository(open.url('nopw'), null, opts), /already exists/);

  const strict = await startHost(t, { requirePassword: true });
  fs.cpSync(path.join(open.basedir, 'nopw'), path.join(strict.basedir, 'nopw'), { recursive: true });
  await assert.rejects(openRepository(strict.url('nopw'), never), /requires a password/);
  await assert.rejects(createRepository(strict.url('other'), null, opts), /requires a password/);
});

test('a file: repository can be served later; its login is written at creation', async (t) => {
  const h = await startHost(t);
  const local = await createRepository(path.join(h.basedir, 'moved'), PW, opts);
  const src = path.join(h.dir, 'src');
  makeTree(src);
  await backupTree(local, src);
  await local.session.close();
  const remote = await openRepository(h.url('moved'), pw(PW));
  assert.equal((await remote.session.listSets()).length, 1);
  await remote.session.close();
});

test('one backup per client at a time; --force takes over; reads run alongside', async (t) => {
  const h = await startHost(t);
  await (await createRepository(h.url('dup'), PW, opts)).session.close();
  const a = await openRepository(h.url('dup'), pw(PW));
  const b = await openRepository(h.url('dup'), pw(PW));
  t.after(() => Promise.all([a.session.close(), b.session.close()]));
  const req = { tags: [], full: false, clientTime: Date.now(), clientVersion: 'test' };
  await a.session.beginBackup(req);
  await assert.rejects(b.session.beginBackup(req), (err: Error) => err instanceof LockedError && /already backing up/.test(err.message));
  assert.deepEqual(await b.session.listSets(), (await a.session.listSets()));
  const taken = await b.session.beginBackup({ ...req, force: true });
  assert.equal(taken.resumed, true, 'the set the first backup left is resumed');
  await assert.rejects(a.session.listSets(), /took over/);
});

test('ssh:// runs the remote tardisd --stdio through ssh', async (t) => {
  const { dir, cleanup } = tempDir('tardis-ssh-');
  t.after(cleanup);
  const bin = path.join(dir, 'bin');
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(bin);
  fs.mkdirSync(basedir);
  const argsLog = path.join(dir, 'args');
  // No sshd here: this `ssh` runs the server half locally, as sshd would run `tardisd --stdio`:
  // the built bin/tardisd when there is one, else the same host in a small script.
  const tardisd = path.join(ROOT, 'bin/tardisd');
  const server = fs.existsSync(tardisd) && !fs.readFileSync(tardisd, 'utf8').includes('not built yet')
    ? `"${tardisd}" --stdio --basedir "${basedir}" --allow-new-hosts`
    : `"${process.execPath}" "${path.join(ROOT, 'internal/remote/testdata/stdio-host.ts')}"`;
  fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\necho "$*" >> "${argsLog}"\nexec ${server} 2>>"${path.join(dir, 'tardisd.log')}"\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, TARDIS_TEST_BASEDIR: basedir };
  const url = 'ssh://backup@fileserver:2222/pi';
  const c = await createRepository(url, PW, { ...opts, env });
  const src = path.join(dir, 'src');
  makeTree(src);
  const done = await backupTree(c, src);
  await c.session.close();
  const r = await openRepository(url, pw(PW), { env });
  t.after(() => r.session.close());
  await restoreTree(r, done.setId, path.join(dir, 'out'));
  await assertSameTree(src, path.join(dir, 'out/src'));
  const calls = fs.readFileSync(argsLog, 'utf8').trim().split('\n');
  assert.equal(calls[0], '-p 2222 -- backup@fileserver tardisd --stdio');
  const noSsh = { ...env, PATH: '/nonexistent' };
  await assert.rejects(openRepository(url, pw(PW), { env: noSsh }), (err: Error) => err instanceof ConnectionError && /cannot run ssh|without a greeting/.test(err.message));
});

test('TLS: announced by the server; certificates checked only with validateCerts', async (t) => {
  const { dir, cleanup } = tempDir('tardis-tls-');
  t.after(cleanup);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const abort = new AbortController();
  const srv = net.createServer((sock) => {
    void serveConnection(sock, { basedir, allowNewHosts: true, tls: { key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, signal: abort.signal, authFailDelayMs: 0 });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => {
    abort.abort();
    return new Promise((r) => srv.close(r));
  });
  const url = `tardis://127.0.0.1:${(srv.address() as net.AddressInfo).port}/tls`;
  const c = await createRepository(url, PW, { ...opts, validateCerts: false });
  await c.session.close();
  await assert.rejects(openRepository(url, pw(PW), { validateCerts: true }), /TLS .* failed: .*self-signed/i);
  const v = await openRepository(url, pw(PW), { validateCerts: true, ca: fs.readFileSync(cert) });
  assert.equal((await v.session.info()).client, 'tls');
  await v.session.close();
});

test('connecting to nothing, or to something that is not tardisd, fails at once and clearly', async (t) => {
  const { dir, cleanup } = tempDir('tardis-conn-');
  t.after(cleanup);
  await assert.rejects(openRepository(`unix:${dir}/none.sock/c`, never), /no such socket/);
  const http = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => http.listen(path.join(dir, 'http.sock'), r));
  t.after(() => new Promise((r) => http.close(r)));
  await assert.rejects(openRepository(`unix:${dir}/http.sock/c`, never), /is not a tardisd server \(it sent "HTTP\/1\.1 400/);
  const py = net.createServer((s) => s.end('TARDIS 1.6\n'));
  await new Promise<void>((r) => py.listen(path.join(dir, 'py.sock'), r));
  t.after(() => new Promise((r) => py.close(r)));
  await assert.rejects(openRepository(`unix:${dir}/py.sock/c`, never), /Tardis \(Python\) server/);
});

test('serveSession serves any RepoSession over a plain connection', async (t) => {
  const { dir, cleanup } = tempDir('tardis-serve-');
  t.after(cleanup);
  const local = await createRepository(path.join(dir, 'repo', 'c'), PW, opts);
  const src = path.join(dir, 'src');
  makeTree(src);
  await backupTree(local, src);
  const sock = path.join(dir, 's');
  let served: Promise<void> = Promise.resolve();
  const srv = net.createServer((s) => {
    served = serveSession(new Connection(s, { role: 'server' }), local.session);
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  t.after(() => new Promise((r) => srv.close(r)));
  const remote = new RemoteSession(new Connection(net.connect(sock), { role: 'client' }));
  const sets = await remote.listSets();
  assert.equal(sets.length, 1);
  const conn = { url: local.url, session: remote, keyring: local.keyring };
  await restoreTree(conn, sets[0].id, path.join(dir, 'out'));
  await assertSameTree(src, path.join(dir, 'out/src'));
  await remote.close();
  await served;
});

test('a password prompt that outlasts the login timeout dials again instead of failing', async (t) => {
  // Generous against a loaded machine: the dial and login themselves must fit the timeout.
  const h = await startHost(t, { handshakeTimeoutMs: 1500 });
  await (await createRepository(h.url('slow'), PW, opts)).session.close();
  let asked = 0;
  const slowTyping = async () => {
    asked++;
    await new Promise((r) => setTimeout(r, 2500));
    return PW;
  };
  const conn = await openRepository(h.url('slow'), slowTyping);
  assert.equal(asked, 1);
  assert.equal((await conn.session.listSets()).length, 0);
  await conn.session.close();
  assert.ok(h.logs.some((l) => /no login within/.test(l)));
});

test('listings stream ahead by DirRef; with a protocol-1 server the client resolves them itself', async (t) => {
  const h = await startHost(t);
  const src = path.join(h.dir, 'src');
  makeTree(src);
  for (let d = 0; d < 50; d++) fs.mkdirSync(path.join(src, 'wide', `d${d}`, 'sub'), { recursive: true });
  const created = await createRepository(h.url('pipe'), PW, opts);
  await created.session.close();
  for (const version of [2, 1]) {
    const conn = await openRepository(h.url('pipe'), pw(PW));
    const remote = conn.session as RemoteSession;
    assert.equal(remote.conn.version, 2);
    remote.conn.version = version; // as if the server spoke only protocol 1
    fs.writeFileSync(path.join(src, 'wide', 'd7', 'sub', `v${version}`), `protocol ${version}\n`);
    const b = await backupTree(conn, src);
    assert.equal(b.stats.dirs, 8 + 1 + 50 * 2, 'every directory listed once (src and its 7, wide, 50 × 2)');
    const out = path.join(h.dir, `out${version}`);
    assert.equal((await restoreTree(conn, b.setId, out)).failed, 0);
    await assertSameTree(src, path.join(out, 'src'));
    await conn.session.close();
  }
});

test('a DirRef that names no waiting directory is refused, and the session goes on', async (t) => {
  const h = await startHost(t);
  const conn = await createRepository(h.url('refs'), PW, opts);
  t.after(() => conn.session.close());
  const s = conn.session;
  await s.beginBackup({ tags: [], full: false, clientTime: Date.now(), clientVersion: 'test' });
  const dirEntry = new EntryEncoder(conn.keyring).encode(entryFromStats(Buffer.from('a'), fs.lstatSync(h.dir, { bigint: true })));
  const top = await s.sendDir({ dir: 0, ref: 1, partial: false, hash: null, entries: [dirEntry] });
  assert.ok(top.nodes[0]! > 0);
  await assert.rejects(s.sendDir({ dir: { ref: 9, index: 0 }, partial: false, hash: null, entries: [] }), /not a directory waiting/);
  await assert.rejects(s.sendDir({ dir: 0, ref: 1, partial: false, hash: null, entries: [dirEntry] }), /already in use/);
  const child = await s.sendDir({ dir: { ref: 1, index: 0 }, partial: false, hash: null, entries: [] });
  assert.equal(child.dir, top.nodes[0]);
  await assert.rejects(s.sendDir({ dir: { ref: 1, index: 0 }, partial: false, hash: null, entries: [] }), /not a directory waiting/, 'a DirRef is used once');
  await s.abortBackup('test');
});
