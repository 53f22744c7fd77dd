// sonic list's filters, info's purgeable estimate and sonic files: what a set brought in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { backup, seededBytes, setupRepo, write } from '../../internal/testkit/fixtures.ts';

interface Set { id: number; name: string; priority: number }
const names = async (repo: string, args: string[]) => (JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json', ...args])).stdout) as Set[]).map((s) => s.name);

test('sonic list --minpriority, --first/--last, --before/--after', async (t) => {
  const { repo, src } = await setupRepo(t, 'sonic-list-');
  write(path.join(src, 'f'), 'x');
  for (const [name, pri] of [['a', '10'], ['b', '30'], ['c', '20'], ['d', '30']]) {
    await backup(repo, ['--name', name!, src]);
    await mustRun('sonic', ['priority', '-R', repo, '-b', name!, '-p', pri!]);
  }
  assert.deepEqual(await names(repo, ['--minpriority', '20']), ['b', 'c', 'd']);
  assert.deepEqual(await names(repo, ['--minpriority', '20', '--last', '2']), ['c', 'd']);
  assert.deepEqual(await names(repo, ['--first', '1']), ['a']);
  assert.deepEqual(await names(repo, ['--after', '1 hour ago']), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await names(repo, ['--before', '2020-01-01']), []);
  const table = await mustRun('sonic', ['list', '-R', repo, '--last', '1']);
  assert.equal(table.stdout.trim().split('\n').length, 2, 'a header and one row');
  for (const bad of [['--first', '1', '--last', '1'], ['--minpriority', 'high'], ['--before', 'not a date at all']]) {
    const r = await runTool('sonic', ['list', '-R', repo, ...bad]);
    assert.equal(r.code, 1, bad.join(' '));
  }
});

test('sonic files lists what a set added or changed (and with --previous what went); info estimates what deleting it frees', async (t) => {
  const { repo, src } = await setupRepo(t, 'sonic-files-');
  write(path.join(src, 'keep'), 'same');
  write(path.join(src, 'edit'), 'v1');
  write(path.join(src, 'gone'), 'bye');
  await backup(repo, ['--name', 'one', src]);
  write(path.join(src, 'edit'), 'v2 longer');
  write(path.join(src, 'sub', 'new'), seededBytes(50_000, 'files'));
  fs.rmSync(path.join(src, 'gone'));
  await backup(repo, ['--name', 'two', src]);

  const grouped = await mustRun('sonic', ['files', '-R', repo]);
  assert.equal(grouped.stdout, `${src}:\n    edit\n\n${src}/sub:\n    new\n`);
  const full = await mustRun('sonic', ['files', '-R', repo, '-b', 'two', '-f', '-S', '--previous', '-s']);
  assert.deepEqual(full.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [
    ['changed', '9', `${src}/edit`],
    ['deleted', '3', `${src}/gone`],
    ['new', '50000', `${src}/sub/new`],
  ]);
  const dirs = await mustRun('sonic', ['files', '-R', repo, '--dirs', '-f', '-t']);
  assert.match(dirs.stdout, new RegExp(`^dir ${src}/sub$`, 'm'));
  const json = JSON.parse((await mustRun('sonic', ['files', '-R', repo, '-b', 'one', '--json'])).stdout) as { path: string; status: string }[];
  assert.deepEqual(json.map((r) => [r.path.slice(src.length), r.status]), [['/edit', 'new'], ['/gone', 'new'], ['/keep', 'new']]);
  const long = await mustRun('sonic', ['files', '-R', repo, '-l', '-f']);
  assert.match(long.stdout, new RegExp(`^-rw-r--r-- +1 \\S+ +\\S+ +9 \\w{3} \\d\\d \\d\\d:\\d\\d ${src}/edit$`, 'm'));

  const info = JSON.parse((await mustRun('sonic', ['info', '-R', repo, '--json'])).stdout) as { name: string; purgeable: { files: number; bytes: number } }[];
  assert.deepEqual(info.map((s) => [s.name, s.purgeable]), [['one', { files: 2, bytes: 5 }], ['two', { files: 2, bytes: 50_009 }]]);
  assert.match((await mustRun('sonic', ['info', '-R', repo, '-b', 'two'])).stdout, /Purgeable: +2 file contents \(48\.8 KiB\) that no other set has/);
  const missing = await runTool('sonic', ['files', '-R', repo, '-b', 'nope']);
  assert.equal(missing.code, 2);
});
