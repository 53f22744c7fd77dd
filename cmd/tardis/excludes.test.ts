// Excludes (reference §7) through the real commands: what tardis leaves out, from which source,
// and regression tests for the Tardis exclude bugs of reference §10 (item 10).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRepo, mustRun, runTool, tempDir, type RunResult } from '../../internal/testkit/testkit.ts';
import { backup, write, type BackupJson } from '../../internal/testkit/fixtures.ts';

const SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';
// No system defaults file, and an empty global exclude file instead of the machine's.
const ENV: NodeJS.ProcessEnv = { TARDIS_DEFAULTS: '/nonexistent/system.defaults' };

let dir = '';
let repo = '';
let cleanup = () => {};
after(() => cleanup());

/** Restores set `id`'s copy of `src` and lists it: relative paths, directories with a trailing '/'. */
async function restored(id: number, src: string): Promise<string[]> {
  const out = path.join(dir, `out-${id}`);
  await mustRun('regenerate', ['-R', repo, '-b', String(id), '-o', out, src]);
  const list: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      list.push(path.relative(out, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(out);
  return list.sort();
}

/** A fresh source tree: files (content = their name) and directories (names ending in '/'). */
function tree(name: string, entries: Record<string, string | null>): string {
  const root = path.join(dir, name);
  fs.mkdirSync(root, { recursive: true });
  for (const [rel, content] of Object.entries(entries)) {
    if (rel.endsWith('/')) fs.mkdirSync(path.join(root, rel), { recursive: true });
    else write(path.join(root, rel), content ?? rel);
  }
  return root;
}

const excludedLines = (r: RunResult) => r.stderr.split('\n').filter((l) => l.startsWith('tardis: excluded '));

// One backup with every source of excludes at once; the tests below look at its parts.
let src = '';
let sink: BackupJson & { run: RunResult };
let kept: string[] = [];
before(async () => {
  ({ dir, cleanup } = tempDir('tardis-excludes-'));
  ENV.TARDIS_GLOBAL_EXCLUDES = path.join(dir, 'no-global-excludes');
  fs.writeFileSync(ENV.TARDIS_GLOBAL_EXCLUDES, '');
  repo = await createRepo(dir);
  src = tree('src', {
    'a.o': '', 'a.c': '', 'keep.o': '', 'notes.tmp': '', 'global.skip': '', 'cfg.bak': '', 'abs-only': '', 'sub/abs-only': '',
    'sub/.tardis-excludes': '# logs are noise\r\n\r\n*.log   \r\n\r\n',
    'sub/.tardis-local-excludes': '# only here\nlocal.txt\n',
    'sub/x.log': '', 'sub/deep/y.log': '', 'sub/local.txt': '', 'sub/deep/local.txt': '', 'other/z.log': '',
    'skipme/.tardis-skip': '', 'skipme/data': '',
    'cache/CACHEDIR.TAG': `${SIGNATURE}\n`, 'cache/blob': '',
    'rel/dir/f': '', 'rel/other': '',
    'core': '', 'b~': '', '.git/HEAD': '', 'main.c': '',
  });
  const patterns = path.join(dir, 'patterns.txt');
  fs.writeFileSync(patterns, '# temporary files\n\n*.tmp\n');
  const global = path.join(dir, 'global-excludes');
  fs.writeFileSync(global, 'global.skip\n');
  const cfg = path.join(dir, 'excludes.cfg');
  fs.writeFileSync(cfg, `[Tardis]\nRepository = ${repo}\nExcludePatterns = *.bak\n`);
  // The root is '.', so walk paths would be relative in Tardis: the absolute pattern and the
  // relative --exclude-dir must still match.
  sink = await backup(repo, [
    '--config', cfg, '-v', '-x', '*.o', '-x', '!keep.o', '-x', `${src}/abs-only`, '--exclude-file', patterns,
    '--exclude-dir', 'rel/dir', '--skip-caches', '--cvs-ignore', '.',
  ], { cwd: src, env: { ...ENV, TARDIS_GLOBAL_EXCLUDES: global } });
  kept = await restored(sink.id, src);
});

test('--exclude patterns: gitignore-style, later ones win (!keep.o re-includes)', () => {
  assert.ok(!kept.includes('a.o'));
  assert.ok(kept.includes('a.c') && kept.includes('keep.o'));
});

test('--exclude-file, the global exclude file (TARDIS_GLOBAL_EXCLUDES) and ExcludePatterns from --config', () => {
  assert.ok(!kept.includes('notes.tmp'), '--exclude-file');
  assert.ok(!kept.includes('global.skip'), 'global exclude file');
  assert.ok(!kept.includes('cfg.bak'), 'config ExcludePatterns');
  const lines = excludedLines(sink.run);
  assert.ok(lines.includes(`tardis: excluded ${src}/notes.tmp: matches '*.tmp' (${dir}/patterns.txt:3)`), lines.join('\n'));
  assert.ok(lines.includes(`tardis: excluded ${src}/cfg.bak: matches '*.bak' (${dir}/excludes.cfg:3: ExcludePatterns)`));
  assert.ok(lines.includes(`tardis: excluded ${src}/a.o: matches '*.o' (--exclude)`));
});

test('per-directory .tardis-excludes (recursive) and .tardis-local-excludes (this directory only)', () => {
  assert.ok(!kept.includes('sub/x.log') && !kept.includes('sub/deep/y.log'), 'recursive file holds below');
  assert.ok(kept.includes('other/z.log'), 'and nowhere else');
  assert.ok(!kept.includes('sub/local.txt'), 'local file holds in its directory');
  assert.ok(kept.includes('sub/deep/local.txt'), 'but not below');
  assert.ok(kept.includes('sub/.tardis-excludes') && kept.includes('sub/.tardis-local-excludes'), 'the exclude files themselves are kept');
});

test('regression (Tardis bug): exclude files allow comments, blank lines, trailing spaces and CRLF', () => {
  const lines = excludedLines(sink.run);
  assert.ok(lines.includes(`tardis: excluded ${src}/sub/x.log: matches '*.log' (${src}/sub/.tardis-excludes:3)`), lines.join('\n'));
  assert.ok(kept.includes('sub/deep/'), 'a comment line matched nothing');
});

test('.tardis-skip leaves the directory out; --skip-caches keeps a CACHEDIR.TAG directory, empty', () => {
  assert.ok(!kept.some((p) => p.startsWith('skipme')));
  assert.ok(kept.includes('cache/'));
  assert.ok(!kept.includes('cache/blob') && !kept.includes('cache/CACHEDIR.TAG'));
});

test('regression (Tardis bug): a relative --exclude-dir is made absolute', () => {
  assert.ok(!kept.some((p) => p.startsWith('rel/dir')));
  assert.ok(kept.includes('rel/other'));
});

test('regression (Tardis bug): an absolute pattern matches when the root was given as a relative path', () => {
  assert.ok(!kept.includes('abs-only'));
  assert.ok(kept.includes('sub/abs-only'), 'anchored: only that path');
});

test('--cvs-ignore leaves out core, editor backups and VCS directories', () => {
  for (const p of ['core', 'b~', '.git/']) assert.ok(!kept.includes(p), p);
  assert.ok(kept.includes('main.c'));
});

test('excluded entries are no problems: exit 0, counted in the stats, logged only with -v', async () => {
  assert.equal(sink.run.code, 0);
  assert.equal(sink.stats.problems, 0);
  assert.equal(sink.stats.excluded, excludedLines(sink.run).length);
  assert.ok(sink.stats.excluded >= 14, String(sink.stats.excluded));
  const quiet = await mustRun('tardis', ['-R', repo, '-x', '*.o', src], { env: ENV });
  assert.equal(quiet.stderr, '', 'silent without -v');
});

test('defaults: per-directory files and .tardis-skip apply, caches and CVS files are kept; a newly excluded file leaves the next set', async () => {
  const root = tree('defaults', {
    '.tardis-excludes': 'big/\n', 'big/f': '', 'skip/.tardis-skip': '', 'cache/CACHEDIR.TAG': `${SIGNATURE}\n`, 'cache/blob': '', 'x.o': '', 'later.iso': '',
  });
  const first = await backup(repo, [root], { env: ENV });
  assert.deepEqual(await restored(first.id, root), ['.tardis-excludes', 'cache/', 'cache/CACHEDIR.TAG', 'cache/blob', 'later.iso', 'x.o']);
  const second = await backup(repo, ['-v', '-x', '*.iso', root], { env: ENV });
  assert.equal(second.stats.files, first.stats.files - 1);
  assert.ok(excludedLines(second.run).includes(`tardis: excluded ${root}/later.iso: matches '*.iso' (--exclude)`));
});

test('--exclude-file-name, --local-exclude-file-name, --skip-file-name and their TARDIS_* variables', async () => {
  const root = tree('names', {
    '.ignore-here': 'a\n', '.ignore-local': 'b\n', 'a': '', 'b': '', 'sub/a': '', 'sub/b': '', 'nope/.dont': '', 'skipped/.tardis-skip': '',
  });
  const flags = await backup(repo, ['-v', '--exclude-file-name', '.ignore-here', '--local-exclude-file-name', '.ignore-local', '--skip-file-name', '.dont', root], { env: ENV });
  assert.deepEqual(await restored(flags.id, root), ['.ignore-here', '.ignore-local', 'skipped/', 'skipped/.tardis-skip', 'sub/', 'sub/b']);
  const env = { ...ENV, TARDIS_EXCLUDES: '.ignore-here', TARDIS_LOCAL_EXCLUDES: '.ignore-local', TARDIS_SKIP: '.dont' };
  const byEnv = await backup(repo, ['-v', root], { env });
  assert.equal(excludedLines(byEnv.run).length, 4);
  assert.deepEqual(excludedLines(byEnv.run), excludedLines(flags.run));
});

test('global exclude file: missing default is fine, --ignore-global-excludes skips it; bad files are one-line errors', async () => {
  const root = tree('global', { 'g': '', 'h': '' });
  const global = path.join(dir, 'global2');
  fs.writeFileSync(global, 'g\n');
  const env = { ...ENV, TARDIS_GLOBAL_EXCLUDES: global };
  assert.equal((await backup(repo, [root], { env })).stats.files, 1);
  assert.equal((await backup(repo, ['--ignore-global-excludes', root], { env })).stats.files, 2);
  // The default file (here from the system defaults file) may be missing; a named one may not.
  const sys = path.join(dir, 'system.defaults');
  fs.writeFileSync(sys, '[Tardis]\nTARDIS_GLOBAL_EXCLUDES = /nonexistent/excludes\n');
  await backup(repo, [root], { env: { TARDIS_DEFAULTS: sys } });
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--exclude-file', path.join(dir, 'missing.txt')], ENV, /^tardis: error: exclude file: cannot read '.*missing\.txt': no such file$/],
    [[], { ...ENV, TARDIS_GLOBAL_EXCLUDES: path.join(dir, 'missing-global') }, /^tardis: error: global exclude file: cannot read '.*missing-global': no such file$/],
  ];
  for (const [args, e, re] of cases) {
    const r = await runTool('tardis', ['-R', repo, ...args, root], { env: e });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('--exclude-no-access, and regression (Tardis bug): ExcludeNoAccess = False in a config file means false', async (t) => {
  // The permission check is for the running user; root reads everything, so run as nobody.
  const root = process.getuid?.() === 0;
  const asUser = root ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  if (root && spawnSync('setpriv', [...asUser.slice(1), 'true']).status !== 0) return t.skip('root, and setpriv cannot switch to nobody');
  const { dir: d, cleanup: clean } = tempDir('tardis-noaccess-');
  t.after(clean);
  fs.chmodSync(d, 0o755);
  const own = await createRepo(d);
  const src2 = path.join(d, 'src');
  write(path.join(src2, 'open'), 'readable\n');
  write(path.join(src2, 'secret'), 'unreadable\n');
  write(path.join(src2, 'locked', 'inner'), 'x\n');
  fs.chmodSync(path.join(src2, 'secret'), 0o600);
  fs.chmodSync(path.join(src2, 'locked'), 0o700);
  if (root) {
    spawnSync('chown', ['-R', '65534:65534', path.join(d, 'repo')]);
  } else {
    fs.chmodSync(path.join(src2, 'secret'), 0);
    fs.chmodSync(path.join(src2, 'locked'), 0);
    t.after(() => fs.chmodSync(path.join(src2, 'locked'), 0o700));
  }
  const cfg = (v: string) => {
    const f = path.join(d, `noaccess-${v}.cfg`);
    fs.writeFileSync(f, `[Tardis]\nExcludeNoAccess = ${v}\n`);
    return f;
  };
  const tardis = (args: string[]) => runTool('tardis', ['-R', own, '--json', '--ignore-global-excludes', ...args, src2], { env: ENV, prefix: asUser });
  const cases: [string[], number][] = [
    [[], 3],
    [['--config', cfg('False')], 3],
    [['--config', cfg('true')], 0],
    [['--config', cfg('true'), '--no-exclude-no-access'], 3],
    [['--exclude-no-access'], 0],
  ];
  for (const [args, code] of cases) {
    // Nothing changes between runs: a file that could not be read is tried (and counted) again
    // every time, not hidden behind its directory's unchanged listing.
    const r = await tardis(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    const stats = (JSON.parse(r.stdout) as BackupJson).stats;
    assert.equal(stats.excluded, code === 0 ? 2 : 0, args.join(' '));
    assert.equal(stats.unreadable, code === 0 ? 0 : 2, args.join(' '));
  }
});
