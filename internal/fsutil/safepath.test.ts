import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SafeRoot } from './safepath.ts';
import { TardisError } from '../errors/errors.ts';
import { joinPath } from '../walk/names.ts';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-safepath-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const B = (s: string) => Buffer.from(s);
const C = (...parts: string[]) => parts.map(B);

/** A fresh restore target and an "outside" directory that must stay empty. */
function setup(name: string) {
  const out = path.join(tmp, name, 'out');
  const outside = path.join(tmp, name, 'outside');
  fs.mkdirSync(out, { recursive: true });
  fs.mkdirSync(outside);
  return { out, outside, root: new SafeRoot(out) };
}

test('unsafe components are rejected before anything is touched', async () => {
  const { out, root } = setup('components');
  for (const bad of [B(''), B('.'), B('..'), B('a/b'), Buffer.from([0x61, 0, 0x62])]) {
    assert.throws(() => root.resolve([B('ok'), bad]), TardisError);
    await assert.rejects(root.mkdir([bad]), /unsafe path component/);
    await assert.rejects(root.openForWrite([B('x'), bad]), /unsafe path component/);
    await assert.rejects(root.existing([bad]), /unsafe path component/);
  }
  await assert.rejects(root.mkdir(C('..', 'escaped')), /unsafe path component "\.\."/);
  assert.deepEqual(fs.readdirSync(out), []);
  assert.ok(!fs.existsSync(path.join(tmp, 'components', 'escaped')));
  assert.ok(root.resolve(C('a', 'b')).equals(B(out + '/a/b')));
  assert.ok(new SafeRoot('/').resolve(C('etc')).equals(B('/etc')));
});

test('a symlink where a directory is expected is refused, never followed', async () => {
  const { out, outside, root } = setup('symdir');
  fs.symlinkSync(outside, path.join(out, 'a'));
  const attempts: [string, () => Promise<unknown>][] = [
    ['openForWrite', () => root.openForWrite(C('a', 'b'))],
    ['mkdir', () => root.mkdir(C('a', 'b'))],
    ['symlink', () => root.symlink(C('a', 'b'), B('x'))],
    ['mkfifo', () => root.mkfifo(C('a', 'b'))],
    ['mknod', () => root.mknod(C('a', 'b'), 'chardev', 0o600, fs.statSync('/dev/null').rdev)],
    ['existing', () => root.existing(C('a', 'b'))],
    ['applyMetadata', () => root.applyMetadata(C('a', 'b'), { type: 'file', mode: 0o777, uid: 0, gid: 0, user: null, group: null, mtimeNs: 0n, atimeNs: 0n }, { perms: true, times: true, owners: true })],
    ['remove', () => root.remove(C('a', 'b'))],
    ['deeper', () => root.openForWrite(C('a', 'b', 'c'))],
  ];
  fs.writeFileSync(path.join(outside, 'b'), 'keep'); // so that following would have something to hit
  for (const [what, fn] of attempts) {
    await assert.rejects(fn(), /a symlink is in the way at .*\/out\/a \(not followed\)/, what);
  }
  fs.writeFileSync(path.join(out, 'file'), '');
  await assert.rejects(root.openForWrite(C('file', 'x')), /not a directory at .*\/out\/file/);
  assert.deepEqual(fs.readdirSync(outside), ['b']);
  assert.equal(fs.readFileSync(path.join(outside, 'b'), 'utf8'), 'keep');
  const st = await root.existing(C('a'));
  assert.ok(st?.isSymbolicLink()); // the link itself is visible
  assert.equal(await root.existing(C('missing', 'deeper')), null);
});

test('a final symlink is never written through; remove deletes the link only', async () => {
  const { out, outside, root } = setup('symfile');
  fs.writeFileSync(path.join(outside, 'target'), 'precious');
  fs.symlinkSync(path.join(outside, 'target'), path.join(out, 'f'));
  await assert.rejects(root.openForWrite(C('f')), /already exists/);
  await assert.rejects(root.mkdir(C('f')), /already exists/);
  await assert.rejects(root.link(C('f'), C('f')), /already exists/);
  await root.remove(C('f'));
  await root.remove(C('f')); // idempotent
  const fd = await root.openForWrite(C('f'));
  fs.writeFileSync(fd, 'new');
  fs.closeSync(fd);
  assert.equal(fs.readFileSync(path.join(out, 'f'), 'utf8'), 'new');
  assert.equal(fs.readFileSync(path.join(outside, 'target'), 'utf8'), 'precious');
  // A directory holding a symlink to outside: removed recursively, outside untouched.
  fs.mkdirSync(path.join(out, 'd'));
  fs.symlinkSync(outside, path.join(out, 'd', 'escape'));
  await root.remove(C('d'));
  assert.ok(!fs.existsSync(path.join(out, 'd')));
  assert.deepEqual(fs.readdirSync(outside), ['target']);
  await assert.rejects(root.remove([]), /restore target itself/);
});

test('a directory swapped for a symlink mid-restore is not followed', async () => {
  const { out, outside, root } = setup('swap');
  await root.mkdir(C('d'));
  fs.closeSync(await root.openForWrite(C('d', 'x')));
  fs.renameSync(path.join(out, 'd'), path.join(tmp, 'swap', 'moved'));
  fs.symlinkSync(outside, path.join(out, 'd'));
  // The directory handle opened before the swap still names the moved directory.
  fs.closeSync(await root.openForWrite(C('d', 'y')));
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'swap', 'moved')).sort(), ['x', 'y']);
  root.close(); // reopening now meets the symlink
  await assert.rejects(root.openForWrite(C('d', 'z')), /a symlink is in the way/);
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('creates every kind of entry, with byte names', async () => {
  const { out, root } = setup('kinds');
  const odd = Buffer.from([0x6e, 0xff, 0x0a, 0x20]); // not UTF-8, newline, space
  const long = Buffer.alloc(255, 0x6c);
  assert.equal(await root.mkdir([odd]), true);
  assert.equal(await root.mkdir([odd]), false);
  const fd = await root.openForWrite([odd, long], 0o640);
  fs.writeFileSync(fd, 'data');
  fs.closeSync(fd);
  await root.symlink([odd, B('link')], Buffer.from([0x2e, 0x2e, 0xfe]));
  await root.link([odd, long], [odd, B('hard')]);
  await root.mkfifo([odd, B('fifo')]);
  await root.mknod([odd, B('null')], 'chardev', 0o666, fs.statSync('/dev/null').rdev);
  await root.rename([odd, B('hard')], [B('moved')]);
  const dir = joinPath(B(out), odd);
  assert.equal(fs.readFileSync(joinPath(dir, long), 'utf8'), 'data');
  assert.ok(fs.readlinkSync(joinPath(dir, B('link')), { encoding: 'buffer' }).equals(Buffer.from([0x2e, 0x2e, 0xfe])));
  assert.equal(fs.statSync(path.join(out, 'moved')).ino, fs.statSync(joinPath(dir, long)).ino);
  assert.ok(fs.lstatSync(joinPath(dir, B('fifo'))).isFIFO());
  const dev = fs.lstatSync(joinPath(dir, B('null')));
  assert.ok(dev.isCharacterDevice());
  assert.equal(dev.rdev, fs.statSync('/dev/null').rdev);
  const st = await root.existing([odd, long]);
  assert.equal(st?.size, 4n);
  await root.applyMetadata([odd, long], { type: 'file', mode: 0o4711, uid: 4242, gid: 4243, user: null, group: null, mtimeNs: 1234567890123456789n, atimeNs: 5n }, { perms: true, times: true, owners: true });
  const after = fs.lstatSync(joinPath(dir, long), { bigint: true });
  assert.equal(after.mode & 0o7777n, 0o4711n);
  assert.equal(after.uid, 4242n);
  assert.equal(after.mtimeNs, 1234567890123456789n);
  root.close();
});

test('restores below PATH_MAX limits: 200 levels of long names', async () => {
  const { out, root } = setup('deep');
  const comps: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    comps.push(B(`level-${String(i).padStart(3, '0')}-${'x'.repeat(40)}`));
    await root.mkdir(comps);
  }
  const fd = await root.openForWrite([...comps, B('leaf')]);
  fs.writeFileSync(fd, 'bottom');
  fs.closeSync(fd);
  assert.ok(root.resolve(comps).length > 8192); // well past PATH_MAX (4096)
  const found = execFileSync('find', [out, '-name', 'leaf'], { maxBuffer: 1 << 20 }).toString().trim();
  assert.ok(found.endsWith('/leaf'));
  assert.equal((await root.existing([...comps, B('leaf')]))?.size, 6n);
  root.close();
});
