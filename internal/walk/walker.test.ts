import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { walk, statRoot, type DirListing, type Problem, type WalkOptions } from './walker.ts';
import { joinPath } from './names.ts';
import { NotFoundError } from '../errors/errors.ts';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-walk-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const B = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s);

/** A fresh directory under the test's temp dir. */
function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d);
  return d;
}

async function collect(roots: (string | Buffer)[], opts: WalkOptions = {}) {
  const listings: DirListing[] = [];
  const problems: Problem[] = [];
  for await (const l of walk(roots.map(B), { ...opts, onProblem: (p) => problems.push(p) })) listings.push(l);
  return { listings, problems };
}

const names = (l: DirListing) => l.entries.map((e) => e.name.toString('latin1'));

test('byte names round trip and entries are sorted by bytes', async () => {
  const d = B(dir('names'));
  const odd = [
    Buffer.from('with space'),
    Buffer.from('new\nline'),
    Buffer.from([0x66, 0xff, 0xfe, 0x80]), // not UTF-8
    Buffer.from('é-utf8'),
    Buffer.alloc(255, 0x61), // longest name ext4 allows
    Buffer.from('B'),
    Buffer.from('a'),
  ];
  for (const n of odd) fs.writeFileSync(joinPath(d, n), n);
  const { listings, problems } = await collect([d]);
  assert.deepEqual(problems, []);
  assert.equal(listings.length, 1);
  const got = listings[0].entries.map((e) => e.name);
  const want = [...odd].sort(Buffer.compare);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(g.equals(want[i]), `entry ${i}`));
  for (const e of listings[0].entries) {
    assert.equal(e.type, 'file');
    assert.equal(e.size, e.name.length);
    assert.ok(fs.readFileSync(joinPath(d, e.name)).equals(e.name)); // the bytes address the same file
  }
});

test('depth-first, parents first, subdirectories in sorted order', async () => {
  const d = dir('order');
  for (const p of ['b/y', 'b/x', 'a/z/deep', 'c']) fs.mkdirSync(path.join(d, p), { recursive: true });
  fs.writeFileSync(path.join(d, 'a', 'f'), 'x');
  const { listings } = await collect([d]);
  const rel = listings.map((l) => path.relative(d, l.path.toString()) || '.');
  assert.deepEqual(rel, ['.', 'a', 'a/z', 'a/z/deep', 'b', 'b/x', 'b/y', 'c']);
  assert.deepEqual(
    listings.map((l) => l.depth),
    [0, 1, 2, 3, 1, 2, 2, 1],
  );
  assert.deepEqual(names(listings[1]), ['f', 'z']);
});

test('a 200-level deep tree is walked completely', async () => {
  const d = dir('deep');
  let p = d;
  for (let i = 0; i < 200; i++) {
    p = path.join(p, 'd' + (i % 10));
    fs.mkdirSync(p);
  }
  fs.writeFileSync(path.join(p, 'leaf'), 'x');
  const { listings, problems } = await collect([d]);
  assert.deepEqual(problems, []);
  assert.equal(listings.length, 201);
  assert.deepEqual(
    listings.map((l) => l.depth),
    Array.from({ length: 201 }, (_, i) => i),
  );
  assert.deepEqual(names(listings[200]), ['leaf']);
});

test('maxDepth limits which directories are listed', async () => {
  const d = dir('maxdepth');
  fs.mkdirSync(path.join(d, 'a/b/c'), { recursive: true });
  assert.deepEqual(
    (await collect([d], { maxDepth: 1 })).listings.map((l) => l.depth),
    [0],
  );
  const two = (await collect([d], { maxDepth: 2 })).listings;
  assert.deepEqual(
    two.map((l) => l.depth),
    [0, 1],
  );
  assert.deepEqual(names(two[1]), ['b']); // entries of depth-1 directories are still listed
  assert.equal((await collect([d], { maxDepth: 0 })).listings.length, 4);
});

test('special files: socket skipped with a note, fifo, devices and symlinks typed', async () => {
  const d = dir('special');
  const sock = path.join(d, 'sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    execFileSync('mknod', [path.join(d, 'null'), 'c', '1', '3']);
    fs.symlinkSync('fifo', path.join(d, 'link'));
    fs.symlinkSync(Buffer.from([0x2f, 0x6e, 0x6f, 0xff]), path.join(d, 'dangling'));
    fs.symlinkSync('/', path.join(d, 'toroot'));
    const { listings, problems } = await collect([d]);
    assert.equal(listings.length, 1); // symlinked directories are not followed
    assert.deepEqual(names(listings[0]), ['dangling', 'fifo', 'link', 'null', 'toroot']);
    const by = Object.fromEntries(listings[0].entries.map((e) => [e.name.toString('latin1'), e]));
    assert.equal(by.fifo.type, 'fifo');
    assert.equal(by.null.type, 'chardev');
    assert.equal(by.null.rdev, fs.statSync('/dev/null').rdev);
    assert.equal(by.link.type, 'symlink');
    assert.ok(by.link.target!.equals(B('fifo')));
    assert.equal(by.dangling.type, 'symlink');
    assert.ok(by.dangling.target!.equals(Buffer.from([0x2f, 0x6e, 0x6f, 0xff])));
    assert.equal(problems.length, 1);
    assert.equal(problems[0].kind, 'skipped-socket');
    assert.equal(problems[0].path.toString(), sock);
  } finally {
    server.close();
  }
});

test('hard links share ino and show nlink 2; metadata is complete', async () => {
  const d = dir('hard');
  fs.writeFileSync(path.join(d, 'one'), 'data');
  fs.linkSync(path.join(d, 'one'), path.join(d, 'two'));
  fs.chownSync(path.join(d, 'one'), 4242, 0); // before chmod: chown clears setuid
  fs.chmodSync(path.join(d, 'one'), 0o4751);
  const { listings } = await collect([d]);
  const [one, two] = listings[0].entries;
  assert.equal(one.nlink, 2);
  assert.equal(two.nlink, 2);
  assert.equal(one.ino, two.ino);
  assert.equal(one.dev, two.dev);
  assert.equal(one.mode, 0o4751);
  assert.equal(one.uid, 4242);
  assert.equal(one.user, null); // no passwd entry: numeric only
  assert.equal(one.group, 'root');
  const st = fs.lstatSync(path.join(d, 'one'), { bigint: true });
  assert.equal(one.mtimeNs, st.mtimeNs);
  assert.equal(one.ctimeNs, st.ctimeNs);
  assert.equal(one.atimeNs, st.atimeNs);
});

test('an unreadable directory is reported and the walk completes (as uid 65534)', (t) => {
  const d = dir('unreadable');
  fs.chmodSync(tmp, 0o755);
  fs.chmodSync(d, 0o755);
  for (const p of ['a', 'locked/inner', 'z']) fs.mkdirSync(path.join(d, p), { recursive: true });
  fs.writeFileSync(path.join(d, 'z', 'f'), '');
  fs.chmodSync(path.join(d, 'locked'), 0o700); // owned by root: nobody cannot read it
  const walker = fileURLToPath(new URL('./walker.ts', import.meta.url));
  const script = `
    import { walk } from ${JSON.stringify(walker)};
    const out = { listings: [], problems: [] };
    for await (const l of walk([Buffer.from(process.argv[1])], {
      onProblem: (p) => out.problems.push({ kind: p.kind, path: p.path.toString(), code: p.error?.code }),
    })) out.listings.push(l.path.toString());
    console.log(JSON.stringify(out));`;
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script, d], {
    encoding: 'utf8',
  });
  if (r.error) return t.skip(`cannot run as uid 65534: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.listings.map((p: string) => path.relative(d, p) || '.'),
    ['.', 'a', 'z'],
  );
  assert.deepEqual(out.problems, [{ kind: 'unreadable', path: path.join(d, 'locked'), code: 'EACCES' }]);
});

test('directories that vanish or are swapped for symlinks are reported, not followed', async () => {
  const d = dir('vanish');
  const outside = dir('vanish-outside');
  fs.writeFileSync(path.join(outside, 'secret'), 'x');
  for (const p of ['gone', 'swapped', 'replaced', 'stays']) fs.mkdirSync(path.join(d, p));
  const listed: string[] = [];
  const problems: Problem[] = [];
  for await (const l of walk([B(d)], { onProblem: (p) => problems.push(p) })) {
    listed.push(path.relative(d, l.path.toString()) || '.');
    if (l.depth === 0) {
      fs.rmdirSync(path.join(d, 'gone'));
      fs.rmdirSync(path.join(d, 'swapped'));
      fs.symlinkSync(outside, path.join(d, 'swapped'));
      // Moved away (not deleted) so the new directory cannot reuse its inode number.
      fs.renameSync(path.join(d, 'replaced'), path.join(tmp, 'replaced-old'));
      fs.mkdirSync(path.join(d, 'replaced'));
    }
  }
  assert.deepEqual(listed, ['.', 'stays']);
  assert.deepEqual(
    problems.map((p) => [p.kind, path.basename(p.path.toString())]),
    [
      ['vanished', 'gone'],
      ['vanished', 'replaced'],
      ['vanished', 'swapped'],
    ],
  );
});

test('without crossDevice, mount points are listed but not entered', async (t) => {
  const rootDev = fs.statSync('/').dev;
  if (fs.statSync('/proc').dev === rootDev) return t.skip('/proc is on the root device');
  const plain = await collect(['/'], { maxDepth: 2 });
  const paths = plain.listings.map((l) => l.path.toString());
  assert.ok(plain.listings[0].entries.some((e) => e.name.toString() === 'proc'));
  assert.ok(!paths.includes('/proc'));
  const cross = await collect(['/'], { maxDepth: 2, crossDevice: true });
  assert.ok(cross.listings.some((l) => l.path.toString() === '/proc'));
});

test('roots: several in order, a file root yields nothing, relative roots are refused', async () => {
  const a = dir('root-a');
  const b = dir('root-b');
  fs.writeFileSync(path.join(tmp, 'root-file'), '');
  const { listings, problems } = await collect([b, path.join(tmp, 'root-file'), a]);
  assert.deepEqual(
    listings.map((l) => l.path.toString()),
    [b, a],
  );
  assert.deepEqual(problems, []);
  await assert.rejects(collect(['relative/path']), /not an absolute path/);
  const missing = await collect([path.join(tmp, 'missing')]);
  assert.deepEqual(
    missing.problems.map((p) => p.kind),
    ['vanished'],
  );
});

test('statRoot records the root itself without following symlinks', async () => {
  const d = dir('statroot');
  fs.chmodSync(d, 0o1777);
  const e = await statRoot(B(d));
  assert.equal(e.type, 'dir');
  assert.equal(e.mode, 0o1777);
  assert.ok(e.name.equals(B(d)));
  fs.symlinkSync(d, path.join(tmp, 'statroot-link'));
  const l = await statRoot(B(path.join(tmp, 'statroot-link')));
  assert.equal(l.type, 'symlink');
  assert.ok(l.target!.equals(B(d)));
  await assert.rejects(statRoot(B(path.join(tmp, 'nope'))), NotFoundError);
});
