import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from './table.ts';

test('columns are aligned left by default, right on request', () => {
  const t = renderTable(
    ['Name', 'Id', 'Size'],
    [
      ['Monthly-2026-11', '12', '1.5 GiB'],
      ['Daily', '7', '10 B'],
    ],
    { align: ['l', 'r', 'r'] },
  );
  assert.equal(
    t,
    ['Name             Id     Size', 'Monthly-2026-11  12  1.5 GiB', 'Daily             7     10 B'].join('\n'),
  );
});

test('no trailing spaces, ragged rows, no header, custom gap', () => {
  assert.equal(renderTable(['A', 'Long header'], [['x'], ['yy', 'z']]), 'A   Long header\nx\nyy  z');
  assert.equal(renderTable([], [['a', 'b'], ['ccc', 'd']], { gap: 1 }), 'a   b\nccc d');
  assert.equal(renderTable(['H'], []), 'H');
  assert.equal(renderTable([], []), '');
});

test('wide characters and control characters', () => {
  assert.equal(renderTable(['名前', 'n'], [['ab', '1']]), '名前  n\nab    1');
  assert.equal(renderTable(['f', 'n'], [['a\nb', '1']]), 'f     n\na\\nb  1');
});
