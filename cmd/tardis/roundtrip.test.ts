// End to end: back up real trees with bin/tardis into real repositories, restore them with
// bin/regenerate, and compare byte for byte and by metadata. The regenerate options have
// their own suite in cmd/regenerate/regenerate.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { BIN, createRepo, mustRun, PASSWORD, runTool, sh } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';

const MiB = 1 << 20;
const B = (...parts: (string | Buffer)[]) => Buffer.concat(parts.map((p, i) => Buffer.concat([i ? Buffer.from('/') : Buffer.alloc(0), Buffer.from(p)])));

/** Writes `data` into `file` at `offset` without touching the rest (holes stay holes). */
function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

const ino = (p: string | Buffer) => fs.lstatSync(p, { bigint: true }).ino;

test('regular files: empty, tiny, random MiBs and a 1.5 GiB sparse file restore byte-identical, sparse stays sparse', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  write(path.join(src, 'empty'));
  write(path.join(src, 'tiny'), Buffer.from([0x5a]));
  write(path.join(src, 'random'), seededBytes(3 * MiB + 12345, 'random'));
  const big = path.join(src, 'sparse');
  const bigSize = 1536 * MiB;
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, bigSize);
  writeAt(big, 0, seededBytes(3 * MiB, 'head'));
  writeAt(big, 1024 * MiB + 777, seededBytes(3 * MiB, 'middle'));
  writeAt(big, bigSize - 2 * MiB, seededBytes(2 * MiB, 'tail'));
  assert.ok(fs.statSync(big).blocks * 512 < 64 * MiB, 'fixture: the source file is sparse');

  const b = await backup(repo, [src]);
  assert.equal(b.stats.files, 4);
  assert.equal(b.stats.problems, 0);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
  const st = fs.statSync(path.join(out, 'sparse'));
  assert.equal(st.size, bigSize);
  assert.ok(st.blocks * 512 < 64 * MiB, `restored sparse file occupies ${st.blocks * 512} bytes of ${bigSize}`);
  assert.equal(fs.statSync(path.join(out, 'empty')).size, 0);
  assert.deepEqual(fs.readFileSync(path.join(out, 'tiny')), Buffer.from([0x5a]));
});

test('directories: empty ones, a 100-level tree, symlinks (dangling too) and hard links', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  fs.mkdirSync(path.join(src, 'empty'));
  fs.mkdirSync(path.join(src, 'nested', 'empty', 'inner'), { recursive: true });
  const deep = path.join(src, ...Array.from({ length: 100 }, (_, i) => `d${i}`));
  fs.mkdirSync(deep, { recursive: true });
  write(path.join(deep, 'bottom'), 'at the bottom\n');
  write(path.join(src, 'file'), 'target\n');
  fs.symlinkSync('file', path.join(src, 'rel-link'));
  fs.symlinkSync('/etc/hostname', path.join(src, 'abs-link'));
  fs.symlinkSync('no/such/target', path.join(src, 'dangling'));
  fs.symlinkSync('nested', path.join(src, 'dir-link'));
  fs.symlinkSync(Buffer.from([0x74, 0xff, 0x0a, 0x20, 0x2e, 0x2e]), B(src, 'odd-target'));
  fs.symlinkSync('x/'.repeat(1000), path.join(src, 'long-target'));
  write(path.join(src, 'hl', 'a'), 'linked three times\n');
  fs.linkSync(path.join(src, 'hl', 'a'), path.join(src, 'hl', 'b'));
  fs.mkdirSync(path.join(src, 'other'));
  fs.linkSync(path.join(src, 'hl', 'a'), path.join(src, 'other', 'c'));
  write(path.join(deep, 'pair1'), 'a pair deep down\n');
  fs.linkSync(path.join(deep, 'pair1'), path.join(src, 'pair2'));

  await backup(repo, [src]);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
  assert.ok(fs.existsSync(path.join(out, ...Array.from({ length: 100 }, (_, i) => `d${i}`), 'bottom')));
  assert.ok(fs.lstatSync(path.join(out, 'dangling')).isSymbolicLink());
  assert.equal(fs.readlinkSync(path.join(out, 'dangling')), 'no/such/target');
  assert.deepEqual(fs.readlinkSync(B(out, 'odd-target'), { encoding: 'buffer' }), Buffer.from([0x74, 0xff, 0x0a, 0x20, 0x2e, 0x2e]));
  assert.ok(fs.statSync(path.join(out, 'nested', 'empty', 'inner')).isDirectory());
  const a = ino(path.join(out, 'hl', 'a'));
  assert.equal(ino(path.join(out, 'hl', 'b')), a);
  assert.equal(ino(path.join(out, 'other', 'c')), a);
  assert.equal(fs.statSync(path.join(out, 'hl', 'a')).nlink, 3);
  assert.equal(ino(path.join(out, 'pair2')), ino(path.join(out, ...Array.from({ length: 100 }, (_, i) => `d${i}`), 'pair1')));

  const sep = path.join(dir, 'separate');
  await restore(repo, ['--no-hardlinks', '-o', sep, src]);
  const names = [path.join('hl', 'a'), path.join('hl', 'b'), path.join('other', 'c')];
  assert.equal(new Set(names.map((n) => ino(path.join(sep, n)))).size, 3, 'separate files with --no-hardlinks');
  for (const n of names) {
    assert.equal(fs.statSync(path.join(sep, n)).nlink, 1);
    assert.equal(fs.readFileSync(path.join(sep, n), 'utf8'), 'linked three times\n');
  }
  await assertSameTree(src, sep, { ignore: (rel) => /^(hl\/[ab]|other\/c|pair2|d0\/.*\/pair1)$/.test(rel) });
});

test('names: spaces, newlines, non-UTF-8 bytes, 255-byte names', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  const names: Buffer[] = [
    Buffer.from('with space'), Buffer.from(' leading'), Buffer.from('trailing '), Buffer.from('new\nline'),
    Buffer.from('tab\there'), Buffer.from([0x66, 0xe9, 0x74, 0xe9]), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('ünïcødé ✓'),
    Buffer.from('x'.repeat(255)), Buffer.from('€'.repeat(85)), Buffer.from('-rf'), Buffer.from('*'), Buffer.from('back\\slash'),
    Buffer.from('..dots'), Buffer.from('.hidden'), Buffer.from('\x01\x7f'),
  ];
  assert.equal(Buffer.from('€'.repeat(85)).length, 255);
  for (const n of names) fs.writeFileSync(B(src, n), Buffer.concat([Buffer.from('content of '), n]));
  const weirdDir = B(src, Buffer.from([0x64, 0x69, 0x72, 0xa0, 0x0a]));
  fs.mkdirSync(weirdDir);
  for (const n of names.slice(0, 6)) fs.writeFileSync(B(weirdDir, n), n);
  fs.symlinkSync(names[5]!, B(weirdDir, Buffer.from('link\xff', 'latin1')));

  await backup(repo, [src]);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
  const restored = fs.readdirSync(out, { encoding: 'buffer' });
  for (const n of names) assert.ok(restored.some((r) => r.equals(n)), `name ${JSON.stringify(n.toString('latin1'))} restored`);
  assert.equal(fs.readdirSync(Buffer.from(weirdDir.toString('latin1').replace(src, out), 'latin1')).length, 7);
});

test('modes, owners by name with numeric fallback, nanosecond mtimes', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  const mode = (rel: string, m: number) => fs.chmodSync(path.join(src, rel), m);
  write(path.join(src, 'setuid'), '#!/bin/sh\n');
  write(path.join(src, 'setgid'), 'g\n');
  write(path.join(src, 'private'), 'p\n');
  write(path.join(src, 'none'), 'nobody may read this\n');
  write(path.join(src, 'orphan'), 'no passwd entry\n');
  write(path.join(src, 'named'), 'owned by nobody\n');
  write(path.join(src, 'daemon'), 'owned by daemon\n');
  fs.mkdirSync(path.join(src, 'sticky'));
  write(path.join(src, 'sticky', 'inside'), 'i\n');
  fs.mkdirSync(path.join(src, 'sgid-dir'));
  fs.mkdirSync(path.join(src, 'closed'));
  write(path.join(src, 'closed', 'secret'), 's\n');
  fs.symlinkSync('setuid', path.join(src, 'link'));
  // Owners first: chown clears setuid/setgid.
  fs.chownSync(path.join(src, 'orphan'), 4242, 4343);
  fs.chownSync(path.join(src, 'named'), 65534, 65534);
  fs.chownSync(path.join(src, 'daemon'), 1, 1);
  fs.lchownSync(path.join(src, 'link'), 4242, 1);
  fs.chownSync(path.join(src, 'sgid-dir'), 4242, 4343);
  mode('setuid', 0o4755);
  mode('setgid', 0o2711);
  mode('private', 0o600);
  mode('none', 0o000);
  mode('sticky', 0o1777);
  mode('sgid-dir', 0o2775);
  mode('closed', 0o500);
  const NS = 1_000_000_000n;
  const times: [string, string, bigint][] = [
    ['private', '@1700000000.123456789', 1700000000n * NS + 123456789n],
    ['setuid', '@1700000000.000000001', 1700000000n * NS + 1n],
    ['named', '@4102444800.999999999', 4102444800n * NS + 999999999n],
    ['daemon', '@-86400.5', -86400n * NS - 500000000n],
    ['link', '@1234567890.987654321', 1234567890n * NS + 987654321n],
    ['sticky', '@1600000000.111111111', 1600000000n * NS + 111111111n],
  ];
  for (const [rel, at] of times) sh(`touch -h -d ${at} '${path.join(src, rel)}'`);
  sh(`touch -d @1500000000.5 '${path.join(src, 'closed')}'`);
  sh(`touch -d @1690000000.42 '${src}'`);

  await backup(repo, [src]);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
  const st = (rel: string) => fs.lstatSync(path.join(out, rel), { bigint: true });
  assert.equal(st('setuid').mode & 0o7777n, 0o4755n);
  assert.equal(st('setgid').mode & 0o7777n, 0o2711n);
  assert.equal(st('private').mode & 0o7777n, 0o600n);
  assert.equal(st('none').mode & 0o7777n, 0n);
  assert.equal(st('sticky').mode & 0o7777n, 0o1777n);
  assert.equal(st('sgid-dir').mode & 0o7777n, 0o2775n);
  assert.equal(st('closed').mode & 0o7777n, 0o500n);
  assert.deepEqual([st('orphan').uid, st('orphan').gid], [4242n, 4343n]);
  assert.deepEqual([st('named').uid, st('named').gid], [65534n, 65534n]);
  assert.deepEqual([st('daemon').uid, st('daemon').gid], [1n, 1n]);
  assert.deepEqual([st('link').uid, st('link').gid], [4242n, 1n]);
  for (const [rel, , ns] of times) assert.equal(st(rel).mtimeNs, ns, `mtime of ${rel}`);
  assert.equal(st('closed').mtimeNs, 1500000000n * NS + 500000000n);
  assert.equal(fs.lstatSync(out, { bigint: true }).mtimeNs, 1690000000n * NS + 420000000n);
});

test('FIFOs are restored as FIFOs; a socket is skipped with a note and exit 0', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  sh(`mkfifo -m 0640 '${path.join(src, 'fifo')}'`);
  fs.mkdirSync(path.join(src, 'sub'));
  sh(`mkfifo '${path.join(src, 'sub', 'pipe')}'`);
  write(path.join(src, 'file'), 'f\n');
  const sock = path.join(src, 'sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => server.close());
  assert.ok(fs.lstatSync(sock).isSocket(), 'fixture: a socket exists');

  const b = await backup(repo, ['-v', src]);
  assert.equal(b.run.code, 0);
  assert.equal(b.stats.skipped, 1);
  assert.equal(b.stats.problems, 0);
  assert.match(b.run.stderr, new RegExp(`skipped socket ${sock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  assert.ok(fs.lstatSync(path.join(out, 'fifo')).isFIFO());
  assert.ok(fs.lstatSync(path.join(out, 'sub', 'pipe')).isFIFO());
  assert.equal(fs.lstatSync(path.join(out, 'fifo')).mode & 0o7777, 0o640);
  assert.equal(fs.existsSync(path.join(out, 'sock')), false, 'the socket is not restored');
  await assertSameTree(src, out, { ignore: (rel) => rel === 'sock' });
});

const execFileP = promisify(execFile);

test('a second backup of an unchanged tree reads no file contents', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  for (let d = 0; d < 4; d++) {
    for (let f = 0; f < 25; f++) write(path.join(src, `dir${d}`, `sub${f % 3}`, `file${f}`), seededBytes(1000 + f * 97, `${d}/${f}`));
  }
  write(path.join(src, 'bigger'), seededBytes(2 * MiB, 'bigger'));
  write(path.join(src, 'empty'));
  fs.mkdirSync(path.join(src, 'emptydir'));
  fs.linkSync(path.join(src, 'bigger'), path.join(src, 'dir0', 'bigger-link'));
  fs.symlinkSync('bigger', path.join(src, 'symlink'));
  sh(`mkfifo '${path.join(src, 'fifo')}'`);

  const first = await backup(repo, [src]);
  assert.equal(first.stats.files, 103);
  assert.ok(first.stats.filesRead > 0);

  // Second run under strace when it is there: no regular file below src may even be opened.
  let second: { id: number; stats: Record<string, number> };
  const strace = ['/usr/bin/strace', '/bin/strace'].find((p) => fs.existsSync(p));
  if (strace) {
    const trace = path.join(dir, 'trace');
    const { stdout } = await execFileP(strace, ['-f', '-qq', '-s', '4096', '-e', 'trace=open,openat,openat2', '-o', trace, path.join(BIN, 'tardis'), '-R', repo, '--json', src], {
      env: { ...process.env, TARDIS_PASSWORD: PASSWORD },
      maxBuffer: 64 * MiB,
    });
    second = JSON.parse(stdout);
    const opens = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes(`"${src}/`) || l.includes(`"${src}"`));
    assert.ok(opens.some((l) => l.includes('O_DIRECTORY')), 'the trace shows the walk opening directories');
    assert.deepEqual(opens.filter((l) => !l.includes('O_DIRECTORY')), [], 'files opened by the second backup');
  } else {
    t.diagnostic('strace not installed: relying on the statistics alone');
    second = await backup(repo, [src]);
  }
  assert.equal(second.stats.filesRead, 0);
  assert.equal(second.stats.bytesRead, 0);
  assert.equal(second.stats.files, 103);
  assert.equal(second.stats.filesUnchanged, 103);
  assert.equal(second.stats.chunksNew, 0);
  assert.notEqual(second.id, first.id);

  for (const id of [first.id, second.id]) {
    const out = path.join(dir, `out${id}`);
    await restore(repo, ['-b', String(id), '-o', out, src]);
    await assertSameTree(src, out);
  }

  // A third run reads exactly the one file that changed.
  write(path.join(src, 'dir2', 'sub1', 'file4'), 'changed\n');
  const third = await backup(repo, [src]);
  assert.equal(third.stats.filesRead, 1);
  assert.equal(third.stats.bytesRead, 'changed\n'.length);
  const out3 = path.join(dir, 'out3');
  await restore(repo, ['-o', out3, src]);
  await assertSameTree(src, out3);
});

test('10 bytes inserted into a 40 MiB file store only a few new chunks; both versions restore', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  const file = path.join(src, 'data');
  const old = seededBytes(40 * MiB, 'forty');
  write(file, old);
  const first = await backup(repo, [src]);
  assert.equal(first.stats.bytesRead, 40 * MiB);

  const insert = Buffer.from('0123456789');
  const at = 20 * MiB + 12345;
  const changed = Buffer.concat([old.subarray(0, at), insert, old.subarray(at)]);
  write(file, changed);
  const second = await backup(repo, [src]);
  assert.equal(second.stats.filesRead, 1);
  assert.equal(second.stats.bytesRead, 40 * MiB + 10);
  assert.ok(second.stats.chunksNew >= 1 && second.stats.chunksNew <= 3, `chunksNew = ${second.stats.chunksNew}`);
  assert.ok(second.stats.bytesNew < 12 * MiB, `bytesNew = ${second.stats.bytesNew}`);

  const oldOut = path.join(dir, 'old');
  const newOut = path.join(dir, 'new');
  await restore(repo, ['-b', String(first.id), '-o', oldOut, file]);
  await restore(repo, ['-b', 'Current', '-o', newOut, file]);
  assert.ok(fs.readFileSync(oldOut).equals(old), 'the first set gives the old content');
  assert.ok(fs.readFileSync(newOut).equals(changed), 'Current gives the new content');
});

test('--maxdepth, --basepath, --name, --tag and --movetag', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  write(path.join(src, 'top'), 't\n');
  write(path.join(src, 'sub', 'mid'), 'm\n');
  write(path.join(src, 'sub', 'subsub', 'low'), 'l\n');
  fs.mkdirSync(path.join(src, 'emptysub'));

  // --maxdepth 1: the root's own entries, subdirectories recorded but empty.
  const d1 = await backup(repo, ['--maxdepth', '1', src]);
  const out1 = path.join(dir, 'out-d1');
  await restore(repo, ['-b', String(d1.id), '-o', out1, src]);
  assert.deepEqual(fs.readdirSync(out1).sort(), ['emptysub', 'sub', 'top']);
  assert.ok(fs.statSync(path.join(out1, 'sub')).isDirectory());
  assert.deepEqual(fs.readdirSync(path.join(out1, 'sub')), []);
  const d2 = await backup(repo, ['--maxdepth', '2', src]);
  const out2 = path.join(dir, 'out-d2');
  await restore(repo, ['-b', String(d2.id), '-o', out2, src]);
  assert.deepEqual(fs.readdirSync(path.join(out2, 'sub')).sort(), ['mid', 'subsub']);
  assert.deepEqual(fs.readdirSync(path.join(out2, 'sub', 'subsub')), []);
  // And without a limit everything is back.
  await backup(repo, [src]);
  const outAll = path.join(dir, 'out-all');
  await restore(repo, ['-o', outAll, src]);
  await assertSameTree(src, outAll);

  // --basepath: two roots /T/a/x and /T/b/y.
  const x = path.join(dir, 'a', 'x');
  const y = path.join(dir, 'b', 'y');
  write(path.join(x, 'fx'), 'x\n');
  write(path.join(y, 'fy'), 'y\n');
  const placed = async (mode: string, roots: string[]): Promise<string> => {
    const r = await createRepo(dir, `basepath-${mode}-${roots.length}`);
    await backup(r, ['--basepath', mode, ...roots]);
    const out = path.join(dir, `out-basepath-${mode}-${roots.length}`);
    fs.mkdirSync(out);
    await restore(r, ['-o', out, '/']);
    return out;
  };
  const full = await placed('full', [x, y]);
  assert.equal(fs.readFileSync(path.join(full, x, 'fx'), 'utf8'), 'x\n');
  assert.equal(fs.readFileSync(path.join(full, y, 'fy'), 'utf8'), 'y\n');
  const common = await placed('common', [x, y]);
  assert.deepEqual(fs.readdirSync(common).sort(), ['a', 'b']);
  assert.equal(fs.readFileSync(path.join(common, 'a', 'x', 'fx'), 'utf8'), 'x\n');
  assert.equal(fs.readFileSync(path.join(common, 'b', 'y', 'fy'), 'utf8'), 'y\n');
  const commonOne = await placed('common', [x]);
  assert.deepEqual(fs.readdirSync(commonOne), ['x'], 'one root: below its parent');
  assert.equal(fs.readFileSync(path.join(commonOne, 'x', 'fx'), 'utf8'), 'x\n');
  const none = await placed('none', [x, y]);
  assert.deepEqual(fs.readdirSync(none).sort(), ['x', 'y']);
  assert.equal(fs.readFileSync(path.join(none, 'y', 'fy'), 'utf8'), 'y\n');
  const clash = await createRepo(dir, 'basepath-clash');
  const r = await runTool('tardis', ['-R', clash, '--basepath', 'none', x, path.join(dir, 'c', 'x')]);
  assert.notEqual(r.code, 0, 'two roots with the same name cannot both sit at the top');

  // --name and --tag; a tag already in use needs --movetag.
  const named = await backup(repo, ['--name', 'Before-Upgrade', '--tag', 'mytag', src]);
  assert.equal(named.set, 'Before-Upgrade');
  const dup = await runTool('tardis', ['-R', repo, '--name', 'Before-Upgrade', src]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  const taken = await runTool('tardis', ['-R', repo, '--tag', 'mytag', src]);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /--movetag/);
  assert.equal(taken.stderr.trim().split('\n').length, 1, 'one clear line');
  const info = async (spec: string) => (JSON.parse((await mustRun('sonic', ['info', '-R', repo, '-b', spec, '--json'])).stdout) as { id: number; name: string; tags: string[] }[])[0]!;
  assert.equal((await info('mytag')).id, named.id);
  const moved = await backup(repo, ['--tag', 'mytag', '--movetag', '--tag', 'other', src]);
  const now = await info('mytag');
  assert.equal(now.id, moved.id);
  assert.deepEqual(now.tags.sort(), ['mytag', 'other']);
  assert.deepEqual((await info('Before-Upgrade')).tags, []);
  const sets = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { completed: boolean }[];
  assert.ok(sets.every((s) => s.completed), 'the refused runs left no sets behind');
});

/** strftime %U: weeks start on Sunday; days before the year's first Sunday are week 0. */
function weekU(d: Date): string {
  const jan1 = new Date(d.getFullYear(), 0, 1);
  const yday = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - jan1.getTime()) / 86400000);
  const firstSunday = (7 - jan1.getDay()) % 7;
  return String(yday < firstSunday ? 0 : Math.floor((yday - firstSunday) / 7) + 1).padStart(2, '0');
}

test('sonic list and info show the sets as Monthly, Weekly, Daily, then dated names', async (t) => {
  const { repo, src } = await setupRepo(t, 'tardis-roundtrip-');
  write(path.join(src, 'f'), 'f\n');
  const runs = [];
  for (let i = 0; i < 4; i++) {
    write(path.join(src, 'counter'), String(i));
    runs.push(await backup(repo, [src]));
  }
  const list = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; name: string; startTime: number; completed: boolean; priority: number }[];
  assert.deepEqual(list.map((s) => s.id), runs.map((r) => r.id));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const expected = list.map((s, i) => {
    const d = new Date(s.startTime);
    const ymd = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
    return [`Monthly-${d.getFullYear()}-${p2(d.getMonth() + 1)}`, `Weekly-${d.getFullYear()}-${weekU(d)}`, `Daily-${ymd}`,
      `Backup_${ymd}_${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`][i];
  });
  assert.deepEqual(list.map((s) => s.name), expected);
  assert.deepEqual(runs.map((r) => r.set), expected, 'tardis --json names the set as sonic does');
  assert.deepEqual(list.map((s) => s.priority), [40, 30, 20, 0]);
  assert.ok(list.every((s) => s.completed));

  const text = (await mustRun('sonic', ['list', '-R', repo])).stdout.split('\n');
  const rows = expected.map((n) => text.findIndex((l) => l.startsWith(n + ' ')));
  assert.ok(rows.every((r, i) => r > 0 && (i === 0 || r > rows[i - 1]!)), `sets listed in order:\n${text.join('\n')}`);
  assert.match(text[rows[3]!]!, /\bCurrent\b/);
  assert.doesNotMatch(text[rows[0]!]!, /\bCurrent\b/);

  const info = (await mustRun('sonic', ['info', '-R', repo])).stdout;
  for (const [i, n] of expected.entries()) assert.match(info, new RegExp(`^Set: +${n.replace(/[-:]/g, '\\$&')} \\(id ${list[i]!.id}\\)`, 'm'));
  const one = JSON.parse((await mustRun('sonic', ['info', '-R', repo, '-b', expected[1]!, '--json'])).stdout) as { id: number }[];
  assert.deepEqual(one.map((s) => s.id), [list[1]!.id]);
  const cur = (await mustRun('sonic', ['info', '-R', repo, '-b', 'Current'])).stdout;
  assert.match(cur, new RegExp(`Set: +${expected[3]!.replace(/[-:]/g, '\\$&')} .*\\[Current\\]`));
  const missing = await runTool('sonic', ['info', '-R', repo, '-b', 'NoSuchSet']);
  assert.equal(missing.code, 2);
});
