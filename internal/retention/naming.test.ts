import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoName } from './naming.ts';
import { strftime } from './strftime.ts';

test('strftime covers the default formats', () => {
  const d = new Date(2026, 2, 15, 14, 5, 9); // Sunday 15 March 2026
  assert.equal(strftime('Monthly-%Y-%m', d), 'Monthly-2026-03');
  assert.equal(strftime('Daily-%Y-%m-%d', d), 'Daily-2026-03-15');
  assert.equal(strftime('%H:%M:%S %j %a %b %%', d), '14:05:09 074 Sun Mar %');
  // Python: date(2026,3,15).strftime('%U') == '11' (Sunday-based weeks), '%W' == '10'
  assert.equal(strftime('%U', d), '11');
  assert.equal(strftime('%W', d), '10');
  assert.equal(strftime('%U', new Date(2026, 0, 1)), '00');
});

test('the first free format wins, then Backup_ names', () => {
  const d = new Date(2026, 2, 15, 14, 5, 9);
  const taken = new Set<string>();
  const names = [];
  for (let i = 0; i < 5; i++) {
    const n = autoName(d, (x) => taken.has(x));
    taken.add(n.name);
    names.push([n.name, n.priority, n.keepDays]);
  }
  assert.deepEqual(names, [
    ['Monthly-2026-03', 40, 0],
    ['Weekly-2026-11', 30, 180],
    ['Daily-2026-03-15', 20, 30],
    ['Backup_2026-03-15_14:05:09', 0, 0],
    ['Backup_2026-03-15_14:05:09-2', 0, 0],
  ]);
});
