import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorWanted, paint, parseColorTable, parseStyle } from './color.ts';
import { formatLsTime, formatMode } from './format.ts';

test('colorWanted: the flag wins; else a terminal only, never with NO_COLOR or TERM=dumb', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  assert.equal(colorWanted(undefined, tty, {}), true);
  assert.equal(colorWanted(undefined, pipe, {}), false);
  assert.equal(colorWanted(undefined, tty, { NO_COLOR: '1' }), false);
  assert.equal(colorWanted(undefined, tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset');
  assert.equal(colorWanted(undefined, tty, { TERM: 'dumb' }), false);
  assert.equal(colorWanted(true, pipe, { NO_COLOR: '1' }), true);
  assert.equal(colorWanted(false, tty, {}), false);
});

test('styles as termcolor names them: colour, on_background, attributes; a table over defaults', () => {
  assert.equal(parseStyle('cyan'), '36');
  assert.equal(parseStyle('cyan,,bold'), '36;1');
  assert.equal(parseStyle('red,on_white,underline,blink'), '31;47;4;5');
  assert.equal(parseStyle('none'), '');
  assert.throws(() => parseStyle('purple'), /unknown colour 'purple'/);
  assert.throws(() => parseStyle('red,white'), /unknown background 'white'/);
  const bad: string[] = [];
  const t = parseColorTable('gone=red:full=none:oops:moved=teal', { gone: '33', moved: '34', full: '36;1' }, (e) => bad.push(e));
  assert.deepEqual(t, { gone: '31', moved: '34', full: '' });
  assert.deepEqual(bad, ['oops', 'moved=teal']);
  assert.equal(paint('x', '31'), '\x1b[31mx\x1b[0m');
  assert.equal(paint('x', ''), 'x');
});

test('formatMode and formatLsTime: ls -l columns', () => {
  assert.equal(formatMode('file', 0o644), '-rw-r--r--');
  assert.equal(formatMode('dir', 0o1777), 'drwxrwxrwt');
  assert.equal(formatMode('file', 0o4755), '-rwsr-xr-x');
  assert.equal(formatMode('file', 0o2640), '-rw-r-S---');
  assert.equal(formatMode('symlink', 0o777), 'lrwxrwxrwx');
  assert.equal(formatMode('chardev', 0o600), 'crw-------');
  const now = new Date(2026, 10, 20, 12, 0);
  assert.equal(formatLsTime(new Date(2026, 10, 5, 9, 7), now), 'Nov 05 09:07');
  assert.equal(formatLsTime(new Date(2024, 0, 31, 9, 7).getTime(), now), 'Jan 31, 2024');
});
