// tardiff against real backups made with bin/tardis: a set against the live files and two sets
// against each other; unified (default), context and ndiff; directories (with Tardis' two-set
// directory bug and its file-versus-directory slip as regressions), --recurse, binary files,
// --list, --binary, --reduce-path, colours on a terminal only, exit codes as diff's, and a
// comparison through a real tardisd.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, mustRun, PASSWORD, runTool, tempDir, type RunResult } from '../../internal/testkit/testkit.ts';
import { backup, write } from '../../internal/testkit/fixtures.ts';
import { startTardisd } from '../../internal/testkit/tardisd.ts';
import { formatTime } from '../../internal/ui/index.ts';

const { dir, cleanup } = tempDir('tardis-tardiff-');
after(cleanup);
const src = path.join(dir, 'src');
const S = (...rel: string[]) => path.join(src, ...rel);
let repo = '';
const sets: { id: number; name: string; startTime: number }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 30);

const V1 = ['the quick brown fox', 'jumps over', 'the lazy dog', 'and keeps running', 'far away', 'into the woods', 'until night'];
const V2 = ['the quick brown fox', 'jumps over', 'the lazy cat', 'and keeps running', 'far away', 'into the woods', 'until night falls', 'THE END'];
const lines = (l: string[]) => l.map((x) => `${x}\n`).join('');

/** `tardiff -R repo ARGS…`, which must exit `expect`. */
const td = (args: string[], expect: number, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> =>
  mustRun('tardiff', ['-R', repo, ...args], { expect, ...opts });
/** The header of a file version in a set: its start time and name. */
const inSet = (i: number) => `${formatTime(sets[i]!.startTime)} (${sets[i]!.name})`;
const live = (p: string) => `${formatTime(fs.statSync(p).mtimeMs)} (filesystem)`;

/** Runs a tool on a pseudo-terminal (script(1)); its output, \r\n made \n. */
function onTty(tool: string, args: string[], env: NodeJS.ProcessEnv = {}): { out: string; code: number | null } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync('script', ['-qec', `${q(path.join(BIN, tool))} ${args.map(q).join(' ')}`, '/dev/null'],
    { env: { ...process.env, TARDIS_PASSWORD: PASSWORD, NO_COLOR: '', ...env }, encoding: 'utf8' });
  return { out: r.stdout.replace(/\r\n/g, '\n'), code: r.status };
}

// Sets first and second; the live tree then changes text once more.
//   text         V1 → V2 (→ live: one more line)
//   dir/{a,b,c}  → a changed, b the same, c removed, d added; dir/sub/x changed
//   bin          binary (NUL bytes), changed       kind   a file, then a directory
//   link         a symlink whose target changes    same   never changes
before(async () => {
  repo = path.join(dir, 'repo', 'client');
  await mustRun('sonic', ['create', '--no-password', '-R', repo]);
  write(S('text'), lines(V1));
  write(S('dir', 'a'), 'a1\n');
  write(S('dir', 'b'), 'b\n');
  write(S('dir', 'c'), 'c\n');
  write(S('dir', 'sub', 'x'), 'x1\n');
  write(S('bin'), Buffer.from('\x00\x01binary one\n', 'latin1'));
  write(S('kind'), 'a file\n');
  write(S('same'), 'same\n');
  fs.symlinkSync('one', S('link'));
  const b = async (name: string) => {
    const r = await backup(repo, ['--name', name, src]);
    const list = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as typeof sets;
    sets.push(list.find((s) => s.id === r.id)!);
  };
  await b('first');
  await nextSecond();
  write(S('text'), lines(V2));
  write(S('dir', 'a'), 'a2\n');
  fs.rmSync(S('dir', 'c'));
  write(S('dir', 'd'), 'd\n');
  write(S('dir', 'sub', 'x'), 'x2\n');
  write(S('bin'), Buffer.from('\x00\x02binary two\n', 'latin1'));
  fs.rmSync(S('kind'));
  write(S('kind', 'inside'), 'now a directory\n');
  fs.rmSync(S('link'));
  fs.symlinkSync('two', S('link'));
  await b('second');
  write(S('text'), lines([...V2, 'one more line']));
});

test('against the live file (default: Current): a unified diff, exit 1; the same file: nothing, exit 0', async () => {
  const r = await td([S('text')], 1);
  assert.equal(r.stdout, [
    `--- ${S('text')}\t${inSet(1)}`,
    `+++ ${S('text')}\t${live(S('text'))}`,
    '@@ -6,3 +6,4 @@',
    ' into the woods',
    ' until night falls',
    ' THE END',
    '+one more line',
    '',
  ].join('\n'));
  assert.equal(r.stderr, '');
  const same = await td([S('same'), S('dir', 'b')], 0);
  assert.equal(same.stdout + same.stderr, '');
});

test('two sets (-b A -b B), by name, id, tag-less date; unified -u N, context -c [N], ndiff -n', async () => {
  const uni = await td(['-b', 'first', '-b', 'second', '-u', '1', S('text')], 1);
  assert.equal(uni.stdout, [
    `--- ${S('text')}\t${inSet(0)}`,
    `+++ ${S('text')}\t${inSet(1)}`,
    '@@ -2,3 +2,3 @@',
    ' jumps over',
    '-the lazy dog',
    '+the lazy cat',
    ' and keeps running',
    '@@ -6,2 +6,3 @@',
    ' into the woods',
    '-until night',
    '+until night falls',
    '+THE END',
    '',
  ].join('\n'));
  // The same sets chosen by id, and the first by a date between the two.
  const between = formatTime(Math.ceil(sets[0]!.startTime / 1000) * 1000);
  assert.equal((await td(['-b', String(sets[0]!.id), '-b', String(sets[1]!.id), '--unified', '1', S('text')], 1)).stdout, uni.stdout);
  assert.equal((await td(['-b', between, '-b', 'Current', '-u', '1', S('text')], 1)).stdout, uni.stdout);
  // Bare -u (3 lines) before a path: the path is not taken for N.
  const bare = await td(['-b', 'first', '-b', 'second', '-u', S('text')], 1);
  assert.match(bare.stdout, /^@@ -1,7 \+1,8 @@$/m);

  const ctx = await td(['-b', 'first', '-b', 'second', '-c', '1', S('text')], 1);
  assert.equal(ctx.stdout, [
    `*** ${S('text')}\t${inSet(0)}`,
    `--- ${S('text')}\t${inSet(1)}`,
    '***************',
    '*** 2,4 ****',
    '  jumps over',
    '! the lazy dog',
    '  and keeps running',
    '--- 2,4 ----',
    '  jumps over',
    '! the lazy cat',
    '  and keeps running',
    '***************',
    '*** 6,7 ****',
    '  into the woods',
    '! until night',
    '--- 6,8 ----',
    '  into the woods',
    '! until night falls',
    '! THE END',
    '',
  ].join('\n'));
  const ctx5 = await td(['-b', 'first', '-b', 'second', '--context', S('text')], 1);
  assert.match(ctx5.stdout, /^\*\*\* 1,7 \*\*\*\*$/m, 'bare -c: 5 lines of context, one hunk');

  const nd = await td(['-b', 'first', '-b', 'second', '-n', S('text')], 1);
  assert.equal(nd.stdout, [
    `--- ${S('text')}\t${inSet(0)}`,
    `+++ ${S('text')}\t${inSet(1)}`,
    '  the quick brown fox',
    '  jumps over',
    '- the lazy dog',
    '?          ^^^',
    '+ the lazy cat',
    '?          ^^^',
    '  and keeps running',
    '  far away',
    '  into the woods',
    '- until night',
    '+ until night falls',
    '?            ++++++',
    '+ THE END',
    '',
  ].join('\n'));
});

test('directories of two sets: only real differences (Tardis compared str with bytes names and called every entry missing: regression)', async () => {
  const r = await td(['-b', 'first', '-b', 'second', S('dir')], 1);
  assert.equal(r.stdout, [
    `--- ${S('dir', 'a')}\t${inSet(0)}`,
    `+++ ${S('dir', 'a')}\t${inSet(1)}`,
    '@@ -1 +1 @@',
    '-a1',
    '+a2',
    `${S('dir', 'c')} in first, not in second`,
    `${S('dir', 'd')} in second, not in first`,
    '',
  ].join('\n'), 'b (the same in both) and sub (no --recurse) are not mentioned');
  const rec = await td(['-b', 'first', '-b', 'second', '--recurse', S('dir')], 1);
  assert.ok(rec.stdout.startsWith(r.stdout), rec.stdout);
  assert.equal(rec.stdout.slice(r.stdout.length), [
    `--- ${S('dir', 'sub', 'x')}\t${inSet(0)}`,
    `+++ ${S('dir', 'sub', 'x')}\t${inSet(1)}`,
    '@@ -1 +1 @@',
    '-x1',
    '+x2',
    '',
  ].join('\n'));
  // The live directory is the second set's: nothing differs.
  assert.equal((await td(['-r', S('dir')], 0)).stdout, '');
  // A file in one set, a directory in the other (Tardis took the first set's kind for both).
  const kind = await td(['-b', 'first', '-b', 'second', S('kind')], 1);
  assert.equal(kind.stdout, `${S('kind')} is a file in first, a dir in second\n`);
  const link = await td(['-b', 'first', '-b', 'second', S('link')], 1);
  assert.equal(link.stdout, `Symbolic links ${S('link')} differ: one in first, two in second\n`);
});

test('binary files are reported, not diffed (-B diffs them anyway); --list names what differs', async () => {
  const bin = await td(['-b', 'first', '-b', 'second', S('bin')], 1);
  assert.equal(bin.stdout, `Binary files ${S('bin')} (first) and ${S('bin')} (second) differ\n`);
  const forced = await td(['-b', 'first', '-b', 'second', '--binary', S('bin')], 1);
  assert.match(forced.stdout, /^-\x00\x01binary one\n\+\x00\x02binary two\n$/m);
  assert.equal((await td([S('bin')], 0)).stdout, '', 'the same binary: nothing');
  const list = await td(['-b', 'first', '-b', 'second', '-r', '-l', S('dir'), S('text'), S('bin'), S('same')], 1);
  assert.equal(list.stdout, [S('dir', 'a'), S('dir', 'c'), S('dir', 'd'), S('dir', 'sub', 'x'), S('text'), S('bin'), ''].join('\n'));
  const liveList = await td(['--list', src], 1);
  assert.equal(liveList.stdout, `${S('text')}\n`, 'against the live tree, only text changed since the last set');
});

test('--reduce-path: the path is looked up in the sets without its leading components', async () => {
  const elsewhere = path.join('/x/y', S('text'));
  const missing = await td(['-b', 'first', '-b', 'second', elsewhere], 2);
  assert.equal(missing.stderr, `tardiff: error: ${elsewhere}: not in first, nor in second\n`);
  for (const opt of [['--reduce-path', '2'], ['--reduce-path']]) {
    const r = await td(['-b', 'first', '-b', 'second', ...opt, '-u', '0', elsewhere], 1);
    assert.match(r.stdout, /^-the lazy dog\n\+the lazy cat$/m, opt.join(' '));
  }
});

test('trouble exits 2 with one line: unknown set, three sets, a missing path, two styles, a bad option', async () => {
  const cases: [string[], RegExp][] = [
    [['-b', 'nosuch', S('text')], /no backup set named 'nosuch'/],
    [['-b', 'first', '-b', 'second', '-b', 'first', S('text')], /given 3 times/],
    [[S('nothing')], /nothing: not in second, nor in filesystem/],
    [['-u', '-c', S('text')], /--unified, --context are mutually exclusive/],
    [['--frobnicate', S('text')], /Unknown option/],
    [['--unified=x', S('text')], /--unified needs a non-negative integer/],
    [[], /nothing to compare/],
  ];
  for (const [args, re] of cases) {
    const r = await td(args, 2);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
  // A path deleted since the set: in the set, not here.
  fs.renameSync(S('same'), S('same.moved'));
  try {
    const gone = await td([S('same')], 2);
    assert.equal(gone.stderr, `tardiff: error: ${S('same')}: not in filesystem\n`);
  } finally {
    fs.renameSync(S('same.moved'), S('same'));
  }
});

test('colours on a terminal (- red, + green, @ yellow), not in a pipe, nor with NO_COLOR or --no-color; --color forces them', async () => {
  const args = ['-R', repo, '-b', 'first', '-b', 'second', '-u', '0', S('dir', 'a')];
  const tty = onTty('tardiff', args);
  assert.equal(tty.code, 1);
  assert.equal(tty.out, [
    `\x1b[31m--- ${S('dir', 'a')}\t${inSet(0)}\x1b[0m`,
    `\x1b[32m+++ ${S('dir', 'a')}\t${inSet(1)}\x1b[0m`,
    '\x1b[33m@@ -1 +1 @@\x1b[0m',
    '\x1b[31m-a1\x1b[0m',
    '\x1b[32m+a2\x1b[0m',
    '',
  ].join('\n'));
  assert.doesNotMatch(onTty('tardiff', args, { NO_COLOR: '1' }).out, /\x1b\[/);
  assert.doesNotMatch(onTty('tardiff', [...args, '--no-color']).out, /\x1b\[/);
  assert.doesNotMatch((await td(args.slice(2), 1)).stdout, /\x1b\[/);
  assert.match((await td(['--color', ...args.slice(2)], 1)).stdout, /^\x1b\[31m-a1\x1b\[0m$/m);
  const missing = onTty('tardiff', ['-R', repo, '-b', 'first', '-b', 'second', S('dir')]);
  assert.match(missing.out, new RegExp(`^\\x1b\\[31m${S('dir', 'c')} in first, not in second\\x1b\\[0m$`, 'm'));
});

test('through a real tardisd (tardis://): against the live file and between two sets', async (t) => {
  const { dir: base, cleanup: done } = tempDir('tardis-tardiff-d-');
  t.after(done);
  const work = path.join(base, 'work');
  write(path.join(work, 'notes'), 'one\ntwo\n');
  fs.mkdirSync(path.join(base, 'srv'));
  const d = await startTardisd(t, ['--basedir', path.join(base, 'srv'), '--address', '127.0.0.1', '--port', '0', '--allow-new-hosts']);
  const url = `tardis://127.0.0.1:${d.port}/remote`;
  await backup(url, ['--create', '--name', 'r1', work]);
  write(path.join(work, 'notes'), 'one\nTWO\n');
  await backup(url, ['--name', 'r2', work]);
  write(path.join(work, 'notes'), 'one\nTWO\nthree\n');
  const vsLive = await runTool('tardiff', ['-R', url, path.join(work, 'notes')]);
  assert.equal(vsLive.code, 1, vsLive.stderr);
  assert.match(vsLive.stdout, /\(r2\)\n\+\+\+ .*\(filesystem\)\n@@ -1,2 \+1,3 @@\n one\n TWO\n\+three\n$/);
  const sets2 = await runTool('tardiff', ['-R', url, '-b', 'r1', '-b', 'r2', '-l', work]);
  assert.equal(sets2.code, 1, sets2.stderr);
  assert.equal(sets2.stdout, `${path.join(work, 'notes')}\n`);
  const unknown = await runTool('tardiff', ['-R', url, '-b', 'r9', work]);
  assert.equal(unknown.code, 2);
  assert.equal((await d.stop()).code, 0);
});
