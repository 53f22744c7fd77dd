// Tardis' defaults (reference §0.1): a TARDIS_* variable comes from the environment, else from
// the [Tardis] section of the system defaults file ($TARDIS_DEFAULTS, by default
// /etc/tardis/system.defaults), else from the built-in table below.
import fs from 'node:fs';
import { parseIni, iniGet, type Ini } from './ini.ts';

export const BUILTIN_DEFAULTS = {
  TARDIS_REPO: '',
  TARDIS_BASEDIR: '/srv/tardis',
  TARDIS_DB: '',
  TARDIS_CONFIG: '',
  TARDIS_JOB: 'Tardis',
  TARDIS_EXCLUDES: '.tardis-excludes',
  TARDIS_LOCAL_EXCLUDES: '.tardis-local-excludes',
  TARDIS_GLOBAL_EXCLUDES: '/etc/tardis/excludes',
  TARDIS_SKIP: '.tardis-skip',
  TARDIS_TIMEOUT: '300',
  TARDIS_PWTIMEOUT: '120',
  TARDIS_PWFILE: '',
  TARDIS_KEYFILE: '',
  TARDIS_SEND_CONFIG: 'true',
  TARDIS_PORT: '7420',
  TARDIS_REMOTE_PORT: '7430',
  TARDIS_DAEMON_CONFIG: '',
  TARDIS_REMOTE_CONFIG: '/etc/tardis/tardisremote.cfg',
  TARDIS_PIDFILE: '/var/run/tardisd.pid',
  TARDIS_REMOTE_PIDFILE: '/var/run/tardisremote.pid',
  TARDIS_LS_COLORS:
    'gone=yellow:changed=cyan:full=cyan,,bold:moved=blue:header=green:name=yellow:details=white:error=red,,bold:default=white',
  TARDIS_NOCOMPRESS: '',
  TARDIS_RECENT_SET: 'Current',
  TARDIS_VALIDATE_CERTS: 'false',
} as const;

export type DefaultName = keyof typeof BUILTIN_DEFAULTS;

export const SYSTEM_DEFAULTS_FILE = '/etc/tardis/system.defaults';

const cache = new Map<string, Ini | null>();

function systemDefaults(file: string): Ini | null {
  if (!cache.has(file)) {
    let text: string | null = null;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      // Not installed by default: a missing or unreadable file just means "no overrides".
    }
    cache.set(file, text === null ? null : parseIni(text, file));
  }
  return cache.get(file)!;
}

/** The value of a TARDIS_* default: environment, then the system defaults file, then built-in. */
export function getDefault(name: DefaultName, env: NodeJS.ProcessEnv = process.env): string {
  return env[name] ?? systemDefault(name, env);
}

/**
 * The default tier alone (system defaults file, then built-in), for callers that put a config
 * file between the environment and the defaults.
 */
export function systemDefault(name: DefaultName, env: NodeJS.ProcessEnv = process.env): string {
  const ini = systemDefaults(env.TARDIS_DEFAULTS || SYSTEM_DEFAULTS_FILE);
  const fromFile = ini && iniGet(ini, 'Tardis', name);
  return fromFile ?? BUILTIN_DEFAULTS[name];
}
