import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDefault } from './defaults.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-defaults-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('environment, then the system defaults file, then built-in', () => {
  const file = path.join(dir, 'system.defaults');
  fs.writeFileSync(file, '[Tardis]\nTARDIS_BASEDIR = /data/tardis\nTARDIS_PORT = 9999\n');
  const env = { TARDIS_DEFAULTS: file, TARDIS_PORT: '1234' };
  assert.equal(getDefault('TARDIS_PORT', env), '1234');
  assert.equal(getDefault('TARDIS_BASEDIR', env), '/data/tardis');
  assert.equal(getDefault('TARDIS_REMOTE_PORT', env), '7430');
  assert.equal(getDefault('TARDIS_JOB', { TARDIS_DEFAULTS: path.join(dir, 'none') }), 'Tardis');
  assert.equal(getDefault('TARDIS_PWTIMEOUT', { TARDIS_DEFAULTS: path.join(dir, 'none') }), '120');
});
