// Every regenerate option against real backups made with bin/tardis: set selection (-b by name,
// id, tag, Current; --date; --last), where the output goes (-o file, -o directory, stdout),
// --recurse, --overwrite, --set-times, --set-perms, --hardlinks, --reduce-path, --verify-action
// on damaged and on mismatching content, and the errors and exit codes of --help.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mustRun, sh, tempDir, type RunResult } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, seededBytes } from '../../internal/testkit/fixtures.ts';
import { compareTrees } from '../../internal/treecmp/compare.ts';

const MiB = 1 << 20;
const NS = 1_000_000_000n;
/** mtime (s) of the files in src/ow as backed up. */
const OW_TIME = 1_600_000_000;
/** The binary file: every byte value, a run of zeros, and several chunks of random data. */
const BIN = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.alloc(64 * 1024),
  seededBytes(3 * MiB + 4321, 'bin'),
  Buffer.from('\r\n\0\xff\n', 'latin1'),
]);

interface SetRow {
  id: number;
  name: string;
  startTime: number;
}

const { dir, cleanup } = tempDir('tardis-regenerate-');
after(cleanup);
const src = path.join(dir, 'src');
const S = (...rel: string[]) => path.join(src, ...rel);
const O = (...rel: string[]) => path.join(dir, 'out', ...rel);
let repo = '';
let sets: SetRow[] = [];

function write(file: string, data: string | Buffer = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** Sets a file's mtime to the nanosecond (touch -d @S.N), without following symlinks. */
function touch(file: string, at: string): void {
  sh(`touch -h -d @${at} '${file}'`);
}

const mtimeNs = (p: string) => fs.lstatSync(p, { bigint: true }).mtimeNs;
const modeOf = (p: string) => fs.lstatSync(p).mode & 0o7777;
const ino = (p: string) => fs.lstatSync(p, { bigint: true }).ino;
const read = (p: string) => fs.readFileSync(p, 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = process.getuid?.() === 0;
// A known umask for the tools started below: --no-set-perms leaves the modes it gives.
process.umask(0o022);

/** `regenerate -R repo ARGS…`, which must exit `expect`. */
const regen = (args: string[], expect = 0): Promise<RunResult> => restore(repo, args, { expect });

/** A failed run: exit `code`, one line on stderr matching `re`, nothing on stdout. */
async function refused(args: string[], code: number, re: RegExp): Promise<void> {
  const r = await regen(args, code);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
  assert.equal(r.stdout, '');
}

/** Local time as `YYYY-MM-DD HH:MM:SS`, or ISO `YYYY-MM-DDTHH:MM:SS.mmm` with milliseconds. */
function localTime(ms: number, withMs = false): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const s = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withMs ? `${s.replace(' ', 'T')}.${p(d.getMilliseconds(), 3)}` : s;
}

/** Waits into the next second, so that sets can be told apart by a date with seconds. */
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 30);

/**
 * A repository without a password: chunks are sealed and authenticated all the same (same
 * keyring; its keys are wrapped under a known key instead), but each of the many runs below skips the scrypt key
 * derivation (~0.4 s of CPU). Password-protected restores are covered by roundtrip/faults.
 */
async function quickRepo(parent: string): Promise<string> {
  const r = path.join(parent, 'repo', 'client');
  await mustRun('sonic', ['create', '--no-password', '-R', r]);
  return r;
}

// Three sets: first (tag t-one), second, third. text changes in every set; gone is changed in
// second and deleted before third; the rest stays as it is.
before(async () => {
  repo = await quickRepo(dir);
  write(S('text'), 'version 1\n');
  write(S('bin'), BIN);
  write(S('gone'), 'gone v1\n');
  write(S('sub', 'deep', 'file'), 'deep\n');
  write(S('hl1'), 'linked\n');
  fs.linkSync(S('hl1'), S('sub', 'hl2'));
  for (const n of ['older-here', 'newer-here', 'same', 'fresh']) {
    write(S('ow', n), 'backup\n');
    fs.utimesSync(S('ow', n), OW_TIME, OW_TIME);
  }
  write(S('metadir', 'meta'), 'meta\n');
  if (root) fs.chownSync(S('metadir', 'meta'), 4242, 4343);
  fs.chmodSync(S('metadir', 'meta'), 0o640);
  fs.chmodSync(S('metadir'), 0o750);
  touch(S('metadir', 'meta'), '1000000000.123456789');
  touch(S('metadir'), '1100000000.5');
  touch(S('sub'), '1200000000.25');

  await backup(repo, ['--name', 'first', '--tag', 't-one', src]);
  await nextSecond();
  write(S('text'), 'version 2\n');
  write(S('gone'), 'gone v2\n');
  await backup(repo, ['--name', 'second', src]);
  await nextSecond();
  write(S('text'), 'version 3\n');
  fs.rmSync(S('gone'));
  await backup(repo, ['--name', 'third', src]);
  sets = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as SetRow[];
  assert.deepEqual(sets.map((s) => s.name), ['first', 'second', 'third']);
  fs.mkdirSync(O(), { recursive: true });
});

test('set selection: Current by default, --backup/-b by name, id, tag and Current; an unknown set exits 2', async () => {
  const text = async (args: string[]) => (await regen([...args, S('text')])).stdout;
  const got = await Promise.all([
    text([]),
    text(['-b', 'Current']),
    text(['--backup', 'first']),
    text(['-b', String(sets[1]!.id)]),
    text(['-b', 't-one']),
    text(['-b', 'third']),
    text(['-b', localTime(Math.ceil(sets[0]!.startTime / 1000) * 1000)]), // date text, as --date
  ]);
  assert.deepEqual(got, ['version 3\n', 'version 3\n', 'version 1\n', 'version 2\n', 'version 1\n', 'version 3\n', 'version 1\n']);
  await Promise.all([
    refused(['-b', 'NoSuchSet', S('text')], 2, /no backup set named 'NoSuchSet'/),
    refused(['-b', '9999', S('text')], 2, /no backup set named '9999'/),
    refused(['-b', 'first', '--last', S('text')], 1, /mutually exclusive/),
    refused(['-b', 'first', '--date', '2001-01-01', S('text')], 1, /mutually exclusive/),
  ]);
});

test('--date picks the newest set started at or before it; before every set is a clear error (exit 2)', async () => {
  const [first, second, third] = sets as [SetRow, SetRow, SetRow];
  const ceilSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;
  assert.ok(ceilSecond(first.startTime) < second.startTime && ceilSecond(second.startTime) < third.startTime, 'fixture: sets a second apart');
  const text = async (date: string, opt = '--date') => (await regen([opt, date, S('text')])).stdout;
  const got = await Promise.all([
    text(localTime(ceilSecond(first.startTime))), // between first and second
    text(localTime(ceilSecond(second.startTime))), // between second and third
    text(localTime(second.startTime - 1, true)), // a millisecond before second
    text(localTime(second.startTime, true)), // exactly when second started
    text('2999-12-31'),
    text(localTime(ceilSecond(first.startTime)), '-d'),
  ]);
  assert.deepEqual(got, ['version 1\n', 'version 2\n', 'version 1\n', 'version 2\n', 'version 3\n', 'version 1\n']);
  const early = localTime(first.startTime - 60_000);
  await Promise.all([
    refused(['--date', early, S('text')], 2, new RegExp(`no backup set at or before ${early}`)),
    refused(['--date', '2001-01-01', S('text')], 2, /no backup set at or before 2001-01-01/),
    // Free text is understood (relative to now, so before every set here) …
    refused(['--date', 'the day before yesterday', S('text')], 2, /no backup set at or before the day before yesterday/),
    // … and what is no date at all is a usage error.
    refused(['--date', 'blue moon', S('text')], 1, /cannot understand the date 'blue moon'/),
  ]);
});

test('--last restores each path from the newest set that has it, e.g. a file deleted since', async () => {
  const [notCurrent, last, lastLong, fromFirst, text, lastOut] = await Promise.all([
    regen([S('gone')], 1),
    regen(['-l', S('gone')]),
    regen(['--last', S('gone')]),
    regen(['-b', 'first', S('gone')]),
    regen(['-l', S('text')]),
    regen(['--last', '-o', O('last', 'gone'), S('gone')]),
  ]);
  assert.match(notCurrent.stderr, /gone: not found in set third/);
  assert.equal(notCurrent.stderr.trim().split('\n').length, 1, notCurrent.stderr);
  assert.equal(notCurrent.stdout, '');
  assert.equal(last.stdout, 'gone v2\n', 'the newest set holding it, not the first');
  assert.equal(lastLong.stdout, 'gone v2\n');
  assert.equal(fromFirst.stdout, 'gone v1\n');
  assert.equal(text.stdout, 'version 3\n');
  assert.equal(lastOut.stdout, '');
  assert.equal(read(O('last', 'gone')), 'gone v2\n');
  await refused(['-l', S('never-there')], 1, /never-there: not in any backup set/);
});

test('output: stdout byte-exact for one file; -o names a file, or a directory for a tree or several paths', async () => {
  fs.mkdirSync(O('into'));
  fs.mkdirSync(O('tree-into'));
  write(O('plain-file'), 'x');
  const [stdout] = await Promise.all([
    regen([S('bin')]),
    regen(['-o', O('new', 'parent', 'named.txt'), S('text')]),
    regen(['--output', O('into'), S('text')]),
    regen(['-o', O('two'), S('text'), S('bin')]),
    regen(['-o', O('tree'), src]),
    regen(['-o', O('tree-into'), src]),
    regen(['-o', O('bin-file'), S('bin')]),
  ]);
  assert.ok(stdout.stdoutBytes.equals(BIN), `stdout has ${stdout.stdoutBytes.length} bytes, the file ${BIN.length}`);
  assert.equal(stdout.stderr, '');
  assert.equal(read(O('new', 'parent', 'named.txt')), 'version 3\n');
  assert.equal(mtimeNs(O('new', 'parent', 'named.txt')), mtimeNs(S('text')));
  assert.deepEqual(fs.readdirSync(O('into')), ['text']);
  assert.equal(read(O('into', 'text')), 'version 3\n');
  assert.deepEqual(fs.readdirSync(O('two')).sort(), ['bin', 'text']);
  assert.ok(fs.readFileSync(O('two', 'bin')).equals(BIN));
  assert.ok(fs.readFileSync(O('bin-file')).equals(BIN));
  await assertSameTree(src, O('tree'));
  assert.deepEqual(fs.readdirSync(O('tree-into')), ['src']);
  await assertSameTree(src, O('tree-into', 'src'));

  await Promise.all([
    refused([src], 1, /restoring a directory or several paths needs --output DIR/),
    refused([S('text'), S('bin')], 1, /needs --output DIR/),
    refused(['-o', O('plain-file'), S('text'), S('bin')], 1, /plain-file: not a directory/),
  ]);
  // One path missing, the other restored: exit 1 (one failed path).
  const mixed = await regen(['-o', O('mixed'), S('text'), S('nope')], 1);
  assert.match(mixed.stderr, /nope: not found in set third/);
  assert.deepEqual(fs.readdirSync(O('mixed')), ['text']);
});

test('--no-recurse restores a directory without its contents; --recurse (the default) with them', async () => {
  await Promise.all([
    regen(['--no-recurse', '-o', O('norec'), S('sub')]),
    regen(['--recurse', '-o', O('rec'), S('sub')]),
    regen(['-o', O('rec-default'), S('sub')]),
  ]);
  assert.deepEqual(fs.readdirSync(O('norec')), []);
  assert.equal(mtimeNs(O('norec')), 1200000000n * NS + 250000000n, 'the directory itself gets its metadata');
  assert.equal(modeOf(O('norec')), modeOf(S('sub')));
  for (const out of [O('rec'), O('rec-default')]) {
    assert.deepEqual(fs.readdirSync(out).sort(), ['deep', 'hl2']);
    assert.equal(read(path.join(out, 'deep', 'file')), 'deep\n');
    assert.equal(mtimeNs(out), 1200000000n * NS + 250000000n);
  }
});

test('--overwrite never (default), always (bare -O), newer, older: which existing files are replaced', async () => {
  const T = OW_TIME;
  const modes: [string, string[], string[]][] = [
    // [label, options, files replaced]; "fresh" does not exist in the target and is always restored
    ['default', [], []],
    ['never', ['--overwrite', 'never'], []],
    ['always', ['--overwrite', 'always'], ['older-here', 'newer-here', 'same']],
    ['bare', ['-O'], ['older-here', 'newer-here', 'same']],
    ['newer', ['-O', 'newer'], ['older-here']], // the backup is newer than the local copy
    ['older', ['--overwrite', 'older'], ['newer-here']], // the backup is older than the local copy
  ];
  const local: Record<string, number> = { 'older-here': T - 3600, 'newer-here': T + 3600, same: T };
  for (const [label] of modes) {
    for (const [n, t] of Object.entries(local)) {
      write(O('ow-' + label, 'ow', n), `local ${n}\n`);
      fs.utimesSync(O('ow-' + label, 'ow', n), t, t);
    }
  }
  const runs = await Promise.all(modes.map(([label, opts]) => regen([...opts, '-o', O('ow-' + label), S('ow')])));
  for (const [i, [label, , replaced]] of modes.entries()) {
    const at = (n: string) => O('ow-' + label, 'ow', n);
    assert.equal(read(at('fresh')), 'backup\n', `${label}: fresh`);
    for (const [n, t] of Object.entries(local)) {
      if (replaced.includes(n)) {
        assert.equal(read(at(n)), 'backup\n', `${label}: ${n} replaced`);
        assert.equal(mtimeNs(at(n)), BigInt(T) * NS, `${label}: ${n} has the backed-up mtime`);
      } else {
        assert.equal(read(at(n)), `local ${n}\n`, `${label}: ${n} left alone`);
        assert.equal(mtimeNs(at(n)), BigInt(t) * NS, `${label}: ${n} keeps its mtime`);
        assert.match(runs[i]!.stderr, new RegExp(`warning: .*ow/${n}: exists, not overwritten`), `${label}: ${n} is reported`);
      }
    }
    assert.doesNotMatch(runs[i]!.stderr, /error/, `${label}: skipping is not an error`);
  }
  // A single file whose -o target exists: the same rules.
  write(O('ow-single'), 'local\n');
  fs.utimesSync(O('ow-single'), T + 10, T + 10);
  await regen(['-O', 'newer', '-o', O('ow-single'), S('ow', 'same')]);
  assert.equal(read(O('ow-single')), 'local\n');
  await regen(['-O', 'older', '-o', O('ow-single'), S('ow', 'same')]);
  assert.equal(read(O('ow-single')), 'backup\n');
  await refused(['-O', 'sometimes', '-o', O('ow-x'), S('ow')], 1, /--overwrite must be one of never, always, newer, older, not 'sometimes'/);
});

test('--set-times/--set-perms restore mtimes, modes and owners; --no-set-times and --no-set-perms leave the defaults', async () => {
  // New files and directories under the umask of 022 set above (the restores inherit it).
  const fileDefault = 0o644;
  const dirDefault = 0o755;
  const started = BigInt(Date.now() - 5000) * 1_000_000n;
  const variants = { default: [], explicit: ['--set-times', '--set-perms'], noTimes: ['--no-set-times'], noPerms: ['--no-set-perms'] };
  await Promise.all(Object.entries(variants).map(([k, opts]) => regen([...opts, '-o', O('meta-' + k), S('metadir')])));
  const FILE_T = 1000000000n * NS + 123456789n;
  const DIR_T = 1100000000n * NS + 500000000n;
  for (const k of ['default', 'explicit', 'noTimes', 'noPerms']) {
    const d = O('meta-' + k);
    const f = path.join(d, 'meta');
    assert.equal(read(f), 'meta\n');
    const perms = k !== 'noPerms';
    const times = k !== 'noTimes';
    assert.equal(modeOf(f), perms ? 0o640 : fileDefault, `${k}: file mode`);
    assert.equal(modeOf(d), perms ? 0o750 : dirDefault, `${k}: directory mode`);
    if (times) {
      assert.equal(mtimeNs(f), FILE_T, `${k}: file mtime`);
      assert.equal(mtimeNs(d), DIR_T, `${k}: directory mtime`);
    } else {
      assert.ok(mtimeNs(f) >= started, `${k}: file mtime is the time of the restore`);
      assert.ok(mtimeNs(d) >= started, `${k}: directory mtime is the time of the restore`);
    }
    if (root) {
      const st = fs.lstatSync(f);
      assert.deepEqual([st.uid, st.gid], perms ? [4242, 4343] : [process.getuid!(), process.getgid!()], `${k}: owner`);
    }
  }
});

test('--hardlinks (default) re-creates hard links among restored files; --no-hardlinks makes copies', async () => {
  await Promise.all([
    regen(['-o', O('hl-default'), src]),
    regen(['--hardlinks', '-o', O('hl-on'), src]),
    regen(['--no-hardlinks', '-o', O('hl-off'), src]),
  ]);
  for (const k of ['default', 'on']) {
    const out = O('hl-' + k);
    assert.equal(ino(path.join(out, 'hl1')), ino(path.join(out, 'sub', 'hl2')), `${k}: one inode`);
    assert.equal(fs.statSync(path.join(out, 'hl1')).nlink, 2);
  }
  const off = O('hl-off');
  assert.notEqual(ino(path.join(off, 'hl1')), ino(path.join(off, 'sub', 'hl2')));
  assert.equal(fs.statSync(path.join(off, 'hl1')).nlink, 1);
  assert.equal(read(path.join(off, 'hl1')), 'linked\n');
  assert.equal(read(path.join(off, 'sub', 'hl2')), 'linked\n');
  const diffs = await compareTrees(src, off);
  assert.ok(diffs.length > 0 && diffs.every((d) => /hl/.test(d)), `only the hard links differ:\n${diffs.join('\n')}`);
});

test('--reduce-path N strips leading components; bare --reduce-path strips until the rest is in the set', async () => {
  const prefixed = (p: string) => path.join('/extra/prefix', p);
  const [n, smart, smartBefore, smartLast, withLast, tree] = await Promise.all([
    regen(['--reduce-path', '2', prefixed(S('text'))]),
    regen([path.join('/a/b/c', S('text')), '--reduce-path']),
    regen(['--reduce-path', path.join('/a/b/c', S('text'))]),
    regen(['--reduce-path', '-b', 'first', path.join('/x', S('text'))]),
    regen(['-l', '--reduce-path', '2', prefixed(S('gone'))]),
    regen(['--reduce-path', '2', '-o', O('reduced'), prefixed(S('sub'))]),
  ]);
  assert.equal(n.stdout, 'version 3\n');
  assert.equal(smart.stdout, 'version 3\n');
  assert.equal(smartBefore.stdout, 'version 3\n', 'a bare --reduce-path before the path does not take the path as N');
  assert.equal(smartLast.stdout, 'version 1\n');
  assert.equal(withLast.stdout, 'gone v2\n', '--last looks the reduced path up');
  assert.equal(tree.stdout, '');
  assert.equal(read(O('reduced', 'deep', 'file')), 'deep\n');
  await Promise.all([
    refused([prefixed(S('text'))], 1, /not found in set third/),
    refused(['--reduce-path', '3', prefixed(S('text'))], 1, /not found in set third/),
    refused(['--reduce-path=two', S('text')], 1, /--reduce-path needs a non-negative integer, not 'two'/),
  ]);
});

test('bad options and arguments: a one-line usage error and exit 1', async () => {
  await Promise.all([
    refused(['--bogus', S('text')], 1, /Unknown option '--bogus' \(see --help\)/),
    refused(['-Z', S('text')], 1, /Unknown option '-Z'/),
    refused([S('text'), '--output'], 1, /option '-o, --output <path>' value is missing/),
    refused(['--verify-action', 'maybe', S('text')], 1, /--verify-action must be one of keep, rename, delete, not 'maybe'/),
    refused([], 1, /nothing to restore/),
  ]);
  const help = await regen(['--help']);
  for (const opt of ['--output', '--backup', '--date', '--last', '--no-recurse', '--overwrite', '--no-set-times', '--no-set-perms', '--no-hardlinks', '--reduce-path', '--verify-action']) {
    assert.ok(help.stdout.includes(opt), `--help shows ${opt}`);
  }
  assert.match(help.stdout, /Exit status: 0 success; 1 failure; 2 unknown set/);
});

/** The catalog of a repository, for finding (and tampering with) what a file is stored as. */
function catalog(repoDir: string): DatabaseSync {
  return new DatabaseSync(path.join(repoDir, 'catalog.db'));
}

test('--verify-action keep, rename (default), delete on a damaged chunk and on a checksum mismatch; exit 1', async (t) => {
  const { dir: vdir, cleanup: vclean } = tempDir('tardis-regenerate-verify-');
  t.after(vclean);
  const vrepo = await quickRepo(vdir);
  const vsrc = path.join(vdir, 'src');
  const V = (...rel: string[]) => path.join(vsrc, ...rel);
  const victim = seededBytes(4 * MiB + 99, 'victim');
  const tampered = Buffer.from('tampered but authentic\n');
  write(V('damaged', 'victim'), victim);
  write(V('damaged', 'fine'), 'fine\n');
  write(V('mismatch', 'tampered'), tampered);
  write(V('mismatch', 'fine'), 'also fine\n');
  fs.chmodSync(V('damaged', 'victim'), 0o640);
  fs.chmodSync(V('mismatch', 'tampered'), 0o604);
  touch(V('damaged', 'victim'), '1300000000.5');
  touch(V('mismatch', 'tampered'), '1300000001.5');
  await backup(vrepo, [vsrc]);

  // Damage: flip a byte in the middle of the victim's second chunk (of at least three) in its
  // pack, so that the chunk fails authentication. Mismatch: the chunks are intact but the
  // catalog's whole-file hash of `tampered` is not the hash of its content.
  const db = catalog(vrepo);
  try {
    const ids = (db.prepare('SELECT chunks FROM contents WHERE size = ?').get(victim.length) as { chunks: Uint8Array }).chunks;
    assert.ok(ids.length >= 3 * 32, `fixture: the victim has ${ids.length / 32} chunks`);
    const loc = db.prepare('SELECT pack, offset, length FROM chunks WHERE id = ?').get(ids.subarray(32, 64)) as { pack: string; offset: number; length: number };
    const packFile = path.join(vrepo, 'packs', loc.pack.slice(0, 2), loc.pack);
    const fd = fs.openSync(packFile, 'r+');
    const at = loc.offset + Math.floor(loc.length / 2);
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0]! ^= 0x40;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const changed = db.prepare('UPDATE contents SET hash = randomblob(32) WHERE size = ?').run(tampered.length);
    assert.equal(changed.changes, 1);
  } finally {
    db.close();
  }

  const vregen = (args: string[], expect = 1) => restore(vrepo, args, { expect });
  const out = (...rel: string[]) => path.join(vdir, 'out', ...rel);
  const actions: [string, string[]][] = [['keep', ['--verify-action', 'keep']], ['rename', ['--verify-action', 'rename']], ['default', []], ['delete', ['--verify-action', 'delete']]];
  const runs = await Promise.all(actions.flatMap(([label, opts]) => [
    vregen([...opts, '-o', out(label, 'damaged'), V('damaged')]),
    vregen([...opts, '-o', out(label, 'mismatch'), V('mismatch')]),
  ]));
  const [damagedOut, mismatchOut] = await Promise.all([vregen([V('damaged', 'victim')]), vregen([V('mismatch', 'tampered')])]);

  // What survives a damaged chunk: every chunk that authenticated, in order (chunk plaintext
  // lengths are not recorded, so the hole cannot be zero-filled at its offset).
  const partial = damagedOut.stdoutBytes;
  assert.match(damagedOut.stderr, /victim: 1 damaged chunk\(s\); output is incomplete/);
  assert.equal(damagedOut.stderr.trim().split('\n').length, 1);
  const missing = victim.length - partial.length;
  assert.ok(missing >= 512 * 1024, `one chunk (${missing} bytes) is missing`);
  let head = 0;
  while (head < partial.length && partial[head] === victim[head]) head++;
  assert.ok(head >= 512 * 1024, 'the first chunk is there');
  assert.ok(partial.subarray(head).equals(victim.subarray(head + missing)), 'the chunks after the damaged one follow');
  assert.ok(head + missing < victim.length, 'the damaged chunk was not the last');
  // A mismatch is only known at the end: stdout got the (authentic) bytes, the exit says no.
  assert.ok(mismatchOut.stdoutBytes.equals(tampered));
  assert.match(mismatchOut.stderr, /tampered: content does not match its checksum/);

  for (const [i, [label]] of actions.entries()) {
    const action = label === 'default' ? 'rename' : label;
    for (const [kind, name, content, mode, mtime, why] of [
      ['damaged', 'victim', partial, 0o640, 1300000000n * NS + 500000000n, /1 damaged chunk\(s\), \d+ of \d+ bytes missing/],
      ['mismatch', 'tampered', tampered, 0o604, 1300000001n * NS + 500000000n, /content does not match its checksum/],
    ] as const) {
      const r = runs[i * 2 + (kind === 'damaged' ? 0 : 1)]!;
      const d = out(label, kind);
      const what = `${label}/${kind}`;
      const errors = r.stderr.trim().split('\n');
      assert.equal(errors.length, 1, `${what}: one error line:\n${r.stderr}`);
      assert.match(errors[0]!, why, what);
      assert.match(errors[0]!, action === 'keep' ? /: kept$/ : action === 'rename' ? /: kept as .*-CORRUPT$/ : /: deleted$/, what);
      const expectNames = action === 'keep' ? ['fine', name] : action === 'rename' ? ['fine', `${name}-CORRUPT`] : ['fine'];
      assert.deepEqual(fs.readdirSync(d).sort(), expectNames.sort(), what);
      if (action !== 'delete') {
        const kept = path.join(d, action === 'keep' ? name : `${name}-CORRUPT`);
        assert.ok(fs.readFileSync(kept).equals(content), `${what}: the kept file holds what could be read`);
        assert.equal(modeOf(kept), mode, `${what}: the kept file gets its mode`);
        assert.equal(mtimeNs(kept), mtime, `${what}: the kept file gets its mtime`);
      }
    }
  }
  // One file to a named output: the same actions apply.
  await Promise.all([
    vregen(['--verify-action', 'delete', '-o', out('single-deleted'), V('damaged', 'victim')]),
    vregen(['-o', out('single-renamed'), V('mismatch', 'tampered')]),
  ]);
  assert.equal(fs.existsSync(out('single-deleted')), false);
  assert.equal(fs.existsSync(out('single-renamed')), false);
  assert.ok(fs.readFileSync(out('single-renamed-CORRUPT')).equals(tampered));
  // The intact files of the same repository still restore with exit 0.
  assert.equal((await restore(vrepo, [V('damaged', 'fine')])).stdout, 'fine\n');
});
