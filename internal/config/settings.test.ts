import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_IGNORED_KEYS, CLIENT_SETTINGS } from './client.ts';
import { readConfigSection, resolveSettings, type ConfigSection } from './settings.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-settings-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes a config file and returns its [section] (default [Tardis]). */
function config(text: string, section = 'Tardis', opts: { defaults?: string } = {}): ConfigSection {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(file, text);
  return readConfigSection(file, section, opts);
}

// No system defaults file: built-in defaults only.
const ENV = { TARDIS_DEFAULTS: '/nonexistent/system.defaults' };
const resolve = (input: Parameters<typeof resolveSettings>[1]) =>
  resolveSettings(CLIENT_SETTINGS, { ignoredKeys: CLIENT_IGNORED_KEYS, ...input, env: { ...ENV, ...input.env } });

test('precedence: command line > environment > config file > defaults', () => {
  const cfg = config('[Tardis]\nRepository = /from/config/c\nExcludeFileName = .cfg-excludes\nMaxDepth = 3\n');
  const env = { TARDIS_REPO: '/from/env/c', TARDIS_EXCLUDES: '.env-excludes' };
  const all = resolve({ flags: { repository: '/from/cli/c', excludeFileName: '.cli-excludes', maxdepth: 1 }, env, config: cfg });
  assert.equal(all.values.repository, '/from/cli/c');
  assert.equal(all.values.excludeFileName, '.cli-excludes');
  assert.equal(all.values.maxDepth, 1);
  assert.equal(all.sources.repository, '--repository');
  const noCli = resolve({ env, config: cfg });
  assert.equal(noCli.values.repository, '/from/env/c');
  assert.equal(noCli.sources.excludeFileName, 'TARDIS_EXCLUDES');
  assert.equal(noCli.values.maxDepth, 3);
  assert.equal(noCli.sources.maxDepth, `${cfg.file}:4: MaxDepth`);
  const cfgOnly = resolve({ config: cfg });
  assert.equal(cfgOnly.values.repository, '/from/config/c');
  assert.equal(cfgOnly.values.excludeFileName, '.cfg-excludes');
  const none = resolve({});
  assert.equal(none.values.repository, undefined);
  assert.equal(none.values.excludeFileName, '.tardis-excludes');
  assert.equal(none.values.globalExcludeFile, '/etc/tardis/excludes');
  assert.equal(none.values.maxDepth, 0);
  assert.equal(none.values.excludeNoAccess, false);
  assert.deepEqual(none.values.directories, ['.']);
  assert.equal(none.sources.maxDepth, 'default');
  // An empty variable counts as unset.
  assert.equal(resolve({ env: { TARDIS_REPO: '' }, config: cfg }).values.repository, '/from/config/c');
});

test('the system defaults file is the default tier, below the config file', () => {
  const sys = path.join(dir, 'system.defaults');
  fs.writeFileSync(sys, '[Tardis]\nTARDIS_SKIP = .sys-skip\nTARDIS_EXCLUDES = .sys-excludes\n');
  const cfg = config('[Tardis]\nSkipFileName = .cfg-skip\n');
  const r = resolveSettings(CLIENT_SETTINGS, { env: { TARDIS_DEFAULTS: sys }, config: cfg });
  assert.equal(r.values.skipFileName, '.cfg-skip');
  assert.equal(r.values.excludeFileName, '.sys-excludes');
});

test('booleans: "False" in a config file is false (Tardis read ExcludeNoAccess as a truthy string)', () => {
  for (const [text, want] of [['False', false], ['false', false], ['no', false], ['off', false], ['0', false], ['True', true], ['yes', true], ['ON', true], ['1', true]] as const) {
    assert.equal(resolve({ config: config(`[Tardis]\nExcludeNoAccess = ${text}\n`) }).values.excludeNoAccess, want, text);
  }
  const cfg = config('[Tardis]\nExcludeNoAccess = true\nSkipCaches = yes\n');
  assert.equal(resolve({ config: cfg, flags: { excludeNoAccess: false } }).values.excludeNoAccess, false, '--no-exclude-no-access wins');
  assert.equal(resolve({ config: cfg, flags: { skipCaches: 'false' } }).values.skipCaches, false, '--skip-caches=false');
});

test('lists are shell-split; exclude lists accumulate config then command line, keeping their origins', () => {
  const cfg = config('[Tardis]\nExcludePatterns = *.o "My Stuff/*" #tmp#\n    *.bak\nDirectories = /home /etc\n');
  const r = resolve({ config: cfg, flags: { exclude: ['!keep.o'] } });
  assert.deepEqual(r.values.excludePatterns, ['*.o', 'My Stuff/*', '#tmp#', '*.bak', '!keep.o']);
  assert.deepEqual(r.parts.excludePatterns, [
    { source: `${cfg.file}:2: ExcludePatterns`, items: ['*.o', 'My Stuff/*', '#tmp#', '*.bak'] },
    { source: '--exclude', items: ['!keep.o'] },
  ]);
  assert.deepEqual(r.values.directories, ['/home', '/etc']);
  assert.deepEqual(resolve({ config: cfg }).parts.excludeDirs, []);
});

test('counted and valued flags: -vv counts, a bare -Z is zstd, values are checked', () => {
  assert.equal(resolve({ flags: { verbose: [true, true] } }).values.verbosity, 2);
  assert.equal(resolve({ flags: { verbose: true }, config: config('[Tardis]\nVerbosity = 3\n') }).values.verbosity, 1);
  assert.equal(resolve({ config: config('[Tardis]\nVerbosity = 3\n') }).values.verbosity, 3);
  assert.equal(resolve({ flags: { compressData: true } }).values.compressData, 'zstd');
  assert.equal(resolve({ flags: { compressData: 'GZIP' } }).values.compressData, 'gzip');
  assert.throws(() => resolve({ flags: { maxdepth: 'two' } }), /^UsageError: --maxdepth: 'two' is not a whole number \(0 or more\)$/);
  assert.throws(() => resolve({ flags: { basepath: 'half' } }), /^UsageError: --basepath: 'half' is not one of full, common, none$/);
  assert.throws(() => resolve({ env: { TARDIS_PWTIMEOUT: 'soon' } }), /^UsageError: TARDIS_PWTIMEOUT: 'soon' is not a whole number of at least 1$/);
});

test('an unknown key or a bad value is one line naming the file and line', () => {
  const bad: [string, RegExp][] = [
    ['[Tardis]\nRepository = /x/c\nExcludeNoAcess = true\n', /:3: unknown key 'ExcludeNoAcess' in \[Tardis\] \(did you mean ExcludeNoAccess\?\)$/],
    ['[Tardis]\nFrobnicate = 1\n', /:2: unknown key 'Frobnicate' in \[Tardis\]$/],
    ['[Tardis]\n\nExcludeNoAccess = maybe\n', /:3: ExcludeNoAccess: 'maybe' is not a boolean \(true\/false, yes\/no, on\/off, 1\/0\)$/],
    ['[Tardis]\nMaxDepth = -1\n', /:2: MaxDepth: '-1' is not a whole number \(0 or more\)$/],
    ['[Tardis]\nBasePath = sideways\n', /:2: BasePath: 'sideways' is not one of full, common, none$/],
    ['[Tardis]\nCompressData = lz4\n', /:2: CompressData: 'lz4' is not one of zstd, gzip, zlib, none$/],
    ['[Tardis]\nExcludePatterns = "unterminated\n', /:2: unterminated " quote$/],
  ];
  for (const [text, re] of bad) {
    const cfg = config(text);
    assert.throws(() => resolve({ config: cfg }), (e: Error) => {
      assert.equal(e.name, 'UsageError');
      assert.ok(e.message.startsWith(cfg.file), e.message);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  // Keys Tardis reads but tardis-ts does not use load, and are listed.
  const r = resolve({ config: config('[Tardis]\nMaxDeltaChain = 5\nCompressMsgs = snappy\n') });
  assert.deepEqual(r.ignored.map((i) => i.key), ['MaxDeltaChain', 'CompressMsgs']);
});

test('sections: the job section is chosen, [DEFAULT] is inherited, a missing one is an error', () => {
  const text = '[DEFAULT]\nRepository = /srv/tardis/${name}\nname = nobody\n[Tardis]\nname = laptop\n[Daemon]\nPort = 7420\n[Remote]\nPort = 7430\n[nightly]\nname = server\nFull = yes\n';
  const laptop = config(text, 'Tardis');
  assert.equal(laptop.entries.get('repository')!.value, '/srv/tardis/laptop');
  // 'name' is an interpolation helper: unknown, but inherited from [DEFAULT] it is no error...
  assert.equal(resolve({ config: config('[DEFAULT]\nname = x\n[Tardis]\nRepository = /r/${name}\n') }).values.repository, '/r/x');
  // ...while one set in the job section itself is.
  assert.throws(() => resolve({ config: laptop }), /:5: unknown key 'name' in \[Tardis\]$/);
  const nightly = config(text, 'nightly');
  assert.equal(nightly.entries.get('repository')!.value, '/srv/tardis/server');
  assert.equal(nightly.entries.get('full')!.value, 'yes');
  assert.throws(() => config(text, 'weekly'), /: no section \[weekly\] \(it has \[Tardis\], \[Daemon\], \[Remote\], \[nightly\]; choose one with --job\)$/);
  // tardisd reads [Daemon] over [Tardis].
  const daemon = config('[Tardis]\nBaseDir = /srv\nPort = 1\n[Daemon]\nPort = 2\n', 'Daemon', { defaults: 'Tardis' });
  assert.equal(daemon.entries.get('port')!.value, '2');
  assert.equal(daemon.entries.get('basedir')!.value, '/srv');
  assert.equal(config('[Tardis]\nPort = 1\n', 'Remote', { defaults: 'Tardis' }).entries.get('port')!.value, '1');
  assert.throws(() => readConfigSection(path.join(dir, 'missing.cfg'), 'Tardis'), /^UsageError: cannot read config file '.*missing\.cfg': no such file$/);
});
