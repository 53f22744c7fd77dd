import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors/errors.ts';
import { choosePacks, parseSubset } from './subset.ts';

const packs = Array.from({ length: 200 }, () => ({ name: randomBytes(16).toString('hex') }));

test('parseSubset takes N/M and N%, and nothing else', () => {
  assert.deepEqual(parseSubset('2/5'), { kind: 'part', n: 2, of: 5 });
  assert.deepEqual(parseSubset('12.5%'), { kind: 'share', percent: 12.5 });
  for (const bad of ['0/3', '4/3', '1/0', '0%', '101%', 'all', '1/2/3', '-1%', '']) assert.throws(() => parseSubset(bad), UsageError, bad);
});

test('N/M groups are disjoint and together cover every pack', () => {
  for (const m of [1, 2, 3, 7]) {
    const seen = new Map<string, number>();
    for (let n = 1; n <= m; n++) {
      const got = choosePacks(packs, { kind: "part", n, of: m });
      if (m > 1) assert.ok(got.length > 0 && got.length < packs.length, `${n}/${m}: ${got.length}`);
      for (const p of got) seen.set(p.name, (seen.get(p.name) ?? 0) + 1);
    }
    assert.equal(seen.size, packs.length);
    assert.ok([...seen.values()].every((c) => c === 1));
  }
  // The same packs every time: successive runs of 1/M … M/M read each pack once.
  assert.deepEqual(choosePacks(packs, { kind: 'part', n: 2, of: 3 }), choosePacks(packs, { kind: 'part', n: 2, of: 3 }));
});

test('N% picks that share of the packs, without repeats, at least one', () => {
  for (const percent of [1, 10, 25, 50, 100]) {
    const got = choosePacks(packs, { kind: 'share', percent });
    assert.equal(got.length, Math.round(200 * percent / 100));
    assert.equal(new Set(got.map((p) => p.name)).size, got.length);
  }
  assert.equal(choosePacks(packs.slice(0, 3), { kind: 'share', percent: 1 }).length, 1);
  assert.equal(choosePacks([], { kind: 'share', percent: 50 }).length, 0);
});
