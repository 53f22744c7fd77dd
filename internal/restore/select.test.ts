import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDate, tryParseDate, tryParseWholeDate } from './select.ts';

test('dates: ISO forms exactly, free text relative to now, nonsense is a clear error', () => {
  const now = new Date(2026, 10, 25, 12, 0, 0); // Wednesday 25 Nov 2026, local time
  assert.equal(parseDate('2026-03-15 14:00', now), new Date(2026, 2, 15, 14, 0).getTime());
  assert.equal(parseDate('2026-03-15T14:00:05Z', now), Date.UTC(2026, 2, 15, 14, 0, 5));
  assert.equal(parseDate('3 days ago', now), new Date(2026, 10, 22, 12, 0, 0).getTime());
  const tue = new Date(parseDate('last tuesday', now));
  assert.equal(tue.getDay(), 2);
  assert.ok(tue.getTime() < now.getTime() && now.getTime() - tue.getTime() < 8 * 86_400_000, tue.toString());
  assert.equal(new Date(parseDate('yesterday 18:30', now)).getHours(), 18);
  assert.equal(tryParseDate('NoSuchSet', now), null);
  assert.throws(() => parseDate('blue moon', now), /cannot understand the date 'blue moon'/);
});

test('tryParseWholeDate: all of the text must be the date (splitting "A:B" at guessed colons relies on it)', () => {
  const now = new Date(2026, 10, 25, 12, 0, 0);
  assert.equal(tryParseWholeDate('2026-03-15 14:00', now), new Date(2026, 2, 15, 14, 0).getTime());
  assert.equal(tryParseWholeDate('3 days ago', now), new Date(2026, 10, 22, 12, 0, 0).getTime());
  assert.equal(tryParseDate('00:2026-03-16 10:00', now) !== null, true, 'chrono finds a date inside…');
  assert.equal(tryParseWholeDate('00:2026-03-16 10:00', now), null, '…which is not the whole text');
  assert.equal(tryParseWholeDate('blue moon over 2026-03-15', now), null);
});
