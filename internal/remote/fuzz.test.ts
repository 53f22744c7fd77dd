// The server side under hostile input: random bytes, truncated frames, huge declared lengths,
// valid frames of the wrong type, out of order, before the login, and with bad bodies after it.
// The (in-process) server must not crash, must drop only the offending connection, must not
// grow without bound, and must keep serving a well-behaved client all along.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import fc from 'fast-check';
import { runBackup } from '../backup/index.ts';
import { createRepository, openRepository } from '../connect/connect.ts';
import { TardisError } from '../errors/errors.ts';
import { decodeBody, encodeBody, type Message } from '../protocol/codec.ts';
import { ConnectionError } from '../protocol/errors.ts';
import { encodeFrame, FrameDecoder } from '../protocol/frame.ts';
import { PROTOCOL_VERSION } from '../version/version.ts';
import { SESSION_REQUESTS } from './serve.ts';
import { seededBytes, write } from '../testkit/fixtures.ts';
import { backupTree, makeTree, PW, SMALL_CHUNKS, startHost, type TestHost } from './testutil.ts';

const frame = (m: unknown) => encodeFrame(encodeBody(m));
const HELLO = frame({
  t: 'hello', id: 0, program: 'tardis-ts', release: 'fuzz', role: 'client', version: PROTOCOL_VERSION, min: 1,
  features: ['zstd'], window: 1 << 20, maxFrame: 1 << 20, maxRequests: 8,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw client: skips the greeting, collects the server's messages. */
class Raw {
  readonly sock: net.Socket;
  readonly got: Message[] = [];
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private greeted = false;
  private readonly dec = new FrameDecoder();

  constructor(socketPath: string) {
    this.sock = net.connect(socketPath);
    this.sock.on('error', () => undefined);
    this.closed = new Promise((r) => this.sock.on('close', () => r()));
    this.sock.on('data', (d: Buffer) => {
      if (!this.greeted) {
        this.buf = Buffer.concat([this.buf, d]);
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        this.greeted = true;
        d = this.buf.subarray(nl + 1);
      }
      for (const f of this.dec.push(d)) this.got.push(decodeBody(f.payload));
    });
  }

  async reply(re: number, ms = 2000): Promise<Message> {
    for (let waited = 0; waited < ms; waited += 5) {
      const m = this.got.find((x) => x.re === re || (x.t === 'error' && x.re === undefined));
      if (m) return m;
      await sleep(5);
    }
    throw new Error(`no reply to ${re}`);
  }

  /** Writes, lets the server react briefly, then hangs up. */
  async send(bytes: Buffer[], linger = 15): Promise<void> {
    for (const b of bytes) if (!this.sock.destroyed) this.sock.write(b);
    await Promise.race([this.closed, sleep(linger)]);
    this.sock.destroy();
    await this.closed;
  }
}

const anyMessage = fc.record({
  t: fc.oneof(fc.constantFrom(...SESSION_REQUESTS, 'login', 'proof', 'create', 'hello', 'ok', 'error', 'credit', 'ping'), fc.string({ maxLength: 80 })),
  id: fc.oneof(fc.nat(50), fc.integer(), fc.double(), fc.constant(null)),
  re: fc.option(fc.nat(50), { nil: undefined }),
  client: fc.option(fc.oneof(fc.constantFrom('nopw', 'good', '../good', '', '.'), fc.string({ maxLength: 300 })), { nil: undefined }),
  setId: fc.option(fc.oneof(fc.nat(5), fc.double(), fc.string()), { nil: undefined }),
  ids: fc.option(fc.array(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.nat()), { maxLength: 20 }), { nil: undefined }),
  entries: fc.option(fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'mode', 'size', 'ino', 'x'), fc.oneof(fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.string())), { maxLength: 5 }), { nil: undefined }),
  dir: fc.option(fc.oneof(fc.nat(10), fc.constant(-1)), { nil: undefined }),
  n: fc.option(fc.integer(), { nil: undefined }),
  v: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
});

const junk = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 40 }));
const plausibleEntry = fc.record({
  name: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 20 }), junk), type: fc.oneof(fc.nat(6), junk), mode: fc.nat(0o777), uid: fc.nat(), gid: fc.nat(),
  user: fc.constant(null), group: fc.constant(null), size: fc.oneof(fc.nat(), junk), mtimeS: fc.nat(), mtimeNs: fc.oneof(fc.nat(999_999_999), junk),
  ctimeS: fc.nat(), ctimeNs: fc.nat(999_999_999), atimeS: fc.nat(), atimeNs: fc.nat(999_999_999), ino: fc.nat(), dev: fc.nat(), nlink: fc.nat(3),
  rdev: fc.nat(), target: fc.constant(null),
}, { requiredKeys: [] });
const id32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** A session request with fields that are often right and sometimes not. */
const sessionRequest = fc.record({
  t: fc.constantFrom(...SESSION_REQUESTS),
  dir: fc.oneof(fc.nat(20), junk), partial: fc.oneof(fc.boolean(), junk), hash: fc.oneof(fc.constant(null), id32, junk),
  entries: fc.oneof(fc.array(plausibleEntry, { maxLength: 4 }), junk),
  ids: fc.oneof(fc.array(fc.oneof(id32, junk), { maxLength: 6 }), junk),
  chunks: fc.oneof(fc.array(fc.record({ id: fc.oneof(id32, junk), type: fc.nat(3), blob: fc.uint8Array({ minLength: 1, maxLength: 64 }) }), { maxLength: 3 }), junk),
  files: fc.oneof(fc.array(fc.record({ dir: fc.nat(5), entry: plausibleEntry, hash: fc.oneof(id32, fc.constant(null)), chunks: fc.array(id32, { maxLength: 2 }) }), { maxLength: 3 }), junk),
  tags: fc.oneof(fc.constant([]), fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 2 }), junk),
  full: fc.oneof(fc.boolean(), junk), clientTime: fc.oneof(fc.nat(), junk), clientVersion: fc.oneof(fc.constant('fuzz'), junk), force: fc.boolean(),
  stats: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.nat(), { maxKeys: 3 }), junk), snapshot: fc.oneof(fc.constant(null), junk),
  reason: fc.oneof(fc.string({ maxLength: 30 }), junk), setId: fc.oneof(fc.nat(4), junk), after: fc.oneof(fc.nat(), junk),
  limit: fc.oneof(fc.nat(20_000), junk), name: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), junk),
}, { requiredKeys: ['t'] });

/** What a fuzz case sends after the greeting. */
const attack = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({ kind: fc.constant('hello+bytes' as const), bytes: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({ kind: fc.constant('huge' as const), len: fc.integer({ min: 65 << 10, max: 0x7fff_ffff }), compressed: fc.boolean() }),
  fc.record({ kind: fc.constant('truncated' as const), msg: anyMessage, cut: fc.nat() }),
  fc.record({ kind: fc.constant('messages' as const), msgs: fc.array(anyMessage, { minLength: 1, maxLength: 6 }), hello: fc.boolean(), ordered: fc.boolean() }),
  fc.record({ kind: fc.constant('after-login' as const), msgs: fc.array(fc.oneof(sessionRequest, sessionRequest, anyMessage), { minLength: 1, maxLength: 6 }) }),
);

type Attack = typeof attack extends fc.Arbitrary<infer T> ? T : never;

async function runAttack(h: TestHost, a: Attack): Promise<void> {
  const r = new Raw(h.socket);
  switch (a.kind) {
    case 'bytes': return r.send([Buffer.from(a.bytes)]);
    case 'hello+bytes': return r.send([HELLO, Buffer.from(a.bytes)]);
    case 'huge': {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(((a.compressed ? 0x8000_0000 : 0) | a.len) >>> 0);
      return r.send([HELLO, head, Buffer.alloc(1000)]);
    }
    case 'truncated': {
      const f = frame(a.msg);
      return r.send([HELLO, f.subarray(0, a.cut % f.length)]);
    }
    case 'messages': return r.send([...(a.hello ? [HELLO] : []), ...a.msgs.map((m, i) => frame(a.ordered ? { ...m, id: i + 1 } : m))]);
    case 'after-login': {
      r.sock.write(HELLO);
      r.sock.write(frame({ t: 'login', id: 1, client: 'nopw' }));
      const ok = await r.reply(1);
      assert.equal(ok.t, 'ok', JSON.stringify(ok));
      return r.send(a.msgs.map((m, i) => frame({ ...m, id: i + 2, re: undefined })), 30);
    }
  }
}

test('fuzzing the server: it never crashes, stays bounded, and keeps serving others', async (t) => {
  const h = await startHost(t, { handshakeTimeoutMs: 2000 });
  const src = path.join(h.dir, 'src');
  makeTree(src);
  await (await createRepository(h.url('nopw'), null, { scryptN: 1024, chunker: SMALL_CHUNKS })).session.close();
  const good = await createRepository(h.url('good'), PW, { scryptN: 1024, chunker: SMALL_CHUNKS });
  t.after(() => good.session.close());

  // The well-behaved client backs up and lists sets the whole time.
  let stop = false;
  let rounds = 0;
  const worker = (async () => {
    while (!stop) {
      await backupTree(good, src);
      assert.ok((await good.session.listSets()).every((s) => s.completed));
      rounds++;
    }
  })();

  const rssBefore = process.memoryUsage().rss;
  await fc.assert(fc.asyncProperty(attack, async (a) => runAttack(h, a)), { numRuns: 200 });
  // Specific cases: every session request before a login, a hello as long as a frame may be.
  for (const [i, type] of SESSION_REQUESTS.entries()) {
    const r = new Raw(h.socket);
    r.sock.write(HELLO);
    r.sock.write(frame({ t: type, id: i + 1, setId: 1 }));
    const err = await r.reply(i + 1);
    assert.match(String(err.message), /before a login/);
    await r.closed;
  }
  stop = true;
  await worker;
  assert.ok(rounds >= 1);
  // Every hostile connection is gone; only the good one is left.
  for (let i = 0; i < 200 && h.active() > 1; i++) await sleep(10);
  assert.equal(h.active(), 1);
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 256 << 20, `rss grew by ${grown >> 20} MiB`);
  assert.ok(!h.logs.some((l) => /^error:/.test(l)), h.logs.filter((l) => /^error:/.test(l)).join('\n'));
  // Bad bodies after the login were refused before the engine saw them.
  assert.ok(h.logs.some((l) => /bad \w+ request/.test(l)), 'bodies were checked');
});

test('a connection cut mid-backup gives a clear error at once; the next backup resumes', async (t) => {
  const h = await startHost(t);
  const src = path.join(h.dir, 'src');
  makeTree(src);
  const c = await createRepository(h.url('cut'), PW, { scryptN: 1024, chunker: SMALL_CHUNKS });
  let dropped = false;
  const started = Date.now();
  await assert.rejects(
    runBackup(c.session, c.keyring, {
      roots: [src], basePath: 'none',
      onProgress: () => {
        if (!dropped) {
          dropped = true;
          h.drop();
        }
      },
    }),
    (err: Error) => err instanceof ConnectionError && /connection (to|closed).*tardisd|closed by tardisd/.test(err.message),
  );
  assert.ok(Date.now() - started < 5000);
  await c.session.close();
  for (let i = 0; i < 200 && h.active() > 0; i++) await sleep(10);
  const again = await openRepository(h.url('cut'), async () => PW);
  const done = await backupTree(again, src);
  assert.equal(done.resumed, true);
  await again.session.close();

  // A server shutting down tells the client so.
  const last = await openRepository(h.url('cut'), async () => PW);
  await h.stop();
  await assert.rejects(last.session.listSets(), (err: Error) => err instanceof TardisError && /shutting down/.test(err.message));
  await last.session.close();
});

test('a client that asks for much and reads nothing holds a bounded amount of server memory', async (t) => {
  const h = await startHost(t);
  const src = path.join(h.dir, 'src');
  write(path.join(src, 'data'), seededBytes(4 << 20, 'bulk'));
  const c = await createRepository(h.url('greedy'), null, { scryptN: 1024, chunker: SMALL_CHUNKS });
  const done = await backupTree(c, src);
  await c.session.close();

  const r = new Raw(h.socket);
  r.sock.write(frame({
    t: 'hello', id: 0, program: 'tardis-ts', release: 'greedy', role: 'client', version: PROTOCOL_VERSION, min: 1,
    features: [], window: Number.MAX_SAFE_INTEGER, maxFrame: 1 << 30, maxRequests: 1000,
  }));
  r.sock.write(frame({ t: 'login', id: 1, client: 'greedy' }));
  assert.equal((await r.reply(1)).t, 'ok');
  r.sock.write(frame({ t: 'setVersions', id: 2, setId: done.setId, after: 0, limit: 100 }));
  const page = (await r.reply(2)).v as { entries: { chunks: Buffer | null }[] };
  const chunks = Buffer.concat(page.entries.map((e) => e.chunks ?? Buffer.alloc(0)));
  const ids: Buffer[] = [];
  for (let i = 0; i < chunks.length; i += 32) ids.push(chunks.subarray(i, i + 32));
  assert.ok(ids.length > 30);
  // Stop reading, then ask 200 times for all 4 MiB.
  r.sock.pause();
  const before = process.memoryUsage().rss;
  for (let id = 3; id < 203; id++) r.sock.write(frame({ t: 'readChunks', id, ids }));
  await sleep(800);
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 300 << 20, `rss grew by ${grown >> 20} MiB for 800 MiB of asked-for replies`);
  r.sock.destroy();
  for (let i = 0; i < 200 && h.active() > 0; i++) await sleep(10);
  assert.equal(h.active(), 0);
});
