import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { walk, type Problem } from '../walk/index.ts';
import { CACHEDIR_SIGNATURE, Excluder, expandPath, type ExcludeOptions } from './exclude.ts';

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-exclude-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Creates files (content = path) and directories (names ending in '/') under a fresh dir. */
function tree(name: string, entries: Record<string, string | null>): string {
  const root = path.join(tmp, name);
  for (const [rel, content] of Object.entries(entries)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) fs.mkdirSync(p, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content ?? rel);
    }
  }
  return root;
}

/** Walks `root` with the excluder: the relative paths kept (dirs with '/'), the reasons, the problems. */
async function run(root: string, opts: ExcludeOptions) {
  const kept: string[] = [];
  const excluded: string[] = [];
  const problems: Problem[] = [];
  const exclude = Excluder.load(opts);
  for await (const l of walk([Buffer.from(root)], { exclude, onExclude: (p, why) => excluded.push(`${path.relative(root, p.toString())}: ${why}`), onProblem: (p) => problems.push(p) })) {
    for (const e of l.entries) kept.push(path.relative(root, path.join(l.path.toString(), e.name.toString())) + (e.type === 'dir' ? '/' : ''));
  }
  return { kept: kept.sort(), excluded, problems };
}

test('global patterns, pattern files and the global exclude file are one rule list, in order', async () => {
  const root = tree('global', { 'a.o': '', 'a.c': '', 'keep.o': '', 'sub/b.o': '', 'sub/notes.tmp': '', 'logs/x': '', 'abs/x': '' });
  const pfile = path.join(tmp, 'patterns.txt');
  fs.writeFileSync(pfile, '# temporary files\n\n*.tmp\n');
  const gfile = path.join(tmp, 'global-excludes');
  fs.writeFileSync(gfile, 'logs/\n');
  const r = await run(root, {
    globalFile: gfile, patternFiles: [pfile],
    patterns: [{ patterns: ['*.o', `${root}/abs`], source: 'config' }, { patterns: ['!keep.o'], source: '--exclude' }],
  });
  assert.deepEqual(r.kept, ['a.c', 'keep.o', 'sub/']);
  assert.ok(r.excluded.includes(`sub/notes.tmp: matches '*.tmp' (${pfile}:3)`), r.excluded.join('\n'));
  assert.ok(r.excluded.includes("a.o: matches '*.o' (config)"));
  assert.ok(r.excluded.includes(`abs: matches '${root}/abs' (config)`), 'absolute patterns match absolute paths');
  assert.deepEqual(r.problems, []);
});

test('the global exclude file may be missing unless required; a missing --exclude-file is an error', () => {
  const missing = path.join(tmp, 'no-such-file');
  assert.doesNotThrow(() => Excluder.load({ globalFile: missing }));
  assert.throws(() => Excluder.load({ globalFile: missing, globalFileRequired: true }), /^UsageError: global exclude file: cannot read '.*no-such-file': no such file$/);
  assert.throws(() => Excluder.load({ patternFiles: [missing] }), /^UsageError: exclude file: cannot read '.*no-such-file': no such file$/);
  assert.throws(() => Excluder.load({ globalFile: tmp }), /is a directory/, 'an existing but unreadable global file is not skipped');
});

test('recursive exclude files hold below their directory, local ones only in it; inner files override outer ones', async () => {
  const root = tree('perdir', {
    '.tardis-excludes': '# outer\n*.log\nbuild/\n/top-only\n',
    'a.log': '', 'top-only': '', 'build/o': '',
    'sub/.tardis-local-excludes': 'local.txt\n',
    'sub/local.txt': '', 'sub/top-only': '', 'sub/b.log': '',
    'sub/deeper/local.txt': '',
    'sub/inner/.tardis-excludes': '!keep.log\n!build/\n',
    'sub/inner/keep.log': '', 'sub/inner/other.log': '', 'sub/inner/build/o': '',
  });
  const r = await run(root, { excludeFileName: '.tardis-excludes', localExcludeFileName: '.tardis-local-excludes' });
  assert.deepEqual(r.kept, [
    '.tardis-excludes', 'sub/', 'sub/.tardis-local-excludes', 'sub/deeper/', 'sub/deeper/local.txt', 'sub/inner/',
    'sub/inner/.tardis-excludes', 'sub/inner/build/', 'sub/inner/build/o', 'sub/inner/keep.log', 'sub/top-only',
  ]);
  assert.ok(r.excluded.includes(`sub/b.log: matches '*.log' (${root}/.tardis-excludes:2)`), r.excluded.join('\n'));
});

test('a directory re-included by a more specific file keeps its contents (no parent rule leaks in)', async () => {
  const root = tree('reinclude', { 'x/.tardis-excludes': '!build/\n', 'x/build/f': '', 'y/build/f': '' });
  const r = await run(root, { excludeFileName: '.tardis-excludes', patterns: [{ patterns: ['build/'], source: '--exclude' }] });
  assert.deepEqual(r.kept, ['x/', 'x/.tardis-excludes', 'x/build/', 'x/build/f', 'y/']);
});

test('a root that matches a pattern is still backed up, with its contents', async () => {
  const root = tree('build', { 'f': '', 'sub/g': '' });
  const r = await run(root, { patterns: [{ patterns: ['build'], source: '--exclude' }] });
  assert.deepEqual(r.kept, ['f', 'sub/', 'sub/g']);
});

test('skip file: the directory is left out entirely; CACHEDIR.TAG: listed but not entered', async () => {
  const root = tree('skip', {
    'skipped/.tardis-skip': '', 'skipped/data': '',
    'cache/CACHEDIR.TAG': `${CACHEDIR_SIGNATURE}\n# This file is a cache directory tag.\n`, 'cache/blob': '',
    'fake-cache/CACHEDIR.TAG': 'Signature: not the right one\n', 'fake-cache/blob': '',
    'short/CACHEDIR.TAG': 'Signature: 8a47', 'short/blob': '',
  });
  fs.mkdirSync(path.join(root, 'tagdir/CACHEDIR.TAG'), { recursive: true });
  const r = await run(root, { skipFileName: '.tardis-skip', skipCaches: true });
  assert.deepEqual(r.kept, [
    'cache/', 'fake-cache/', 'fake-cache/CACHEDIR.TAG', 'fake-cache/blob', 'short/', 'short/CACHEDIR.TAG', 'short/blob',
    'tagdir/', 'tagdir/CACHEDIR.TAG/',
  ]);
  assert.deepEqual(r.excluded, ['cache: contents left out: it has a valid CACHEDIR.TAG (--skip-caches)', 'skipped: contains .tardis-skip']);
  const off = await run(root, { skipFileName: '', skipCaches: false });
  assert.ok(off.kept.includes('cache/blob') && off.kept.includes('skipped/data'), 'both are opt-in/out');
});

test('--exclude-dir paths are made absolute against the current directory; ~ and $VAR expand', async () => {
  const root = tree('dirs', { 'a/x': '', 'b/x': '', 'c/x': '', 'd/x': '' });
  const env = { HOME: root, WHERE: 'c' };
  const r = await run(root, { dirs: ['a', './b/', '~/d', `${root}/$WHERE`], cwd: root, env });
  assert.deepEqual(r.kept, []);
  assert.deepEqual(r.excluded.map((x) => x.split(':')[0]), ['a', 'b', 'c', 'd']);
  assert.equal(expandPath('~/x/${WHERE}/$NOPE', env), `${root}/x/c/$NOPE`);
});

test('--exclude-no-access leaves out what the user cannot read (root reads everything)', async () => {
  const root = tree('access', { 'mine': '', 'group': '', 'other': '', 'secret': '', 'dir/x': '', 'nox/x': '' });
  const chmod = (p: string, m: number) => fs.chmodSync(path.join(root, p), m);
  chmod('mine', 0o400);
  chmod('group', 0o040);
  chmod('other', 0o004);
  chmod('secret', 0o600);
  chmod('nox', 0o644); // readable but not searchable
  const owner = fs.statSync(path.join(root, 'mine')).uid;
  const group = fs.statSync(path.join(root, 'mine')).gid;
  try {
    const asOwner = await run(root, { noAccess: true, identity: { uid: owner === 0 ? 4242 : owner, gids: [] } });
    const asStranger = await run(root, { noAccess: true, identity: { uid: 4243, gids: [group] } });
    const asRoot = await run(root, { noAccess: true, identity: { uid: 0, gids: [] } });
    if (owner === 0) {
      // Files belong to root here: 4242 is a stranger in no group.
      assert.deepEqual(asOwner.kept, ['dir/', 'dir/x', 'other']);
    } else {
      assert.deepEqual(asOwner.kept, ['dir/', 'dir/x', 'mine', 'secret']);
    }
    assert.deepEqual(asStranger.kept, ['dir/', 'dir/x', 'group']);
    assert.equal(asRoot.kept.length, 8);
    assert.ok(asStranger.excluded.includes('nox: no read and search permission (--exclude-no-access)'));
  } finally {
    chmod('nox', 0o755);
  }
});

test('the CVS list is added by cvs: true', async () => {
  const root = tree('cvs', { 'a.o': '', 'b~': '', '#tmp#': '', 'core': '', '.git/HEAD': '', 'CVS/Entries': '', 'main.c': '', 'x.orig': '' });
  assert.deepEqual((await run(root, { cvs: true })).kept, ['main.c']);
  assert.equal((await run(root, {})).kept.length, 10);
});

test('an unreadable exclude file is a problem; a symlink of that name is not followed', async () => {
  const root = tree('badfile', { '.tardis-excludes': '*\n', 'x': '', 'sub/y': '' });
  fs.symlinkSync(path.join(root, '.tardis-excludes'), path.join(root, 'sub/.tardis-excludes'));
  const r = await run(root, { excludeFileName: '.tardis-excludes' });
  assert.deepEqual(r.kept, [], "the top file's '*' excludes everything, itself too");
  const sub = await run(path.join(root, 'sub'), { excludeFileName: '.tardis-excludes' });
  assert.deepEqual(sub.kept, ['.tardis-excludes', 'y'], 'the symlink is no exclude file');
  fs.rmSync(path.join(root, 'sub/.tardis-excludes'));
  fs.mkdirSync(path.join(root, 'sub/.tardis-excludes'));
  const dir = await run(path.join(root, 'sub'), { excludeFileName: '.tardis-excludes' });
  assert.deepEqual(dir.problems, [], 'a directory of that name is ignored');
  if (process.getuid?.() !== 0) {
    fs.chmodSync(path.join(root, '.tardis-excludes'), 0);
    const denied = await run(root, { excludeFileName: '.tardis-excludes' });
    assert.equal(denied.problems.length, 1);
    assert.match(denied.problems[0]!.error!.message, /cannot read exclude file: EACCES/);
  }
});
