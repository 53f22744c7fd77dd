import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import { LockedError, NotFoundError, TardisError } from '../errors/errors.ts';
import { decodeBody, encodeBody, type Message } from './codec.ts';
import { Connection, type ConnectionOptions, type Limits } from './connection.ts';
import { ConnectionError, ProtocolError } from './errors.ts';
import { encodeFrame, FrameDecoder } from './frame.ts';
import { PROTOCOL_VERSION } from '../version/version.ts';

interface Served {
  path: string;
  conns: Connection[];
  logs: string[];
}

/** A Unix-socket server whose connections use `opts`; closed when the test ends. */
async function server(t: TestContext, opts: Partial<ConnectionOptions> = {}): Promise<Served> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tardis-proto-'));
  const sockPath = path.join(dir, 's');
  const out: Served = { path: sockPath, conns: [], logs: [] };
  const srv = net.createServer((sock) => {
    out.conns.push(new Connection(sock, { role: 'server', log: (_l, m) => out.logs.push(m), ...opts }));
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  t.after(async () => {
    for (const c of out.conns) c.close();
    await new Promise((r) => srv.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  return out;
}

function client(t: TestContext, sockPath: string, limits: Partial<Limits> = {}): Connection {
  const c = new Connection(net.connect(sockPath), { role: 'client', limits });
  t.after(() => c.close());
  return c;
}

const frame = (m: Message) => encodeFrame(encodeBody(m));
const hello = (over: Message = {}) => frame({
  t: 'hello', id: 0, program: 'tardis-ts', release: 'test', role: 'client', version: PROTOCOL_VERSION, min: 1,
  features: [], window: 1 << 20, maxFrame: 1 << 20, maxRequests: 16, ...over,
});

/** A raw socket speaking frames by hand; collects the frames it receives. */
async function raw(t: TestContext, sockPath: string): Promise<{ sock: net.Socket; got: Message[]; ended: Promise<void> }> {
  const sock = net.connect(sockPath);
  const got: Message[] = [];
  const dec = new FrameDecoder();
  sock.on('data', (d: Buffer) => {
    for (const f of dec.push(d)) got.push(decodeBody(f.payload));
  });
  sock.on('error', () => undefined);
  const ended = new Promise<void>((r) => sock.on('close', () => r()));
  await new Promise((r) => sock.once('connect', r));
  t.after(() => sock.destroy());
  return { sock, got, ended };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('requests pipeline and replies find their callers, errors keep their class', async (t) => {
  const s = await server(t, {
    onRequest: async (type, m) => {
      if (type === 'echo') {
        await sleep(Math.random() * 20);
        return { n: m.n, data: m.data };
      }
      if (type === 'missing') throw new NotFoundError(`no set named ${String(m.name)}`);
      if (type === 'locked') throw new LockedError('busy');
      if (type === 'bug') throw new Error('kaboom');
      throw new ProtocolError(`unknown request '${type}'`);
    },
  });
  const c = client(t, s.path);
  const hello = await c.ready;
  assert.equal(hello.role, 'server');
  const replies = await Promise.all(Array.from({ length: 100 }, (_, n) => c.request('echo', { n, data: Buffer.alloc(n, n) })));
  replies.forEach((r, n) => assert.deepEqual(r, { n, data: Buffer.alloc(n, n) }));

  await assert.rejects(c.request('missing', { name: 'Monthly' }), (err: Error) => {
    assert.ok(err instanceof NotFoundError);
    assert.equal(err.message, 'no set named Monthly');
    assert.equal((err as TardisError).exitCode, 2);
    return true;
  });
  await assert.rejects(c.request('locked'), LockedError);
  await assert.rejects(c.request('bug'), (err: Error) => err instanceof TardisError && /server error: kaboom/.test(err.message));
  // The connection survives a failed request; an unknown one ends it.
  assert.deepEqual(await c.request('echo', { n: 1 }), { n: 1, data: null });
  await assert.rejects(c.request('nonsense'), /unknown request 'nonsense'/);
  assert.match(String(await c.closed), /unknown request/);
  assert.ok(s.logs.some((l) => /unknown request/.test(l)));
});

test('credit: a sender never has more than the window in flight', async (t) => {
  let active = 0;
  let maxActive = 0;
  const limits = { maxFrame: 64 << 10, window: (64 << 10) + 4 };
  const s = await server(t, {
    limits,
    onRequest: async (_type, m) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(2);
      active--;
      return (m.data as Buffer).length;
    },
  });
  const c = client(t, s.path, limits);
  const sizes = await Promise.all(Array.from({ length: 30 }, () => c.request('put', { data: randomBytes(40 << 10) })));
  assert.ok(sizes.every((n) => n === 40 << 10));
  // Two 40 KiB requests never fit a 64 KiB window together.
  assert.equal(maxActive, 1);
  await assert.rejects(c.request('put', { data: randomBytes(70 << 10) }), /too large/);
});

test('a peer that sends beyond its credit is cut off; the server goes on', async (t) => {
  const s = await server(t, { limits: { maxFrame: 1 << 16 }, onRequest: () => sleep(1000) });
  const r = await raw(t, s.path);
  r.sock.write(hello());
  for (let id = 1; id <= 4; id++) r.sock.write(frame({ t: 'put', id, data: Buffer.alloc(60_000) }));
  await r.ended;
  const err = r.got.find((m) => m.t === 'error');
  assert.match(String(err?.message), /without credit/);
  const c = client(t, s.path);
  assert.equal((await c.ready).role, 'server');
});

test('out-of-order, misplaced and unknown messages end only that connection', async (t) => {
  const s = await server(t, { onRequest: (type) => type });
  const cases: [Buffer[], RegExp][] = [
    [[frame({ t: 'x', id: 1 })], /expected a hello first/],
    [[hello(), hello()], /second hello/],
    [[hello(), frame({ t: 'a', id: 5 }), frame({ t: 'b', id: 5 })], /out of order/],
    [[hello(), frame({ t: 'ok', id: 1, re: 77, v: 1 })], /reply to no request/],
    [[hello(), frame({ t: 'credit', id: 0, n: -1 })], /malformed credit/],
    [[hello(), frame({ t: 'ping', id: 3 })], /control messages have id 0/],
    [[hello(), frame({ id: 1 })], /without a type/],
    [[hello({ version: 99, min: 99 })], /incompatible protocol.*upgrade the server/],
    [[hello({ role: 'server' })], /is a server too/],
    [[hello({ program: 'curl' })], /not a Tardis program/],
    [[hello({ window: 'lots' })], /malformed hello/],
    [[Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], /over the limit/],
  ];
  for (const [frames, why] of cases) {
    const r = await raw(t, s.path);
    for (const f of frames) r.sock.write(f);
    await r.ended;
    const err = r.got.find((m) => m.t === 'error');
    assert.match(String(err?.message), why);
  }
  const c = client(t, s.path);
  assert.equal(await c.request('still-here'), 'still-here');
});

test('the client reports an incompatible server clearly', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tardis-proto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sockPath = path.join(dir, 's');
  const srv = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.resume();
    sock.write(hello({ role: 'server', version: 7, min: 5, release: '9.0' }));
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  t.after(() => new Promise((r) => srv.close(r)));
  const c = client(t, sockPath);
  await assert.rejects(c.ready, /incompatible protocol: the server \(tardis-ts 9\.0\) speaks versions 5-7, this client .* upgrade the client/);
  await assert.rejects(c.request('x'), ProtocolError);
});

test('timeouts: no hello, then silence after the hello', async (t) => {
  const s = await server(t, { limits: { handshakeTimeoutMs: 150, idleTimeoutMs: 200 }, onRequest: () => 1 });
  const quiet = await raw(t, s.path);
  await quiet.ended;
  assert.match(String(quiet.got.find((m) => m.t === 'error')?.message), /no hello/);
  const mute = await raw(t, s.path);
  mute.sock.write(hello());
  await mute.ended;
  assert.ok(mute.got.some((m) => m.t === 'ping'), 'the server pings while idle');
  assert.match(String(mute.got.find((m) => m.t === 'error')?.message), /sent nothing for/);
  // A live client keeps a quiet connection open with pings.
  const c = client(t, s.path, { idleTimeoutMs: 200 });
  await c.ready;
  await sleep(500);
  assert.equal(await c.request('x'), 1);
});

test('a dropped connection fails the waiting requests at once', async (t) => {
  const s = await server(t, { onRequest: () => new Promise(() => undefined) });
  const c = client(t, s.path);
  await c.ready;
  const waiting = c.request('forever');
  await sleep(20);
  for (const sc of s.conns) sc.fail(new ConnectionError('going away'));
  await assert.rejects(waiting, (err: Error) => err instanceof ConnectionError && /going away/.test(err.message));
  await assert.rejects(c.request('more'), ConnectionError);
});

test('a server that vanishes mid-request gives a connection error, not a hang', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tardis-proto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sockPath = path.join(dir, 's');
  const sockets: net.Socket[] = [];
  const srv = net.createServer((sock) => {
    sockets.push(sock);
    new Connection(sock, { role: 'server', onRequest: () => new Promise(() => undefined) });
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  t.after(() => new Promise((r) => srv.close(r)));
  const c = client(t, sockPath);
  await c.ready;
  const waiting = c.request('forever');
  await sleep(20);
  sockets[0].destroy();
  await assert.rejects(waiting, /closed by the server before it replied/);
});

test('orderly close waits for replies, then ends', async (t) => {
  const s = await server(t, { onRequest: async () => { await sleep(30); return 'done'; } });
  const c = client(t, s.path);
  const r = c.request('slow');
  await c.ready;
  await sleep(5);
  c.close();
  assert.equal(await r, 'done');
  assert.equal(await c.closed, null);
});
