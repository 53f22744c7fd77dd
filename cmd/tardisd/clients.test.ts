// Many clients on one real tardisd: four backing up at once, each restoring exactly its own tree;
// and one client's credentials opening nothing of another's, through the commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertSameTree, backup, restore, seededBytes, write } from '../../internal/testkit/fixtures.ts';
import { peakRss } from '../../internal/testkit/kill.ts';
import { startTardisd, waitFor } from '../../internal/testkit/tardisd.ts';
import { runTool, tempDir } from '../../internal/testkit/testkit.ts';
import { DEFAULT_CHUNKER } from '../../internal/chunker/index.ts';
import { ConnectionError, ProtocolError } from '../../internal/protocol/errors.ts';
import { dial, login } from '../../internal/remote/dial.ts';

const MiB = 1 << 20;

/** A tree of its own for client `n`: a few MiB of random data, small files, a link, an empty dir. */
function makeTree(root: string, n: number): void {
  write(path.join(root, 'big'), seededBytes((2 + n) * MiB, `client-${n}-big`));
  for (let i = 0; i < 25; i++) write(path.join(root, `d${i % 4}`, `f${i}`), seededBytes(i * 1000 + n, `client-${n}-${i}`));
  write(path.join(root, 'notes.txt'), `client ${n}\n`);
  fs.symlinkSync('notes.txt', path.join(root, 'link'));
  fs.linkSync(path.join(root, 'd0', 'f0'), path.join(root, 'hard'));
  fs.mkdirSync(path.join(root, 'empty'));
  fs.chmodSync(path.join(root, 'd1'), 0o750);
}

/**
 * Every path below `dir` with its size and mtime, but the catalog's files: SQLite folds its
 * write-ahead log back whenever it releases the handle, well after the session ended (the sets
 * in the catalog are compared through `sonic list` instead).
 */
function state(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((p) => !p.startsWith('catalog.db')).sort().map((p) => {
    const st = fs.lstatSync(path.join(dir, p));
    return `${p} ${st.size} ${st.mtimeMs}`;
  });
}

test('four clients back up to one tardisd at the same time; each restores exactly its own tree', async (t) => {
  const { dir, cleanup } = tempDir('tardisd-four-');
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const d = await startTardisd(t, ['--basedir', basedir, '--address', '127.0.0.1', '--port', '0', '--allow-new-hosts', '-v']);
  const clients = [0, 1, 2, 3].map((n) => {
    const src = path.join(dir, `src${n}`);
    makeTree(src, n);
    return { n, src, url: `tardis://127.0.0.1:${d.port}/host${n}`, out: path.join(dir, `out${n}`) };
  });

  const firsts = await Promise.all(clients.map((c) => backup(c.url, ['--create', c.src])));
  for (const [i, b] of firsts.entries()) {
    assert.equal(b.stats.problems, 0);
    assert.equal(b.stats.files, 28, `client ${i}`);
  }
  assert.equal(d.stderr().match(/created a new repository$/gm)?.length, 4, d.stderr());
  // A second round at once, one tree changed: only that file is read.
  write(path.join(clients[2]!.src, 'd3', 'new'), seededBytes(MiB, 'client-2-new'));
  const seconds = await Promise.all(clients.map((c) => backup(c.url, [c.src])));
  assert.deepEqual(seconds.map((b) => b.stats.filesRead), [0, 0, 1, 0]);

  await Promise.all(clients.map((c) => restore(c.url, ['-o', c.out, c.src])));
  for (const c of clients) await assertSameTree(c.src, c.out);
  const rss = peakRss(d.pid);
  t.diagnostic(`tardisd peak RSS with four clients: ${(rss / MiB).toFixed(1)} MiB`);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
  for (const c of clients) assert.ok(fs.existsSync(path.join(basedir, `host${c.n}`, 'config')));
});

test("client A cannot list, read or write client B's repository, with or without A's credentials", async (t) => {
  const { dir, cleanup } = tempDir('tardisd-isolation-');
  t.after(cleanup);
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const sock = path.join(dir, 'tardisd.sock');
  const d = await startTardisd(t, ['--basedir', basedir, '--local', sock, '--allow-new-hosts', '-v']);
  const url = (c: string) => `unix:${sock}/${c}`;
  const src = path.join(dir, 'src');
  write(path.join(src, 'secret'), 'B only\n');
  const alice = { TARDIS_PASSWORD: 'alice password' };
  const bob = { TARDIS_PASSWORD: 'bob password' };
  await backup(url('alice'), ['--create', src], { env: alice });
  await backup(url('bob'), ['--create', src], { env: bob });
  const closed = () => (d.stderr().match(/connection \d+ closed/g) ?? []).length;
  await waitFor('the sessions to end', () => closed() === 2);
  const bobBefore = state(path.join(basedir, 'bob'));
  const bobSets = async () => (await runTool('sonic', ['list', '--json', '-R', url('bob')], { env: bob })).stdout;
  const setsBefore = await bobSets();
  assert.match(setsBefore, /"completed":true/);

  // With A's password, and with none: every command is refused at the login, and writes nothing.
  const out = path.join(dir, 'out');
  const runs: [string, string[], NodeJS.ProcessEnv][] = [];
  for (const env of [alice, { TARDIS_PASSWORD: undefined }]) {
    runs.push(
      ['tardis', ['-R', url('bob'), src], env],
      ['regenerate', ['-R', url('bob'), '-o', out, src], env],
      ['sonic', ['list', '-R', url('bob')], env],
    );
  }
  runs.push(['tardis', ['-R', url('bob'), '--create', src], alice]);
  const results = await Promise.all(runs.map(([tool, args, env]) => runTool(tool, args, { env })));
  results.forEach((r, i) => {
    const what = `${runs[i]![0]} ${runs[i]![1].join(' ')} (${runs[i]![2].TARDIS_PASSWORD ? "A's password" : 'no password'})`;
    assert.equal(r.code, /no password given/.test(r.stderr) ? 255 : 1, `${what}\n${r.stderr}`);
    assert.equal(r.stdout, '', what);
    assert.match(r.stderr, /^\S+: error: (wrong password|no password given: .*|client 'bob' already exists on this server)\n$/, what);
  });
  assert.equal(fs.existsSync(out), false);

  // Over the protocol itself (a second login as B is covered in internal/remote): creating B anew
  // is refused logged in as A, and without any login.
  const server = { kind: 'unix', socket: sock, client: 'alice' } as const;
  const config = { version: 1, id: 'ab'.repeat(16), created: new Date().toISOString(), chunker: DEFAULT_CHUNKER, aead: 'chacha20-poly1305', compression: 'zstd', encrypted: false };
  const create = { client: 'bob', config, keySlot: { kdf: 'none' }, auth: null };
  const asAlice = await dial(server);
  await login(asAlice, 'alice', async () => alice.TARDIS_PASSWORD);
  assert.equal(((await asAlice.request('info')) as { client: string }).client, 'alice');
  // The server ends the connection on a protocol error; its reply may or may not arrive first.
  await assert.rejects(asAlice.request('create', create), (e: Error) => e instanceof ProtocolError || e instanceof ConnectionError);
  await asAlice.closed;
  const anonymous = await dial(server);
  await assert.rejects(anonymous.request('create', create), /client 'bob' already exists/);
  await anonymous.closed;

  await waitFor('every connection to end', () => closed() === 3 + runs.length + 2);
  assert.deepEqual(state(path.join(basedir, 'bob')), bobBefore, "B's repository changed");
  assert.equal(await bobSets(), setsBefore);
  // B's own password still works, and B's data is B's.
  await restore(url('bob'), ['-o', out, src], { env: bob });
  assert.equal(fs.readFileSync(path.join(out, 'secret'), 'utf8'), 'B only\n');
  assert.equal((await d.stop()).code, 0);
});
