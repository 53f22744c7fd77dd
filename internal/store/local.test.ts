import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskFullError, IntegrityError, NotFoundError, UsageError } from '../errors/errors.ts';
import { LocalStore } from './index.ts';
import type { FileKind } from './index.ts';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-store-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshRoot = () => path.join(base, `repo${n++}`);

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out.sort();
}

const hex = (bytes = 16) => randomBytes(bytes).toString('hex');

test('init creates the layout and refuses an existing repository', async () => {
  const root = freshRoot();
  const store = await LocalStore.init(root);
  for (const d of ['keys', 'packs', 'snapshots', 'locks', 'tmp']) assert.ok(fs.statSync(path.join(root, d)).isDirectory());
  assert.equal(store.location(), path.resolve(root));
  await store.put('config', 'config', Buffer.from('cfg'));
  assert.ok(fs.existsSync(path.join(root, 'config')));
  await assert.rejects(LocalStore.init(root), UsageError);
});

test('put, get, getRange, stat, list and remove for every kind', async () => {
  const root = freshRoot();
  const store = await LocalStore.init(root);
  const pack = hex();
  const cases: [FileKind, string][] = [
    ['config', 'config'],
    ['keys', 'key-' + hex(4)],
    ['packs', pack],
    ['snapshots', hex(32)],
    ['locks', 'lock.1-' + hex(4)],
  ];
  for (const [kind, name] of cases) {
    const data = randomBytes(1000);
    assert.equal(await store.stat(kind, name), null);
    await store.put(kind, name, data);
    assert.deepEqual(await store.get(kind, name), data);
    assert.deepEqual(await store.getRange(kind, name, 10, 90), data.subarray(10, 100));
    assert.deepEqual(await store.getRange(kind, name, 1000, 0), Buffer.alloc(0));
    assert.deepEqual(await store.stat(kind, name), { size: 1000 });
    assert.deepEqual(await collect(store.list(kind)), [name]);
    await store.remove(kind, name);
    assert.equal(await store.stat(kind, name), null);
    assert.deepEqual(await collect(store.list(kind)), []);
    await store.remove(kind, name); // idempotent
  }
  await store.put('packs', pack, Buffer.from('x'));
  assert.ok(fs.existsSync(path.join(root, 'packs', pack.slice(0, 2), pack)), 'packs fan out by two hex chars');
  fs.rmSync(path.join(root, 'packs', pack.slice(0, 2)), { recursive: true });
  await store.put('packs', pack, Buffer.from('x')); // a fan-out directory removed behind our back
  assert.deepEqual(await collect(store.list('packs')), [pack]);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'no temp files left');
});

test('missing files and short ranges', async () => {
  const store = await LocalStore.init(freshRoot());
  const name = hex();
  await assert.rejects(store.get('packs', name), NotFoundError);
  await assert.rejects(store.getRange('packs', name, 0, 1), NotFoundError);
  await store.put('packs', name, Buffer.alloc(100, 1));
  await assert.rejects(store.getRange('packs', name, 50, 51), /truncated/);
  await assert.rejects(store.getRange('packs', name, 200, 1), IntegrityError);
  await assert.rejects(store.getRange('packs', name, -1, 1), RangeError);
});

test('packs and snapshots are immutable; keys, locks and config can be replaced', async () => {
  const store = await LocalStore.init(freshRoot());
  for (const kind of ['packs', 'snapshots'] as const) {
    const name = hex();
    await store.put(kind, name, Buffer.from('first'));
    await store.put(kind, name, Buffer.from('first')); // a retried upload succeeds
    await store.put(kind, name, Buffer.from('FIRST')); // same size: assumed the same content-addressed file
    await assert.rejects(store.put(kind, name, Buffer.from('different size')), IntegrityError);
    assert.equal((await store.get(kind, name)).toString(), 'first');
  }
  for (const kind of ['keys', 'locks'] as const) {
    await store.put(kind, 'k1', Buffer.from('old'));
    await store.put(kind, 'k1', Buffer.from('new, longer'));
    assert.equal((await store.get(kind, 'k1')).toString(), 'new, longer');
  }
  await store.put('config', 'config', Buffer.from('a'));
  await store.put('config', 'config', Buffer.from('bb'));
  assert.equal((await store.get('config', 'config')).toString(), 'bb');
});

test('invalid names are rejected before touching the disk', async () => {
  const root = freshRoot();
  const store = await LocalStore.init(root);
  const bad: [FileKind, string][] = [
    ['keys', ''],
    ['keys', '.'],
    ['keys', '..'],
    ['keys', '../config'],
    ['keys', 'a/b'],
    ['keys', 'a\\b'],
    ['keys', '.hidden'],
    ['keys', 'a..b'],
    ['keys', 'a b'],
    ['keys', 'a\0b'],
    ['keys', 'x'.repeat(200)],
    ['snapshots', '/etc/passwd'],
    ['locks', 'ü'],
    ['packs', 'ABCDEF'],
    ['packs', 'a'],
    ['packs', 'zz00'],
    ['packs', '00/../../x'],
    ['config', 'other'],
    ['bogus' as FileKind, 'x'],
  ];
  for (const [kind, name] of bad) {
    await assert.rejects(store.put(kind, name, Buffer.from('x')), UsageError, `${kind}/${name}`);
    await assert.rejects(store.get(kind, name), UsageError);
    await assert.rejects(store.stat(kind, name), UsageError);
    await assert.rejects(store.remove(kind, name), UsageError);
  }
  await assert.rejects(collect(store.list('bogus' as FileKind)), UsageError);
  assert.deepEqual(fs.readdirSync(path.join(root, 'keys')), []);
});

test('list skips stray files and misplaced packs', async () => {
  const root = freshRoot();
  const store = await LocalStore.init(root);
  const good = 'ab' + hex(15);
  await store.put('packs', good, Buffer.from('p'));
  fs.writeFileSync(path.join(root, 'packs', 'ab', 'cd' + hex(15)), 'wrong fan-out dir');
  fs.writeFileSync(path.join(root, 'packs', 'ab', 'not-hex'), 'x');
  fs.mkdirSync(path.join(root, 'packs', 'zz'));
  fs.writeFileSync(path.join(root, 'packs', 'zz', 'zz00'), 'x');
  fs.writeFileSync(path.join(root, 'packs', 'stray'), 'x');
  fs.writeFileSync(path.join(root, 'snapshots', '.partial'), 'x');
  fs.mkdirSync(path.join(root, 'snapshots', 'adir'));
  assert.deepEqual(await collect(store.list('packs')), [good]);
  assert.deepEqual(await collect(store.list('snapshots')), []);
  // Layout directories are created lazily, so a bare directory also works.
  const bare = new LocalStore(freshRoot());
  assert.deepEqual(await collect(bare.list('packs')), []);
  assert.deepEqual(await collect(bare.list('config')), []);
  await bare.put('packs', good, Buffer.from('p'));
  assert.deepEqual(await collect(bare.list('packs')), [good]);
});

test('concurrent puts of different names, and of the same immutable name', async () => {
  const store = await LocalStore.init(freshRoot());
  const files = new Map<string, Buffer>();
  // Few distinct prefixes so many writers race on creating the same fan-out directories.
  for (let i = 0; i < 300; i++) files.set(['00', '01', 'ff'][i % 3] + hex(15), randomBytes(i * 37));
  await Promise.all([...files].map(([name, data]) => store.put('packs', name, data)));
  assert.deepEqual(await collect(store.list('packs')), [...files.keys()].sort());
  for (const [name, data] of files) assert.deepEqual(await store.get('packs', name), data);

  const same = hex();
  const data = randomBytes(5000);
  await Promise.all(Array.from({ length: 20 }, () => store.put('snapshots', same, data)));
  assert.deepEqual(await store.get('snapshots', same), data);
  assert.deepEqual(fs.readdirSync(path.join(store.root, 'tmp')), []);
});

test('getRange reads past 4 GiB', async () => {
  const store = await LocalStore.init(freshRoot());
  const name = hex();
  await store.put('packs', name, Buffer.from('start'));
  // A sparse file: only the marker at 5 GiB + 3 occupies space.
  const p = path.join(store.root, 'packs', name.slice(0, 2), name);
  const fd = fs.openSync(p, 'r+');
  const at = 5 * 1024 ** 3 + 3;
  fs.writeSync(fd, Buffer.from('marker'), 0, 6, at);
  fs.closeSync(fd);
  assert.equal((await store.stat('packs', name))?.size, at + 6);
  assert.equal((await store.getRange('packs', name, at, 6)).toString(), 'marker');
  await assert.rejects(store.getRange('packs', name, at + 1, 6), /truncated/);
});

/** Writes through /dev/full, so the kernel itself returns ENOSPC. */
class DevFullStore extends LocalStore {
  protected override async writeData(fh: FileHandle, data: Uint8Array): Promise<void> {
    await fh.write(data.subarray(0, 10)); // a partial temp file exists when the failure hits
    fs.writeFileSync('/dev/full', data);
  }
}

/** Injects an over-quota error from write. */
class QuotaStore extends LocalStore {
  protected override async writeData(): Promise<void> {
    throw Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT', errno: -122 });
  }
}

test('disk full while writing leaves no temp file and nothing in place', async (t) => {
  const hasDevFull = fs.existsSync('/dev/full');
  for (const Cls of hasDevFull ? [DevFullStore, QuotaStore] : [QuotaStore]) {
    const root = freshRoot();
    await LocalStore.init(root);
    const store = new Cls(root);
    const name = hex();
    await assert.rejects(store.put('packs', name, randomBytes(100_000)), (err: unknown) => {
      assert.ok(err instanceof DiskFullError, String(err));
      assert.match(err.message, /^repository disk full: .*\/packs\/[0-9a-f]{2}\/[0-9a-f]{32}$/);
      return true;
    });
    assert.equal(await store.stat('packs', name), null);
    assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
    await assert.rejects(store.put('keys', 'k', Buffer.from('x')), DiskFullError);
    assert.deepEqual(fs.readdirSync(path.join(root, 'keys')), []);
  }
  if (!hasDevFull) t.diagnostic('/dev/full missing: only the injected error was tested');
});

// A real full filesystem needs a tiny tmpfs, which needs root (or CAP_SYS_ADMIN).
function mountTinyTmpfs(dir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tardis-test', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a real full tmpfs maps to DiskFullError (root only)', async (t) => {
  const mnt = freshRoot();
  fs.mkdirSync(mnt);
  if (!mountTinyTmpfs(mnt)) {
    t.skip('cannot mount a tmpfs here');
    return;
  }
  try {
    const store = await LocalStore.init(path.join(mnt, 'repo'));
    const name = hex();
    await store.put('packs', hex(), randomBytes(8000));
    await assert.rejects(store.put('packs', name, randomBytes(200_000)), DiskFullError);
    assert.equal(await store.stat('packs', name), null);
    assert.deepEqual(fs.readdirSync(path.join(store.root, 'tmp')), []);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('cleanTmp removes only old leftovers', async () => {
  const store = await LocalStore.init(freshRoot());
  const tmp = path.join(store.root, 'tmp');
  fs.writeFileSync(path.join(tmp, 'old'), 'killed writer');
  fs.writeFileSync(path.join(tmp, 'new'), 'writer in progress');
  const past = new Date(Date.now() - 2 * 3600_000);
  fs.utimesSync(path.join(tmp, 'old'), past, past);
  assert.equal(await store.cleanTmp(3600_000), 1);
  assert.deepEqual(fs.readdirSync(tmp), ['new']);
  assert.equal(await store.cleanTmp(0), 1);
  assert.deepEqual(fs.readdirSync(tmp), []);
  assert.equal(await new LocalStore(freshRoot()).cleanTmp(), 0);
});
