// lstardis against real backups made with bin/tardis: the versions of a file and of a directory's
// entries across sets, every option (-V, -l, -a, -r, -f, -s, -D, -H, -d, -c, -L, -i, -O, -T, -M,
// --deletions, --broken, --headers, --columns, --recurse, --maxdepth, --glob, --reduce-path,
// --realpath, --range, --dates, -b, --json), colours on a terminal only, a missing path, the
// regression for Tardis' -M bug, and a listing through a real tardisd.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, mustRun, PASSWORD, runTool, sh, tempDir, type RunResult } from '../../internal/testkit/testkit.ts';
import { backup, seededBytes, write } from '../../internal/testkit/fixtures.ts';
import { startTardisd } from '../../internal/testkit/tardisd.ts';
import type { ListedPath } from '../../internal/inspect/index.ts';

const MiB = 1 << 20;
const { dir, cleanup } = tempDir('tardis-lstardis-');
after(cleanup);
const src = path.join(dir, 'src');
const S = (...rel: string[]) => path.join(src, ...rel);
let repo = '';
let ids: number[] = [];
let starts: number[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits into the next second, so that sets can be told apart by a date with seconds. */
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 30);
const BIG = seededBytes(4 * MiB, 'lstardis-big');

/** `lstardis -R repo ARGS…`, which must exit `expect`. */
const ls = (args: string[], expect = 0, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> =>
  mustRun('lstardis', ['-R', repo, ...args], { expect, ...opts });
/** The output without the "Client:" header line. */
const body = async (args: string[], expect = 0) => (await ls(args, expect)).stdout.split('\n').slice(1).join('\n');

/** Runs a tool on a pseudo-terminal (script(1)) of 100 columns; its output, \r\n made \n. */
function onTty(tool: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `stty cols 100; ${q(path.join(BIN, tool))} ${args.map(q).join(' ')}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, TARDIS_PASSWORD: PASSWORD, NO_COLOR: '', ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/\r\n/g, '\n');
}

// Three sets a second apart: first (tag gold), second, third.
//   text     changes in every set          same   never changes
//   moved    replaced by a copy in second  gone   deleted before third
//   touched  mtime changed in third        chmod  mode changed in third
//   big      4 MiB, its end changed in second (shares chunks with first)
//   sub/deep/file, sub/other, sub/new (from third), .hidden, exe (755), link -> text
before(async () => {
  repo = path.join(dir, 'repo', 'client');
  await mustRun('sonic', ['create', '--no-password', '-R', repo]);
  write(S('text'), 'v1\n');
  write(S('same'), 'same\n');
  write(S('moved'), 'moved\n');
  write(S('gone'), 'gone\n');
  write(S('touched'), 'touched\n');
  write(S('chmod'), 'chmod\n');
  write(S('big'), BIG);
  write(S('sub', 'deep', 'file'), 'deep\n');
  write(S('sub', 'other'), 'other\n');
  write(S('.hidden'), 'hidden\n');
  write(S('exe'), '#!/bin/sh\n');
  fs.chmodSync(S('exe'), 0o755);
  fs.chmodSync(S('chmod'), 0o644);
  fs.symlinkSync('text', S('link'));
  fs.symlinkSync(src, path.join(dir, 'alias'));
  const b = async (name: string, extra: string[] = []) => {
    const r = await backup(repo, ['--name', name, ...extra, src]);
    ids.push(r.id);
    const sets = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; startTime: number }[];
    starts.push(sets.find((s) => s.id === r.id)!.startTime);
  };
  await b('first', ['--tag', 'gold']);
  await nextSecond();
  write(S('text'), 'v2\n');
  fs.copyFileSync(S('moved'), S('moved.tmp'));
  fs.renameSync(S('moved.tmp'), S('moved'));
  const big2 = Buffer.from(BIG);
  big2.write('changed at the end', BIG.length - 100);
  write(S('big'), big2);
  await b('second');
  await nextSecond();
  write(S('text'), 'v3\n');
  fs.rmSync(S('gone'));
  sh(`touch -d @1500000000 '${S('touched')}'`);
  fs.chmodSync(S('chmod'), 0o600);
  write(S('sub', 'new'), 'new\n');
  await b('third');
});

test('a file: header, then the sets where it changed, one per line when not on a terminal', async () => {
  const r = await ls([S('text')]);
  assert.equal(r.stdout, `Client: client    Repository: ${repo}\n${S('text')}:\n  first\n  second\n  third\n`);
  assert.equal(r.stderr, '');
  assert.equal(await body([S('same')]), `${S('same')}:\n  first\n`);
  assert.equal(await body([S('moved')]), `${S('moved')}:\n  first\n  second\n`, 'a new inode with the same content is a version (moved)');
  assert.equal(await body([S('gone')]), `${S('gone')}:\n  first\n  (third)\n`, 'where it vanished, in parentheses');
  assert.equal(await body([S('touched')]), `${S('touched')}:\n  first\n`, 'a new mtime alone is no change…');
  assert.equal(await body(['-T', S('touched')]), `${S('touched')}:\n  first\n  third\n`, '…unless -T');
});

test('-V all, last, none; --no-deletions; --no-headers; -O; --columns', async () => {
  assert.equal(await body(['-V', 'all', S('same')]), `${S('same')}:\n  first\n  second\n  third\n`);
  assert.equal(await body(['--versions', 'last', S('text')]), `${S('text')}:\n  third\n`);
  assert.equal(await body(['-V', 'last', S('gone')]), `${S('gone')}:\n  first\n`);
  assert.equal(await body(['-V', 'none', S('text')]), `${S('text')}:\n`);
  assert.equal(await body(['--no-deletions', S('gone')]), `${S('gone')}:\n  first\n`);
  assert.equal(await body(['--no-broken', '--broken', '--deletions', S('gone')]), `${S('gone')}:\n  first\n  (third)\n`);
  assert.equal((await ls(['--no-headers', S('text')])).stdout, '  first\n  second\n  third\n');
  assert.equal(await body(['-O', S('text')]), `${S('text')}:  first  second  third\n`);
  assert.equal(await body(['--oneline', S('sub')]), `${S('sub')}:  first  third\ndeep   first\nnew    third\nother  first\n`);
  assert.equal(await body(['--columns', '2', S('text')]), `${S('text')}:\n  first   second\n  third\n`);
  await ls(['-V', 'some', S('text')], 1);
  await ls(['--columns', 'many', S('text')], 1);
});

test('a directory: its versions, then every name it held in any set (dot files with -a), -r, -d, -f, -V none', async () => {
  const names = (out: string) => out.split('\n').filter((l) => l && !l.startsWith(' ') && !l.startsWith(src));
  const all = await body([src]);
  assert.deepEqual(names(all), ['big', 'chmod', 'exe', 'gone', 'link', 'moved', 'same', 'sub', 'text', 'touched']);
  assert.match(all, /^gone\n {2}first\n {2}\(third\)$/m);
  assert.deepEqual(names(await body(['-a', src])), ['big', 'chmod', 'exe', 'gone', '.hidden', 'link', 'moved', 'same', 'sub', 'text', 'touched'], 'sorted without case and leading dots');
  assert.deepEqual(names(await body(['-r', src])), ['touched', 'text', 'sub', 'same', 'moved', 'link', 'gone', 'exe', 'chmod', 'big']);
  assert.equal(await body(['-d', src]), `${src}:\n  first\n  second\n  third\n`);
  assert.deepEqual(names(await body(['-f', '-V', 'none', src])), ['big', 'chmod', 'exe*', 'gone', 'link@', 'moved', 'same', 'sub/', 'text', 'touched']);
  // The same entries from the current directory (the default PATH).
  assert.equal((await ls([], 0, { cwd: src })).stdout, (await ls([src])).stdout);
});

test('-l: an ls -l row per version; -s, -H, -i, -c, -L, -D add columns', async () => {
  const st = fs.lstatSync(S('text'));
  const user = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
  const long = await body(['-l', S('text')]);
  const rows = long.split('\n').slice(1, 4);
  for (const [i, name] of ['first', 'second', 'third'].entries()) {
    assert.match(rows[i]!, new RegExp(`^ {2}-rw-r--r-- {3}1 ${user} +\\S+ +3 \\w{3} \\d\\d \\d\\d:\\d\\d +${name}$`), long);
  }
  assert.ok(st.size === 3);
  const link = await body(['-l', '--no-realpath', S('link')]);
  assert.match(link, /^ {2}lrwxrwxrwx .* first -> text$/m);
  const exe = await body(['-l', S('exe')]);
  assert.match(exe, /^ {2}-rwxr-xr-x /m);
  const gone = await body(['-l', S('gone')]);
  assert.match(gone, /^ {2}\(third\)$/m);

  const sized = await body(['-s', S('big')]);
  assert.match(sized, new RegExp(`^ {2}first +${4 * MiB}$`, 'm'));
  assert.match(await body(['-s', '-H', S('big')]), /^ {2}first +4(\.0)? ?MiB$/m);
  const inode = await body(['-i', S('big')]);
  assert.match(inode, new RegExp(`^ {2}second +${fs.statSync(S('big')).ino}$`, 'm'));
  const sums = (await body(['-c', S('text')])).split('\n').slice(1, 4).map((l) => l.trim().split(/\s+/)[1]);
  assert.equal(new Set(sums).size, 3, 'three contents, three checksums');
  for (const s of sums) assert.match(s!, /^[0-9a-f]{64}$/);
  // -L: chunks per version; -D: how many are new since the version before. big is several
  // chunks, and its second version shares all but the last with the first.
  const chunks = (await body(['-L', '-D', S('big')])).split('\n').slice(1, 3).map((l) => l.trim().split(/\s+/).slice(1).map(Number));
  const [[new1, all1], [new2, all2]] = chunks as [[number, number], [number, number]];
  assert.ok(all1 >= 2, `big is several chunks (${all1})`);
  assert.equal(new1, all1, 'the first version is all new');
  assert.equal(all2, all1);
  assert.ok(new2 >= 1 && new2 < all2, `the second version stores only the changed chunks (${new2} of ${all2})`);
  const longExtra = await body(['-l', '-i', '-D', S('text')]);
  assert.match(longExtra, new RegExp(`^ {2}-rw-r--r-- .* 1 +${fs.statSync(S('text')).ino} +third$`, 'm'), 'new chunks, then the inode');
});

test('-M counts a mode change as a version (Tardis\' -M read fields its query no longer had: regression)', async () => {
  assert.equal(await body([S('chmod')]), `${S('chmod')}:\n  first\n`);
  assert.equal(await body(['-M', S('chmod')]), `${S('chmod')}:\n  first\n  third\n`);
  assert.equal(await body(['--metadata', S('same')]), `${S('same')}:\n  first\n`, 'nothing changed, nothing shown');
  const j = JSON.parse((await ls(['--json', '-M', '-V', 'all', S('chmod')])).stdout) as { paths: ListedPath[] };
  assert.deepEqual(j.paths[0]!.versions!.map((v) => [v.set, v.status, v.mode]), [['first', 'new', 0o644], ['second', 'unchanged', 0o644], ['third', 'changed', 0o600]]);
});

test('--recurse and --maxdepth list subdirectories; --glob matches names in the backups', async () => {
  const rec = await body(['--recurse', '-V', 'none', S('sub')]);
  assert.equal(rec, `${S('sub')}:\ndeep\nnew\nother\n\n${S('sub', 'deep')}:\nfile\n`);
  assert.equal(await body(['--maxdepth', '0', '-V', 'none', S('sub')]), `${S('sub')}:\ndeep\nnew\nother\n`);
  assert.equal((await ls(['--no-headers', '--recurse', '-V', 'none', S('sub')])).stdout, `deep\nnew\nother\n\n${S('sub', 'deep')}:\nfile\n`,
    '--no-headers drops the header lines, not the name of each subdirectory');
  const deep = await body(['--maxdepth', '1', '-V', 'none', '-d', src]);
  assert.equal(deep, `${src}:\n\n${S('sub')}:\n`, '-d with recursion: the directories themselves');
  const globbed = await body(['--glob', '-V', 'none', path.join(src, 't*')]);
  assert.equal(globbed, `${S('text')}:\n\n${S('touched')}:\n`);
  const gone = await body(['--glob', path.join(src, 'go?e')]);
  assert.equal(gone, `${S('gone')}:\n  first\n  (third)\n`, 'a name only older sets hold');
  const none = await ls(['--glob', path.join(src, 'zz*')], 2);
  assert.match(none.stderr, /zz\*: no match in the sets listed/);
  const literal = await ls([path.join(src, 't*')], 2);
  assert.match(literal.stderr, /t\*: not found/, 'without --glob a * is a character');
});

test('--range, --dates and -b choose sets by id, name, tag, Current or date; bad ones are errors', async () => {
  const [a, b, c] = ids as [number, number, number];
  const versions = async (args: string[]) => (await body([...args, S('text')])).split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
  assert.deepEqual(await versions(['--range', `${a}:${b}`]), ['first', 'second']);
  assert.deepEqual(await versions(['--range', 'second:']), ['second', 'third']);
  assert.deepEqual(await versions(['--range', ':gold']), ['first'], 'a tag');
  assert.deepEqual(await versions(['--range', 'second..Current']), ['second', 'third']);
  assert.deepEqual(await versions(['--range', String(c)]), ['third']);
  assert.deepEqual(await versions(['--range', 'first:first']), ['first']);
  assert.deepEqual(await versions(['-b', 'second']), ['second'], 'one set: the first it shows is new');
  assert.deepEqual(await versions(['-b', 'Current']), ['third']);
  // Dates: the sets started from START to END (free text or ISO; colons inside are fine).
  const iso = (ms: number) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };
  const between = iso(Math.ceil(starts[0]! / 1000) * 1000); // after first started, before second
  assert.deepEqual(await versions(['--dates', `${between}:`]), ['second', 'third']);
  assert.deepEqual(await versions(['--dates', `:${between}`]), ['first']);
  assert.deepEqual(await versions(['--dates', `2001-01-01:${between}`]), ['first']);
  assert.deepEqual(await versions(['--dates', `${between}..tomorrow`]), ['second', 'third']);
  assert.deepEqual(await versions(['--dates', 'yesterday']), ['first', 'second', 'third']);
  assert.deepEqual(await versions(['-b', between]), ['first'], '-b with a date: the set in effect then');
  const hdr = (await ls(['--dates', `${between}:`, S('text')])).stdout.split('\n')[1];
  assert.match(hdr!, new RegExp(`^Sets started ${between} to …$`));

  const unknown = await ls(['--range', 'first:nosuch', S('text')], 2);
  assert.equal(unknown.stderr, "lstardis: error: --range: no backup set named 'nosuch' (by id, name, tag or date)\n");
  const backwards = await ls(['--range', 'third:first', S('text')], 1);
  assert.match(backwards.stderr, /the end \(first\) is before the start \(third\)/);
  await ls(['--dates', 'blue moon', S('text')], 1);
  await ls(['--dates', 'tomorrow:yesterday', S('text')], 1);
  const empty = await ls(['--dates', 'tomorrow:', S('text')], 2);
  assert.match(empty.stderr, /no completed backup set to list/);
  const both = await ls(['--range', '1:2', '-b', 'first', S('text')], 1);
  assert.match(both.stderr, /mutually exclusive/);
  await ls(['-b', 'nosuch', S('text')], 2);
});

test('--reduce-path and --realpath: where a path is looked up', async () => {
  // The backup holds src at its absolute path; /x/y/<src> reduced by 2 is <src>.
  const elsewhere = path.join('/x/y', src, 'text');
  assert.equal((await ls([elsewhere], 2)).stdout.split('\n').length, 2);
  assert.match(await body(['--reduce-path', '2', elsewhere]), /^ {2}third$/m);
  assert.match(await body(['--reduce', '2', elsewhere]), /^ {2}third$/m, 'Tardis\' name for it');
  assert.match(await body(['--reduce-path', elsewhere]), /^ {2}third$/m, 'bare: smart');
  // Symlinks on this machine are resolved by default (as Tardis: a link given is its target).
  assert.equal(await body([S('link')]), await body([S('text')]));
  assert.match(await body(['--no-realpath', S('link')]), new RegExp(`^${S('link')}:\n {2}first\n$`));
  const viaLink = path.join(dir, 'alias', 'text');
  assert.equal(await body([viaLink]), `${S('text')}:\n  first\n  second\n  third\n`);
  const missing = await ls(['--no-realpath', viaLink], 2);
  assert.equal(missing.stderr, `lstardis: error: ${viaLink}: not found in any of the sets listed\n`);
});

test('a path in no set: one line on stderr, exit 2; the other paths are still listed', async () => {
  const r = await ls([S('nothing-here'), S('text')], 2);
  assert.equal(r.stderr, `lstardis: error: ${S('nothing-here')}: not found in any of the sets listed\n`);
  assert.match(r.stdout, new RegExp(`${S('text')}:\n {2}first\n`));
  const one = await ls(['-b', 'first', S('sub', 'new')], 2);
  assert.equal(one.stderr, `lstardis: error: ${S('sub', 'new')}: not found in set first\n`);
});

test('--json: the same data, with every field of each version', async () => {
  const j = JSON.parse((await ls(['--json', '-V', 'all', S('sub')])).stdout) as { client: string; sets: { name: string }[]; paths: ListedPath[] };
  assert.equal(j.client, 'client');
  assert.deepEqual(j.sets.map((s) => s.name), ['first', 'second', 'third']);
  const sub = j.paths[0]!;
  assert.equal(sub.path, S('sub'));
  assert.equal(sub.type, 'dir');
  assert.deepEqual(sub.children!.map((c) => [c.path, c.type, c.versions!.map((v) => `${v.set}:${v.status}`).join(',')]), [
    [S('sub', 'deep'), 'dir', 'first:new,second:unchanged,third:unchanged'],
    [S('sub', 'new'), 'file', 'third:new'],
    [S('sub', 'other'), 'file', 'first:new,second:unchanged,third:unchanged'],
  ]);
  const file = sub.children![2]!.versions![0]!;
  assert.equal(file.size, 6);
  assert.equal(file.chunks, 1);
  assert.match(file.checksum!, /^[0-9a-f]{64}$/);
  assert.equal(file.inode, fs.statSync(S('sub', 'other')).ino);
  const rec = JSON.parse((await ls(['--json', '--recurse', S('sub')])).stdout) as { paths: ListedPath[] };
  assert.deepEqual(rec.paths[0]!.children![0]!.children!.map((c) => c.path), [S('sub', 'deep', 'file')], 'with --recurse a subdirectory holds its own children');
  const miss = await ls(['--json', S('nothing-here')], 2);
  assert.deepEqual(JSON.parse(miss.stdout).paths, [{ path: S('nothing-here'), found: false }]);
});

test('colours: on a terminal (by status), never in a pipe, not with NO_COLOR or --no-colors; --colors forces them; TARDIS_LS_COLORS', async () => {
  const piped = await ls([src]);
  assert.doesNotMatch(piped.stdout, /\x1b\[/);
  const tty = onTty('lstardis', ['-R', repo, S('gone')]);
  // The header green, the first version (a new full copy) bold cyan, the deletion yellow; on a
  // terminal the versions go in columns.
  assert.equal(tty, `\x1b[33mClient: client    Repository: ${repo}\x1b[0m\n\x1b[32m${S('gone')}:\x1b[0m\n  \x1b[36;1mfirst\x1b[0m   \x1b[33m(third)\x1b[0m\n`);
  const moved = onTty('lstardis', ['-R', repo, '--no-headers', S('moved')]);
  assert.equal(moved, '  \x1b[36;1mfirst\x1b[0m   \x1b[34msecond\x1b[0m\n', 'moved: blue');
  assert.doesNotMatch(onTty('lstardis', ['-R', repo, S('gone')], { NO_COLOR: '1' }), /\x1b\[/);
  assert.doesNotMatch(onTty('lstardis', ['-R', repo, '--no-colors', S('gone')]), /\x1b\[/);
  const forced = await ls(['--colors', '--no-headers', S('gone')]);
  assert.equal(forced.stdout, '  \x1b[36;1mfirst\x1b[0m\n  \x1b[33m(third)\x1b[0m\n');
  const custom = await ls(['--colors', '--no-headers', S('gone')], 0, { env: { TARDIS_LS_COLORS: 'gone=red,on_white,underline:full=none' } });
  assert.equal(custom.stdout, '  first\n  \x1b[31;47;4m(third)\x1b[0m\n');
  const bad = await ls(['--colors', '--no-headers', S('gone')], 0, { env: { TARDIS_LS_COLORS: 'gone=purple' } });
  assert.match(bad.stderr, /warning: TARDIS_LS_COLORS: gone=purple: unknown colour 'purple'/);
  // On a terminal, a directory's names in columns with -V none.
  const cols = onTty('lstardis', ['-R', repo, '--no-colors', '--no-headers', '-V', 'none', S('sub')]);
  assert.equal(cols, 'deep   new    other\n');
});

test('through a real tardisd (tardis://): the same listing as from the repository directory', async (t) => {
  const { dir: base, cleanup: done } = tempDir('tardis-lstardis-d-');
  t.after(done);
  const d = await startTardisd(t, ['--basedir', base, '--address', '127.0.0.1', '--port', '0', '--allow-new-hosts']);
  const url = `tardis://127.0.0.1:${d.port}/remote`;
  await backup(url, ['--create', '--name', 'one', src]);
  write(path.join(dir, 'extra'), 'x');
  const r = await runTool('lstardis', ['-R', url, '-l', '-V', 'all', S('sub')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Client: remote {4}Repository: ${url.replace(/\./g, '\\.')}\n${S('sub')}:\n {2}drwx`));
  assert.match(r.stdout, /^deep\n {2}drwx.* one$/m);
  assert.match(r.stdout, /^other\n {2}-rw-r--r-- .* 6 .* one$/m);
  const missing = await runTool('lstardis', ['-R', url, S('nothing')]);
  assert.equal(missing.code, 2);
  assert.equal((await d.stop()).code, 0);
});
