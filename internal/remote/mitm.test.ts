// A man in the middle of a plain (non-TLS) connection, after the client's SRP login: every
// request and reply is MACed with the session key, so an injected, altered or replayed frame
// ends the connection before the engine sees it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import { createRepository, openRepository } from '../connect/connect.ts';
import { encodeBody } from '../protocol/codec.ts';
import { encodeFrame } from '../protocol/frame.ts';
import { backupTree, makeTree, PW, SMALL_CHUNKS, startHost } from './testutil.ts';

const opts = { scryptN: 1024, chunker: SMALL_CHUNKS };

type Tamper = (chunk: Buffer) => Buffer[];

/** A relay between clients and the host's socket; `toServer` may rewrite what clients send once armed. */
async function relay(t: TestContext, target: string, dir: string): Promise<{ url: (c: string) => string; arm: (f: Tamper) => void; sent: Buffer[] }> {
  const socket = path.join(dir, 'relay.sock');
  let tamper: Tamper | null = null;
  const sent: Buffer[] = [];
  const srv = net.createServer((client) => {
    const server = net.connect(target);
    client.on('data', (d: Buffer) => {
      sent.push(d);
      const f = tamper;
      tamper = null;
      for (const part of f ? f(d) : [d]) server.write(part);
    });
    server.on('data', (d: Buffer) => client.write(d));
    for (const [a, b] of [[client, server], [server, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((r) => srv.listen(socket, r));
  t.after(() => new Promise((r) => srv.close(r)));
  return { url: (c) => `unix:${socket}/${c}`, arm: (f) => (tamper = f), sent };
}

async function setup(t: TestContext) {
  const h = await startHost(t);
  const r = await relay(t, h.socket, h.dir);
  const src = path.join(h.dir, 'src');
  makeTree(src);
  const c = await createRepository(h.url('box'), PW, opts);
  await backupTree(c, src);
  await c.session.close();
  return { h, r };
}

const forged = (type: string, id: number, body: Record<string, unknown>) => encodeFrame(encodeBody({ ...body, t: type, id }));

test('after the login, an injected request (without the MAC) ends the connection and is never run', async (t) => {
  const { h, r } = await setup(t);
  const conn = await openRepository(r.url('box'), async () => PW);
  assert.equal((await conn.session.listSets()).length, 1, 'the relay itself is transparent');
  // The attacker slips a deleteSets in front of the client's next request.
  r.arm((d) => [forged('deleteSets', 1_000_000, { ids: [1] }), d]);
  await assert.rejects(conn.session.listSets(), /without a MAC after the login|tampered/);
  await conn.session.close().catch(() => undefined);
  assert.ok(h.logs.some((l) => /without a MAC after the login/.test(l)), h.logs.join('\n'));
  const again = await openRepository(h.url('box'), async () => PW);
  assert.equal((await again.session.listSets()).length, 1, 'the forged delete did not run');
  await again.session.close();
});

test('after the login, an altered or replayed frame fails its MAC', async (t) => {
  const { h, r } = await setup(t);
  const altered = await openRepository(r.url('box'), async () => PW);
  r.arm((d) => {
    const x = Buffer.from(d);
    x[x.length - 20] ^= 0x01; // inside the payload, before the 16-byte MAC
    return [x];
  });
  await assert.rejects(altered.session.listSets(), /failed its MAC|tampered/);
  await altered.session.close().catch(() => undefined);

  const replayed = await openRepository(r.url('box'), async () => PW);
  await replayed.session.listSets();
  const last = r.sent[r.sent.length - 1]!;
  r.arm((d) => [last, d]); // the previous listSets again, MAC and all
  await assert.rejects(replayed.session.listSets(), /failed its MAC|out of order|tampered/);
  await replayed.session.close().catch(() => undefined);
  assert.ok(h.logs.some((l) => /failed its MAC/.test(l)), h.logs.join('\n'));
  assert.ok(fs.existsSync(path.join(h.basedir, 'box', 'config')));
});
