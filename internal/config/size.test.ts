import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize, formatBytes } from './size.ts';
import { parseDuration, formatDuration } from './duration.ts';
import { UsageError } from '../errors/errors.ts';

test('parseSize', () => {
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('16MiB'), 16 * 1024 ** 2);
  assert.equal(parseSize('16M'), 16 * 1024 ** 2);
  assert.equal(parseSize('16 mib'), 16 * 1024 ** 2);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('500kB'), 500_000);
  assert.equal(parseSize('2 GB'), 2e9);
  assert.equal(parseSize('1k'), 1024);
  assert.equal(parseSize('10B'), 10);
  assert.equal(parseSize('.5KiB'), 512);
  assert.equal(parseSize('1TiB'), 1024 ** 4);
  for (const bad of ['', 'abc', '-1', '1.2.3', '5 XB', '16 MiBs', '1e3', '1 M B', '9999999 EiB']) {
    assert.throws(() => parseSize(bad), UsageError, bad);
  }
});

test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
  assert.equal(formatBytes(16 * 1024 ** 2), '16.0 MiB');
  assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB');
  assert.equal(formatBytes(-2048), '-2.0 KiB');
  assert.equal(formatBytes(2 ** 70), '1024.0 EiB');
});

test('parseDuration', () => {
  assert.equal(parseDuration('120'), 120_000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1h 30m'), 5_400_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('2w'), 14 * 86_400_000);
  for (const bad of ['', 'soon', '5 years', '10x', '-5s', 'h', '1h30']) {
    assert.throws(() => parseDuration(bad), UsageError, bad);
  }
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(12_340), '12.3s');
  assert.equal(formatDuration(59_960), '1m00s');
  assert.equal(formatDuration(245_000), '4m05s');
  assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000 + 5000), '2h03m05s');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3600_000 + 5 * 60_000), '3d04h05m');
});
