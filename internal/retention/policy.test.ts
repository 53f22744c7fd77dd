import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPolicyValues, autoPurgeRule, DEFAULT_POLICY, policyKey, policyValues } from './policy.ts';

test('policy values: keys in any case (KeepPeriods too), lists checked against Formats, round trip through text', () => {
  assert.equal(policyKey('autopurge'), 'AutoPurge');
  assert.equal(policyKey('KeepPeriods'), 'KeepDays');
  assert.equal(policyKey('Bogus'), null);
  const p = applyPolicyValues(DEFAULT_POLICY, { formats: 'H-%H, D-%d', PRIORITIES: '5, 6', KeepDays: '1,2', ForceFull: 'yes, no', AutoPurge: 'on' });
  assert.deepEqual(p.naming, { formats: ['H-%H', 'D-%d'], priorities: [5, 6], keepDays: [1, 2], forceFull: [true, false] });
  assert.equal(p.autoPurge, true);
  assert.deepEqual(applyPolicyValues(DEFAULT_POLICY, policyValues(p)), p);
  assert.deepEqual(DEFAULT_POLICY.naming.formats.length, 3, 'the default is not changed');
  assert.throws(() => applyPolicyValues(DEFAULT_POLICY, { Formats: 'only-one' }, (k) => `f.ini: ${k}`), /^UsageError: f\.ini: Priorities: Priorities has 3 value\(s\) but Formats has 1/);
  assert.throws(() => applyPolicyValues(DEFAULT_POLICY, { Priorities: '1,-2,3' }), /'-2' is not a whole number/);
  assert.throws(() => applyPolicyValues(DEFAULT_POLICY, { Formats: '' , Priorities: '', KeepDays: '', ForceFull: '' }), /at least one set name format/);
});

test('autoPurgeRule: older sets of at most this priority that ended KeepDays before it started; none for keep 0', () => {
  const start = Date.UTC(2026, 10, 23);
  assert.deepEqual(autoPurgeRule({ id: 9, priority: 20, keepDays: 30, startTime: start }), { priority: 20, before: start - 30 * 86_400_000, belowId: 9 });
  assert.equal(autoPurgeRule({ id: 9, priority: 40, keepDays: 0, startTime: start }), null);
});
