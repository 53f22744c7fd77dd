import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T_DIR, T_FILE, T_SYMLINK, type VisibleEntry } from '../model/entry.ts';
import type { SetInfo } from '../model/session.ts';
import { classify, shownVersions, type Version } from './history.ts';

const set = (id: number): SetInfo => ({
  id, name: `s${id}`, completed: true, priority: 0, keepDays: 0, full: false, locked: false, startTime: id * 1000,
  endTime: null, clientTime: null, stats: null, error: null, tags: [],
});
const id = (n: number) => Buffer.alloc(32, n);
function file(over: Partial<VisibleEntry> & { chunkIds?: number[] } = {}): VisibleEntry {
  const { chunkIds = [1], ...rest } = over;
  return {
    node: 5, name: Buffer.from('f'), type: T_FILE, mode: 0o644, uid: 0, gid: 0, user: null, group: null, size: 3,
    mtimeS: 100, mtimeNs: 0, ctimeS: 100, ctimeNs: 0, atimeS: 0, atimeNs: 0, ino: 7, dev: 1, nlink: 1, rdev: 0, target: null,
    hash: Buffer.from('h1'), chunks: Buffer.concat(chunkIds.map(id)), ...rest,
  };
}
const statuses = (vs: Version[]) => vs.map((v) => v.status);

test('classify: new, unchanged, changed (content), moved (inode only), gone, back as new, broken', () => {
  const sets = [1, 2, 3, 4, 5, 6, 7, 8].map(set);
  const h = [
    null,
    file(),
    file({ atimeS: 5 }), // an atime is no change
    file({ hash: Buffer.from('h2'), chunkIds: [2] }),
    file({ hash: Buffer.from('h2'), chunkIds: [2], ino: 8 }),
    null,
    file({ hash: Buffer.from('h2'), chunkIds: [2], ino: 8 }),
    file({ hash: null, chunks: null }),
  ];
  const v = classify(sets, h);
  assert.deepEqual(statuses(v), ['absent', 'new', 'unchanged', 'changed', 'moved', 'gone', 'new', 'broken']);
  assert.deepEqual(v.map((x) => x.full), [false, true, false, true, false, false, true, false]);
});

test('classify: shared chunks make a change partial (not full); newChunks counts what the version added', () => {
  const v = classify([1, 2].map(set), [file({ chunkIds: [1, 2, 3] }), file({ hash: Buffer.from('h2'), chunkIds: [1, 2, 4] })]);
  assert.deepEqual(v.map((x) => [x.status, x.full, x.newChunks]), [['new', true, 3], ['changed', false, 1]]);
});

test('classify: -T counts times, -M times and metadata (mode, owner); symlinks by target, directories by mtime', () => {
  const sets = [1, 2].map(set);
  const touched = [file(), file({ mtimeS: 200 })];
  assert.deepEqual(statuses(classify(sets, touched)), ['new', 'unchanged']);
  assert.deepEqual(statuses(classify(sets, touched, { times: true })), ['new', 'changed']);
  assert.deepEqual(statuses(classify(sets, touched, { metadata: true })), ['new', 'changed']);
  for (const change of [{ mode: 0o600 }, { uid: 1000 }, { gid: 1000 }, { user: Buffer.from('u') }, { group: Buffer.from('g') }]) {
    const h = [file(), file(change)];
    assert.deepEqual(statuses(classify(sets, h)), ['new', 'unchanged'], JSON.stringify(change));
    assert.deepEqual(statuses(classify(sets, h, { times: true })), ['new', 'unchanged'], JSON.stringify(change));
    assert.deepEqual(statuses(classify(sets, h, { metadata: true })), ['new', 'changed'], JSON.stringify(change));
  }
  const link = (t: string) => file({ type: T_SYMLINK, target: Buffer.from(t), hash: null, chunks: null });
  assert.deepEqual(statuses(classify(sets, [link('a'), link('b')])), ['new', 'changed']);
  assert.deepEqual(statuses(classify(sets, [link('a'), link('a')])), ['new', 'unchanged'], 'a symlink has no content hash and is not broken');
  const d = (m: number) => file({ type: T_DIR, mtimeS: m, hash: null, chunks: null });
  assert.deepEqual(statuses(classify(sets, [d(1), d(2)])), ['new', 'changed']);
  assert.deepEqual(classify(sets, [d(1), d(2)]).map((x) => x.full), [false, false], 'a directory is never a full copy');
  assert.deepEqual(statuses(classify(sets, [file(), d(100)])), ['new', 'changed'], 'another type');
});

test('shownVersions: change, all, last, none; --no-deletions, --no-broken', () => {
  const sets = [1, 2, 3, 4, 5].map(set);
  const v = classify(sets, [file(), file(), file({ hash: Buffer.from('h2') }), null, file({ hash: null, chunks: null })]);
  const names = (vs: Version[]) => vs.map((x) => x.set.name);
  assert.deepEqual(names(shownVersions(v, 'change')), ['s1', 's3', 's4', 's5']);
  assert.deepEqual(names(shownVersions(v, 'all')), ['s1', 's2', 's3', 's4', 's5']);
  assert.deepEqual(names(shownVersions(v, 'last')), ['s3']);
  assert.deepEqual(names(shownVersions(v, 'none')), []);
  assert.deepEqual(names(shownVersions(v, 'change', { deletions: false })), ['s1', 's3', 's5']);
  assert.deepEqual(names(shownVersions(v, 'all', { broken: false })), ['s1', 's2', 's3', 's4']);
});
