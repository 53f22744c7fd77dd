import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, formatBytes, formatDuration, escapeControl, displayWidth, truncateEnd, truncateMiddle } from './format.ts';
import { formatBytes as configFormatBytes } from '../config/size.ts';

test('formatTime is local YYYY-MM-DD HH:MM:SS', () => {
  assert.equal(formatTime(new Date(2026, 0, 5, 7, 8, 9)), '2026-01-05 07:08:09');
  assert.equal(formatTime(new Date(2026, 11, 31, 23, 59, 59).getTime()), '2026-12-31 23:59:59');
  assert.equal(formatTime(new Date(NaN)), 'invalid date');
});

test('formatBytes and formatDuration are the config ones', () => {
  assert.equal(formatBytes, configFormatBytes);
  assert.equal(formatDuration(1500), '1.5s');
});

test('escapeControl, widths, truncation', () => {
  assert.equal(escapeControl('a\tb\r\n\x00\x7f\u009b ok'), 'a\\tb\\r\\n\\x00\\x7f\\x9b ok');
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('日本'), 4);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(truncateEnd('abcdef', 4), 'abc…');
  assert.equal(truncateEnd('abc', 3), 'abc');
  assert.equal(truncateMiddle('/home/user/some/long/path/file.txt', 15), '/home/u…ile.txt');
  assert.equal(displayWidth(truncateMiddle('/home/user/some/long/path/file.txt', 15)), 15);
  assert.equal(truncateMiddle('日本語のファイル名です', 9).length <= 9, true);
  assert.ok(displayWidth(truncateMiddle('日本語のファイル名です', 9)) <= 9);
  assert.equal(truncateMiddle('short', 10), 'short');
  assert.equal(truncateMiddle('abc', 1), '…');
});
