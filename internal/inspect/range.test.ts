import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateMasterKeys } from '../crypto/keys.ts';
import { Keyring } from '../keyring/keyring.ts';
import type { SetInfo } from '../model/session.ts';
import { dateRange, setRange } from './range.ts';

const keyring = new Keyring(generateMasterKeys(), {
  version: 1, id: 'test', created: '', chunker: { min: 512 << 10, avg: 1 << 20, max: 8 << 20 }, aead: 'chacha20-poly1305', compression: 'zstd', encrypted: true,
});
const at = (s: string) => new Date(s).getTime();
const set = (id: number, name: string, start: string, extra: Partial<SetInfo> = {}): SetInfo => ({
  id, name, completed: true, priority: 0, keepDays: 0, full: false, locked: false, startTime: at(start), endTime: null,
  clientTime: null, stats: null, error: null, tags: [], ...extra,
});
const SETS = [
  set(1, 'Monthly-2026-03', '2026-03-01T02:00:00'),
  set(2, 'Backup_2026-03-15_14:00:00', '2026-03-15T14:00:00', { tags: [keyring.encString('gold')!] }),
  set(3, 'Daily-2026-03-16', '2026-03-16T02:00:00'),
  set(4, 'Broken', '2026-03-16T10:00:00', { completed: false }),
  set(5, 'Daily-2026-03-17', '2026-03-17T02:00:00'),
];
const now = new Date(2026, 2, 18, 12, 0, 0);
const ids = (s: SetInfo[]) => s.map((x) => x.id);

test('setRange: ids, names (with colons), tags, Current, dates, open ends, "..", completed sets only', () => {
  const r = (spec: string) => ids(setRange(SETS, keyring, spec, now));
  assert.deepEqual(r('1:3'), [1, 2, 3]);
  assert.deepEqual(r('2:'), [2, 3, 5], 'an incomplete set is never listed');
  assert.deepEqual(r(':2'), [1, 2]);
  assert.deepEqual(r('Backup_2026-03-15_14:00:00'), [2], 'one name with colons');
  assert.deepEqual(r('Backup_2026-03-15_14:00:00:Current'), [2, 3, 5]);
  assert.deepEqual(r('gold:Daily-2026-03-16'), [2, 3]);
  assert.deepEqual(r('Monthly-2026-03..gold'), [1, 2]);
  assert.deepEqual(r('2026-03-15 14:30:2026-03-16 03:00'), [2, 3], 'dates: the set in effect at each');
  assert.deepEqual(r(':'), [1, 2, 3, 5]);
  assert.throws(() => setRange(SETS, keyring, '3:1', now), /the end \(Monthly-2026-03\) is before the start \(Daily-2026-03-16\)/);
  assert.throws(() => setRange(SETS, keyring, 'nosuch', now), /no backup set named 'nosuch'/);
  assert.throws(() => setRange(SETS, keyring, '1:nosuch', now), /no backup set named 'nosuch'/);
  assert.throws(() => setRange(SETS, keyring, '99', now), /no backup set named '99'/, 'digits are an id, never a year');
});

test('dateRange: sets started from START to END, free text or ISO, colons in times, either end open', () => {
  const r = (spec: string) => ids(dateRange(SETS, spec, now).sets);
  assert.deepEqual(r('2026-03-15'), [2, 3, 5], 'a date alone is the start');
  assert.deepEqual(r('2026-03-15 14:00:2026-03-16 02:00'), [2, 3]);
  assert.deepEqual(r('2026-03-15 14:00:00:2026-03-16'), [2]);
  assert.deepEqual(r(':2026-03-10'), [1]);
  assert.deepEqual(r('2026-03-16..yesterday'), [3, 5], 'yesterday: the 17th, at the time of day it is now');
  assert.deepEqual(r('2026-03-16..2026-03-16 12:00'), [3]);
  assert.deepEqual(r('3 days ago:'), [2, 3, 5], 'the 15th at noon');
  assert.deepEqual(r('2 days ago:'), [5], 'the 16th at noon');
  assert.throws(() => dateRange(SETS, 'blue moon', now), /cannot understand it as START:END dates/);
  assert.throws(() => dateRange(SETS, '2026-03-17:2026-03-01', now), /the end is before the start/);
});
