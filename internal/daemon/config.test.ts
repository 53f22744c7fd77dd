import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS, parseUmask, rawFlag, resolveSettings } from './config.ts';

const SAMPLE = new URL('../../packaging/tardisd.conf', import.meta.url).pathname;

function withConfig(t: import('node:test').TestContext, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardisd-config-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tardisd.conf');
  fs.writeFileSync(file, text);
  return file;
}

/** Fails unless fn throws an error whose message matches re. */
function throwsMsg(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
}

const ENV = { TARDIS_DEFAULTS: '/nonexistent/system.defaults' };

test('defaults: port 7420, /srv/tardis or $TARDIS_DB, umask 027, Tardis naming', () => {
  const s = resolveSettings({}, ENV);
  assert.equal(s.port, 7420);
  assert.equal(s.basedir, '/srv/tardis');
  assert.equal(s.umask, 0o027);
  assert.equal(s.timeoutMs, 300_000);
  assert.deepEqual(s.naming.formats, ['Monthly-%Y-%m', 'Weekly-%Y-%U', 'Daily-%Y-%m-%d']);
  assert.equal(s.allowNewHosts, false);
  assert.equal(resolveSettings({}, { ...ENV, TARDIS_DB: '/data/tardis', TARDIS_PORT: '9000' }).basedir, '/data/tardis');
  assert.equal(resolveSettings({}, { ...ENV, TARDIS_PORT: '9000' }).port, 9000);
});

test('[Daemon] overrides [Tardis], the command line overrides both', (t) => {
  const file = withConfig(t, [
    '[Tardis]',
    'Port = 7000',
    'BaseDir = /from/tardis',
    'Compress = true', // tardisremote's, allowed in the shared section
    '[Daemon]',
    'BaseDir = /from/daemon',
    'AllowNewHosts = yes',
    'Umask = 0o077',
    'Formats = Daily-%Y-%m-%d, Hourly-%Y-%m-%d-%H',
    'Priorities = 20, 5',
    'KeepDays = 30, 2',
    'ForceFull = 0, 1',
    'Timeout = 5m',
    'LogFile = tardisd.log',
    '[Remote]',
    'Whatever = is not ours',
  ].join('\n'));
  const s = resolveSettings({ config: file }, ENV);
  assert.equal(s.port, 7000);
  assert.equal(s.basedir, '/from/daemon');
  assert.equal(s.allowNewHosts, true);
  assert.equal(s.umask, 0o077);
  assert.equal(s.timeoutMs, 300_000);
  assert.equal(s.logFile, path.join(path.dirname(file), 'tardisd.log'), 'relative paths are relative to the config file');
  assert.deepEqual(s.naming, { formats: ['Daily-%Y-%m-%d', 'Hourly-%Y-%m-%d-%H'], priorities: [20, 5], keepDays: [30, 2], forceFull: [false, true] });

  const c = resolveSettings({ config: file, port: 0, basedir: '/cli', umask: 27, rawArgs: ['--umask', '027'], timeout: '10' }, ENV, '/');
  assert.equal(c.port, 0);
  assert.equal(c.basedir, '/cli');
  assert.equal(c.umask, 0o027, 'the umask text as typed, not the number the option parser made of it');
  assert.equal(c.timeoutMs, 10_000);
  assert.equal(resolveSettings({}, { ...ENV, TARDIS_DAEMON_CONFIG: file }).port, 7000, '$TARDIS_DAEMON_CONFIG names the file');
});

test('unknown keys and bad values name the file and line', (t) => {
  const file = withConfig(t, '[Daemon]\nPort = 7420\n\nAlowNewHosts = true\n');
  assert.throws(() => resolveSettings({ config: file }, ENV), (e: Error) => e.message.startsWith(`${file}:4: unknown key 'AlowNewHosts' in [Daemon]`));
  const bad = withConfig(t, '[Daemon]\nPort = seventy\n');
  throwsMsg(() => resolveSettings({ config: bad }, ENV), new RegExp(`^${bad}:2: Port: 'seventy' is not a port number`));
  const bool = withConfig(t, '[Tardis]\nSSL = perhaps\n');
  throwsMsg(() => resolveSettings({ config: bool }, ENV), new RegExp(`^${bool}:2: SSL: 'perhaps' is not a boolean`));
  const unknownInTardis = withConfig(t, '[Tardis]\nPrort = 1\n');
  throwsMsg(() => resolveSettings({ config: unknownInTardis }, ENV), /:2: unknown key 'Prort' in \[Tardis\]/);
  const lengths = withConfig(t, '[Daemon]\nFormats = A-%Y, B-%m\n');
  throwsMsg(() => resolveSettings({ config: lengths }, ENV), new RegExp(`^${lengths}:2: Formats: Priorities has 3 value\\(s\\) but Formats has 2`));
  throwsMsg(() => resolveSettings({ config: '/nonexistent/tardisd.conf' }, ENV), /cannot read config file \/nonexistent\/tardisd.conf: no such file/);
  throwsMsg(() => resolveSettings({ port: '99999' }, ENV), /^--port: '99999' is not a port number/);
});

test('Tardis-only keys are accepted and reported as ignored; Daemon = true is refused', (t) => {
  const file = withConfig(t, '[Daemon]\nMaxDeltaChain = 5\nLinkBasis = False\nDaemon = False\n');
  const s = resolveSettings({ config: file }, ENV);
  assert.deepEqual(s.ignored, [`${file}:2: MaxDeltaChain has no effect in tardis-ts (ignored)`, `${file}:3: LinkBasis has no effect in tardis-ts (ignored)`]);
  const daemon = withConfig(t, '[Daemon]\nDaemon = True\n');
  throwsMsg(() => resolveSettings({ config: daemon }, ENV), /:2: Daemon = true is not supported/);
});

test('TLS needs a certificate and a key; --local excludes --stdio and addresses', (t) => {
  throwsMsg(() => resolveSettings({ ssl: true, certfile: '/c.pem' }, ENV), /--ssl: TLS needs a certificate and its key: give --keyfile/);
  throwsMsg(() => resolveSettings({ local: '/run/t.sock', stdio: true }, ENV), /exclude each other/);
  const conf = withConfig(t, '[Daemon]\nLocal = /run/t.sock\nSSL = true\nCertFile = c\nKeyFile = k\nSingle = yes\n');
  const stdio = resolveSettings({ config: conf, stdio: true }, ENV);
  assert.deepEqual([stdio.local, stdio.ssl, stdio.single], [null, false, false], 'the file\'s listening settings do not apply to --stdio');
  throwsMsg(() => resolveSettings({ local: '/run/t.sock', address: '127.0.0.1' }, ENV), /Address does not apply with --local/);
  const s = resolveSettings({ address: ['127.0.0.1', '::1,localhost'] }, ENV);
  assert.deepEqual(s.addresses, ['127.0.0.1', '::1', 'localhost']);
});

test('umask forms and raw flag values', () => {
  assert.equal(parseUmask('027', 'x'), 0o27);
  assert.equal(parseUmask('0o077', 'x'), 0o77);
  assert.equal(parseUmask('0x12', 'x'), 0x12);
  assert.equal(parseUmask('18', 'x'), 18);
  assert.equal(parseUmask('0', 'x'), 0);
  throwsMsg(() => parseUmask('0999', 'Umask'), /Umask: '0999' is not a umask/);
  throwsMsg(() => parseUmask('01000', 'Umask'), /more than 0777/);
  assert.equal(rawFlag(['--umask', '007', '--umask=0022'], '--umask'), '0022');
  assert.equal(rawFlag(['--', '--umask', '1'], '--umask'), undefined);
});

test('packaging/tardisd.conf documents every key, and loads with all of them uncommented', (t) => {
  const text = fs.readFileSync(SAMPLE, 'utf8');
  for (const key of CONFIG_KEYS) assert.match(text, new RegExp(`\\b${key}\\b`), `${key} is not in packaging/tardisd.conf`);
  assert.deepEqual(resolveSettings({ config: SAMPLE }, ENV).naming, resolveSettings({}, ENV).naming);
  const live = withConfig(t, text.replace(/^;(\w+ =)/gm, '$1'));
  const s = resolveSettings({ config: live }, ENV);
  assert.equal(s.port, 7420);
  assert.equal(s.local, '/run/tardis/tardisd.sock');
  assert.equal(s.umask, 0o027);
  assert.equal(s.graceMs, 30_000);
});
