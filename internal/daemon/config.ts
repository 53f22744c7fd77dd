// tardisd's settings (reference §1.2): built-in defaults, then TARDIS_* defaults, then the config
// file ([Tardis] as the defaults section, [Daemon] over it), then the command line.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getDefault } from '../config/defaults.ts';
import { parseDuration } from '../config/duration.ts';
import { parseIni, type IniSection } from '../config/ini.ts';
import { parseBool } from '../config/settings.ts';
import { UsageError } from '../errors/errors.ts';
import { DEFAULT_NAMING, type NamingPolicy } from '../retention/naming.ts';
import { checkNaming } from '../retention/policy.ts';

export interface DaemonSettings {
  /** The config file read, if any. */
  configFile: string | null;
  port: number;
  /** Addresses to listen on; empty: every interface, IPv6 and IPv4. */
  addresses: string[];
  basedir: string;
  allowNewHosts: boolean;
  requirePassword: boolean;
  allowSchemaUpgrades: boolean;
  autoPurge: boolean;
  allowClientOverrides: boolean;
  /** Serve on this Unix socket instead of TCP. */
  local: string | null;
  /** One session on stdin/stdout (for ssh). */
  stdio: boolean;
  single: boolean;
  /** Idle time after which a connection is dropped. */
  timeoutMs: number;
  /** On SIGTERM, how long open sessions may run on before they are aborted. */
  graceMs: number;
  ssl: boolean;
  certFile: string | null;
  keyFile: string | null;
  user: string | null;
  group: string | null;
  umask: number;
  logFile: string | null;
  verbosity: number;
  timestamps: boolean;
  pidFile: string | null;
  naming: NamingPolicy;
  /** Settings read but without effect here (Tardis' delta and profiling knobs), for the log. */
  ignored: string[];
}

/** Values as given on the command line (strings; cac may hand numbers and arrays). */
export interface DaemonFlags {
  config?: unknown;
  port?: unknown;
  address?: unknown;
  basedir?: unknown;
  allowNewHosts?: unknown;
  requirePassword?: unknown;
  local?: unknown;
  stdio?: unknown;
  single?: unknown;
  timeout?: unknown;
  grace?: unknown;
  ssl?: unknown;
  certfile?: unknown;
  keyfile?: unknown;
  user?: unknown;
  group?: unknown;
  umask?: unknown;
  logfile?: unknown;
  verbose?: unknown;
  timestamps?: unknown;
  pidfile?: unknown;
  /** The raw arguments, for values the option parser would have turned into numbers. */
  rawArgs?: string[];
}

type Kind = 'port' | 'string' | 'path' | 'bool' | 'int' | 'duration' | 'umask' | 'list' | 'intlist' | 'boollist';

interface KeyDef {
  /** The key as documented (config keys are case-insensitive). */
  name: string;
  kind: Kind | 'ignored';
  field?: keyof DaemonSettings | 'formats' | 'priorities' | 'keepDays' | 'forceFull';
}

const KEYS: KeyDef[] = [
  { name: 'Port', kind: 'port', field: 'port' },
  { name: 'Address', kind: 'list', field: 'addresses' },
  { name: 'BaseDir', kind: 'path', field: 'basedir' },
  { name: 'AllowNewHosts', kind: 'bool', field: 'allowNewHosts' },
  { name: 'RequirePassword', kind: 'bool', field: 'requirePassword' },
  { name: 'AllowSchemaUpgrades', kind: 'bool', field: 'allowSchemaUpgrades' },
  { name: 'AutoPurge', kind: 'bool', field: 'autoPurge' },
  { name: 'AllowClientOverrides', kind: 'bool', field: 'allowClientOverrides' },
  { name: 'Local', kind: 'path', field: 'local' },
  { name: 'Single', kind: 'bool', field: 'single' },
  { name: 'Timeout', kind: 'duration', field: 'timeoutMs' },
  { name: 'ShutdownGrace', kind: 'duration', field: 'graceMs' },
  { name: 'SSL', kind: 'bool', field: 'ssl' },
  { name: 'CertFile', kind: 'path', field: 'certFile' },
  { name: 'KeyFile', kind: 'path', field: 'keyFile' },
  { name: 'User', kind: 'string', field: 'user' },
  { name: 'Group', kind: 'string', field: 'group' },
  { name: 'Umask', kind: 'umask', field: 'umask' },
  { name: 'LogFile', kind: 'path', field: 'logFile' },
  { name: 'Verbose', kind: 'int', field: 'verbosity' },
  { name: 'LogTimestamps', kind: 'bool', field: 'timestamps' },
  { name: 'PidFile', kind: 'path', field: 'pidFile' },
  { name: 'Formats', kind: 'list', field: 'formats' },
  { name: 'Priorities', kind: 'intlist', field: 'priorities' },
  { name: 'KeepDays', kind: 'intlist', field: 'keepDays' },
  { name: 'KeepPeriods', kind: 'intlist', field: 'keepDays' }, // the name Tardis' docs use
  { name: 'ForceFull', kind: 'boollist', field: 'forceFull' },
  // Checked separately: running in the background is systemd's job.
  { name: 'Daemon', kind: 'bool' },
  // Tardis settings for its delta engine, logging and profiling: accepted so a Tardis config
  // file loads, without effect (chunk dedup replaces deltas; logs are plain lines).
  ...['LogCfg', 'LogExceptions', 'Profile', 'ReuseAddr', 'Threads', 'MaxDeltaChain', 'MaxChangePercent', 'SaveFull',
    'CksContent', 'SaveConfig', 'DBBackups', 'LinkBasis', 'SkipFileName', 'JournalFile']
    .map((name): KeyDef => ({ name, kind: 'ignored' })),
];

/** tardisremote's keys, which may sit in the shared [Tardis] section. */
const REMOTE_KEYS = new Set(['compress', 'allowcache', 'database']);

const BY_KEY = new Map(KEYS.map((k) => [k.name.toLowerCase(), k]));

/** Every config key tardisd accepts, as documented. */
export const CONFIG_KEYS: readonly string[] = KEYS.map((k) => k.name);

export const DAEMON_SECTION = 'Daemon';
export const DEFAULTS_SECTION = 'Tardis';

function fail(where: string, msg: string): never {
  throw new UsageError(`${where}: ${msg}`);
}

export function parseInt10(v: string, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const s = v.trim();
  if (!/^-?\d+$/.test(s) || Number(s) < min || Number(s) > max) fail(where, `'${v}' is not a whole number from ${min} to ${max}`);
  return Number(s);
}

export function parsePort(v: string, where: string): number {
  const s = v.trim();
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) fail(where, `'${v}' is not a port number (1-65535, or 0 for any free port)`);
  return Number(s);
}

/** `027`, `0o27` and `0027` are octal, `0x17` hex, plain digits decimal (as Tardis reads Umask). */
export function parseUmask(v: string, where: string): number {
  const s = v.trim().toLowerCase();
  let n: number;
  if (/^0o?[0-7]+$/.test(s)) n = parseInt(s.replace(/^0o?/, '') || '0', 8);
  else if (/^0x[0-9a-f]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^\d+$/.test(s)) n = Number(s);
  else return fail(where, `'${v}' is not a umask (octal like 027)`);
  if (n > 0o777) fail(where, `'${v}' is not a umask: more than 0777`);
  return n;
}

function parseList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseMs(v: string, where: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    return fail(where, (err as Error).message);
  }
}

type Raw = Partial<Record<string, unknown>>;

function parseValue(def: KeyDef, value: string, where: string, base: string): unknown {
  switch (def.kind as Kind) {
    case 'port': return parsePort(value, where);
    case 'string': return value.trim() === '' ? null : value.trim();
    case 'path': return value.trim() === '' ? null : path.resolve(base, value.trim());
    case 'bool': return parseBool(value, where);
    case 'int': return parseInt10(value, where);
    case 'duration': return parseMs(value, where);
    case 'umask': return parseUmask(value, where);
    case 'list': return parseList(value);
    case 'intlist': return parseList(value).map((x) => parseInt10(x, where, 0));
    case 'boollist': return parseList(value).map((x) => parseBool(x, where));
  }
}

/** One section of the config file, checked key by key; errors name the file and line. */
function readSection(sec: IniSection | undefined, file: string, name: string, raw: Raw, where: Map<string, string>, ignored: string[], strict: boolean): void {
  if (!sec) return;
  const base = path.dirname(file);
  for (const [key, entry] of sec) {
    const at = `${file}:${entry.line}`;
    const def = BY_KEY.get(key);
    if (!def) {
      if (!strict && REMOTE_KEYS.has(key)) continue;
      fail(at, `unknown key '${entry.name ?? key}' in [${name}] (the keys are listed in packaging/tardisd.conf)`);
    }
    if (def.kind === 'ignored') {
      ignored.push(`${at}: ${def.name} has no effect in tardis-ts (ignored)`);
      continue;
    }
    const v = parseValue(def, entry.value, `${at}: ${def.name}`, base);
    if (def.name === 'Daemon') {
      if (v === true) fail(at, 'Daemon = true is not supported: tardisd runs in the foreground (use systemd, see packaging/tardisd.service)');
      continue;
    }
    raw[def.field!] = v;
    where.set(def.field!, `${at}: ${def.name}`);
  }
}

/** Reads a config file into raw settings and where each came from. */
export function readConfigFile(file: string): { raw: Raw; where: Map<string, string>; ignored: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const ini = parseIni(text, file);
  const raw: Raw = {};
  const where = new Map<string, string>();
  const ignored: string[] = [];
  // [Tardis] may also hold tardisremote's keys; [Daemon] is tardisd's alone.
  readSection(ini.get(DEFAULTS_SECTION), file, DEFAULTS_SECTION, raw, where, ignored, false);
  readSection(ini.get(DAEMON_SECTION), file, DAEMON_SECTION, raw, where, ignored, true);
  return { raw, where, ignored };
}

const str = (v: unknown): string | undefined => (v === undefined || v === false ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v));

/**
 * The text of the last `--name VALUE` / `--name=VALUE` in `args`: the option parser turns
 * "027" into the number 27, which is a different umask.
 */
export function rawFlag(args: string[], name: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') break;
    if (args[i] === name && i + 1 < args.length) v = args[++i];
    else if (args[i].startsWith(`${name}=`)) v = args[i].slice(name.length + 1);
  }
  return v;
}

/** Command-line values, parsed like config values. */
function readFlags(f: DaemonFlags, cwd: string): { raw: Raw; where: Map<string, string> } {
  const raw: Raw = {};
  const where = new Map<string, string>();
  const set = (field: string, flag: string, kind: Kind, v: unknown): void => {
    if (v === undefined || v === false) return;
    raw[field] = kind === 'bool' ? true : parseValue({ name: flag, kind }, str(v)!, `--${flag}`, cwd);
    where.set(field, `--${flag}`);
  };
  set('port', 'port', 'port', f.port);
  if (f.address !== undefined) {
    raw.addresses = (Array.isArray(f.address) ? f.address : [f.address]).flatMap((a) => parseList(String(a)));
    where.set('addresses', '--address');
  }
  set('basedir', 'basedir', 'path', f.basedir);
  set('allowNewHosts', 'allow-new-hosts', 'bool', f.allowNewHosts);
  set('requirePassword', 'require-password', 'bool', f.requirePassword);
  set('local', 'local', 'path', f.local);
  set('stdio', 'stdio', 'bool', f.stdio);
  set('single', 'single', 'bool', f.single);
  set('timeoutMs', 'timeout', 'duration', f.timeout);
  set('graceMs', 'grace', 'duration', f.grace);
  set('ssl', 'ssl', 'bool', f.ssl);
  set('certFile', 'certfile', 'path', f.certfile);
  set('keyFile', 'keyfile', 'path', f.keyfile);
  set('user', 'user', 'string', f.user);
  set('group', 'group', 'string', f.group);
  set('umask', 'umask', 'umask', f.umask === undefined ? undefined : (rawFlag(f.rawArgs ?? [], '--umask') ?? f.umask));
  set('logFile', 'logfile', 'path', f.logfile);
  set('timestamps', 'timestamps', 'bool', f.timestamps);
  set('pidFile', 'pidfile', 'path', f.pidfile);
  const v = Array.isArray(f.verbose) ? f.verbose.length : f.verbose ? 1 : 0;
  if (v > 0) raw.verbosity = v;
  return { raw, where };
}

/**
 * The settings tardisd runs with. Precedence: command line, then the config file (`--config`,
 * else $TARDIS_DAEMON_CONFIG; [Daemon] over [Tardis]), then the TARDIS_* defaults.
 */
export function resolveSettings(flags: DaemonFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DaemonSettings {
  const configFile = str(flags.config) ?? (getDefault('TARDIS_DAEMON_CONFIG', env) || undefined);
  const file = configFile === undefined ? { raw: {} as Raw, where: new Map<string, string>(), ignored: [] } : readConfigFile(path.resolve(cwd, configFile));
  const cli = readFlags(flags, cwd);
  const raw: Raw = { ...file.raw, ...cli.raw };
  const where = new Map([...file.where, ...cli.where]);
  const pick = <T>(field: string, def: T): T => (raw[field] === undefined || raw[field] === null ? def : (raw[field] as T));

  const defPort = parsePort(getDefault('TARDIS_PORT', env), '$TARDIS_PORT');
  const defTimeout = parseMs(getDefault('TARDIS_TIMEOUT', env), '$TARDIS_TIMEOUT');
  const s: DaemonSettings = {
    configFile: configFile === undefined ? null : path.resolve(cwd, configFile),
    port: pick('port', defPort),
    addresses: pick('addresses', [] as string[]),
    basedir: pick('basedir', path.resolve(cwd, getDefault('TARDIS_DB', env) || getDefault('TARDIS_BASEDIR', env))),
    allowNewHosts: pick('allowNewHosts', false),
    requirePassword: pick('requirePassword', false),
    allowSchemaUpgrades: pick('allowSchemaUpgrades', false),
    autoPurge: pick('autoPurge', false),
    allowClientOverrides: pick('allowClientOverrides', true),
    local: pick<string | null>('local', null),
    stdio: pick('stdio', false),
    single: pick('single', false),
    timeoutMs: pick('timeoutMs', defTimeout),
    graceMs: pick('graceMs', 30_000),
    ssl: pick('ssl', false),
    certFile: pick<string | null>('certFile', null),
    keyFile: pick<string | null>('keyFile', null),
    user: pick<string | null>('user', null),
    group: pick<string | null>('group', null),
    umask: pick('umask', 0o027),
    logFile: pick<string | null>('logFile', null),
    verbosity: pick('verbosity', 0),
    timestamps: pick('timestamps', false),
    pidFile: pick<string | null>('pidFile', null),
    naming: {
      formats: pick('formats', DEFAULT_NAMING.formats),
      priorities: pick('priorities', DEFAULT_NAMING.priorities),
      keepDays: pick('keepDays', DEFAULT_NAMING.keepDays),
      forceFull: pick('forceFull', DEFAULT_NAMING.forceFull),
    },
    ignored: file.ignored,
  };
  if (s.stdio) {
    // One session over ssh: the file's listening settings do not apply (ssh encrypts already).
    if (cli.raw.local) fail('--stdio', '--stdio and --local exclude each other');
    Object.assign(s, { local: null, addresses: [], single: false, ssl: false });
  }
  check(s, (field) => where.get(field) ?? 'default');
  return s;
}

function check(s: DaemonSettings, at: (field: string) => string): void {
  // A count mismatch is reported where the odd list was set (or at Formats if it was not).
  const FIELD = { Formats: 'formats', Priorities: 'priorities', KeepDays: 'keepDays', ForceFull: 'forceFull', AutoPurge: 'autoPurge', Disabled: 'disabled' } as const;
  checkNaming(s.naming, (k) => (at(FIELD[k]) === 'default' ? at('formats') : at(FIELD[k])));
  if (s.timeoutMs <= 0) fail(at('timeoutMs'), 'the timeout must be more than 0');
  if (s.ssl && (!s.certFile || !s.keyFile)) {
    fail(at('ssl'), `TLS needs a certificate and its key: give ${!s.certFile ? '--certfile (CertFile)' : '--keyfile (KeyFile)'} (make a self-signed pair with tardisd --make-cert DIR)`);
  }
  if (s.local && s.addresses.length > 0) fail(at('addresses'), 'Address does not apply with --local (Local): the server listens on the Unix socket only');
  if (s.addresses.some((a) => a.includes('/'))) fail(at('addresses'), 'an address is an IP address or host name, not a path (use --local for a Unix socket)');
}

/** For -vv startup logs: where the settings came from. */
export function describeSettings(s: DaemonSettings): string {
  const where = s.local ? `unix:${s.local}` : s.stdio ? 'stdio' : `${s.addresses.length ? s.addresses.join(',') : '*'}:${s.port}`;
  return `listen ${where}${s.ssl ? ' (TLS)' : ''}, basedir ${s.basedir}, new hosts ${s.allowNewHosts ? 'allowed' : 'refused'}, ` +
    `password ${s.requirePassword ? 'required' : 'optional'}, umask ${s.umask.toString(8).padStart(3, '0')}, timeout ${s.timeoutMs / 1000}s` +
    (s.configFile ? `, config ${s.configFile}` : '');
}
