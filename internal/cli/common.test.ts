import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../testkit/testkit.ts';
import { connectOptions, loadSettings } from './common.ts';

test('connectOptions: --validate-certs, TARDIS_VALIDATE_CERTS, ValidateCerts and --ca (CAFile)', (t) => {
  const { dir, cleanup } = tempDir('tardis-cli-');
  t.after(cleanup);
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, 'PEM');
  const base = { TARDIS_DEFAULTS: '/nonexistent', TARDIS_REPO: 'tardis://backup/laptop' };
  const opts = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => connectOptions(loadSettings(flags, { ...base, ...env }));

  assert.deepEqual(opts({}), { validateCerts: false });
  assert.deepEqual(opts({ validateCerts: true }), { validateCerts: true });
  assert.deepEqual(opts({}, { TARDIS_VALIDATE_CERTS: 'yes' }), { validateCerts: true });
  assert.deepEqual(opts({ validateCerts: false }, { TARDIS_VALIDATE_CERTS: 'yes' }), { validateCerts: false }, '--no-validate-certs wins');
  // A CA means checking against it, unless checking is turned off explicitly.
  assert.deepEqual(opts({ ca }), { validateCerts: true, ca: Buffer.from('PEM') });
  assert.deepEqual(opts({ ca, validateCerts: false }), { validateCerts: false, ca: Buffer.from('PEM') });

  const cfg = path.join(dir, 'tardis.cfg');
  fs.writeFileSync(cfg, `[Tardis]\nValidateCerts = true\nCAFile = ${ca}\n`);
  assert.deepEqual(opts({ config: cfg }), { validateCerts: true, ca: Buffer.from('PEM') });
  // The CA does not concern a file: repository, even when the file is missing.
  fs.writeFileSync(cfg, `[Tardis]\nCAFile = ${dir}/missing.pem\n`);
  assert.deepEqual(opts({ config: cfg }, { TARDIS_REPO: `${dir}/repo/laptop` }), { validateCerts: false });
  assert.throws(() => opts({ config: cfg }), /^UsageError: cannot read the CA file '.*missing\.pem' \(.*tardis\.cfg:2: CAFile\): no such file$/);

  // The key file from --keys or TARDIS_KEYFILE; the policy keys only for file: repositories.
  assert.deepEqual(opts({ keys: 'k.json' }), { validateCerts: false, keyFile: 'k.json' });
  assert.deepEqual(opts({}, { TARDIS_KEYFILE: 'env.json' }), { validateCerts: false, keyFile: 'env.json' });
  fs.writeFileSync(cfg, '[Tardis]\nAutoPurge = yes\n');
  assert.deepEqual(opts({ config: cfg }), { validateCerts: false }, 'a tardisd applies its own policy');
  const local = opts({ config: cfg }, { TARDIS_REPO: `${dir}/repo/laptop` });
  assert.equal(local.policy?.autoPurge, true);
  assert.deepEqual(local.policy?.naming.formats, ['Monthly-%Y-%m', 'Weekly-%Y-%U', 'Daily-%Y-%m-%d']);
});

test('runMain: a main that can never finish (nothing left to wait on) exits 1 with a message, not 0', () => {
  const common = new URL('./common.ts', import.meta.url).pathname;
  const run = (body: string) => spawnSync(process.execPath, ['--input-type=module', '-e', `import { runMain } from '${common}'; ${body}`], { encoding: 'utf8' });
  const stuck = run("runMain('stuck', () => new Promise(() => {}));");
  assert.equal(stuck.status, 1);
  assert.match(stuck.stderr, /^stuck: error: internal error: the program ran out of work before it finished/);
  const fine = run("runMain('fine', async () => 0);");
  assert.equal(fine.status, 0, fine.stderr);
  assert.equal(fine.stderr, '');
});
