import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress, type ProgressStream } from './progress.ts';
import { displayWidth } from './format.ts';

function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { text(): string; writes: string[] } {
  const writes: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(w, { isTTY, columns, writes, text: () => writes.join('') });
}

const state = { files: 10, dirs: 2, bytesRead: 5 * 1024 * 1024, bytesNew: 1024 * 1024, current: '/home/u/a.txt' };

test('not a TTY: writes nothing', () => {
  const s = fakeStream(false);
  const p = new Progress({ stream: s });
  assert.equal(p.enabled, false);
  p.update(state);
  p.update({ ...state, files: 11 });
  p.done();
  assert.equal(s.text(), '');
});

test('enabled(false) on a TTY also writes nothing', () => {
  const s = fakeStream(true);
  const p = new Progress({ stream: s, enabled: false });
  p.update(state);
  p.done();
  assert.equal(s.text(), '');
});

test('TTY: \\r-redrawn status line, throttled, cleared by done()', () => {
  let now = 0;
  const s = fakeStream(true, 80);
  const p = new Progress({ stream: s, now: () => now, intervalMs: 150 });
  assert.equal(p.enabled, true);
  now = 2000;
  p.update(state);
  assert.equal(s.writes.length, 1);
  const first = s.writes[0];
  assert.match(first, /^\r.*\x1b\[K$/);
  assert.match(first, /2\.0s  10 files  2 dirs  5\.0 MiB read  2\.5 MiB\/s  1\.0 MiB new  \/home\/u\/a\.txt/);
  now = 2100;
  p.update({ ...state, files: 11 }); // too soon: not drawn
  assert.equal(s.writes.length, 1);
  now = 2200;
  p.update({ ...state, files: 12 });
  assert.equal(s.writes.length, 2);
  assert.match(s.writes[1], /12 files/);
  p.done();
  assert.equal(s.writes.at(-1), '\r\x1b[K');
  p.update(state);
  p.done();
  assert.equal(s.writes.length, 3, 'nothing after done()');
});

test('TTY: lines are truncated to the width, the path in the middle', () => {
  const s = fakeStream(true, 60);
  const p = new Progress({ stream: s, now: () => 0 });
  const long = `/home/user/${'deep/'.repeat(20)}final-file.txt`;
  p.update({ ...state, current: long, phase: 'backup', bytesTotal: 10 * 1024 * 1024 });
  const line = s.writes[0].replace(/^\r/, '').replace(/\x1b\[K$/, '');
  assert.ok(displayWidth(line) <= 59, `${displayWidth(line)}: ${line}`);
  assert.match(line, /^backup  0ms  10 files  2 dirs  5\.0 MiB\/10\.0 MiB read \(50%\)/);
  p.done();
  const narrow = new Progress({ stream: fakeStream(true, 200), now: () => 0 });
  const wide = narrow.render({ ...state, current: long + long }, 199);
  assert.ok(wide.endsWith('final-file.txt') && wide.includes('…'), wide);
});

test('log() prints above the status line and redraws it', () => {
  const s = fakeStream(true);
  const p = new Progress({ stream: s, now: () => 0 });
  p.log('before any status'); // nothing on screen yet: a plain line
  p.update(state);
  p.log('hello\nworld');
  p.done();
  p.log('after');
  const w = s.writes;
  assert.equal(w[0], 'before any status\n');
  assert.match(w[1], /^\r.*files.*\x1b\[K$/);
  assert.equal(w[2], '\rhello\\nworld\x1b[K\n');
  assert.match(w[3], /^\r.*files.*\x1b\[K$/);
  assert.equal(w[4], '\r\x1b[K');
  assert.equal(w[5], 'after\n');
});

test('the redraw timer keeps the elapsed time moving and does not hold the process', async () => {
  const s = fakeStream(true);
  const p = new Progress({ stream: s, intervalMs: 20 });
  p.update(state);
  await new Promise((r) => setTimeout(r, 120));
  p.done();
  assert.ok(s.writes.length >= 3, `redrawn ${s.writes.length} times`);
});
