// The settings of the client tools (tardis, regenerate, sonic, later lstardis and tardiff): one
// job section of the config file (`--job`, default [Tardis]) serves them all, so one table holds
// every key any of them reads (reference §0.3 and §1.1). A key of another tool in the section is
// fine; a key no tool knows is an error.
import type { SettingTable, SettingValues } from './settings.ts';

export const CLIENT_SETTINGS = {
  // Every client tool.
  repository: { key: 'Repository', kind: 'string', flag: 'repository', env: 'TARDIS_REPO' },
  password: { key: 'Password', kind: 'string' },
  passwordFile: { key: 'PasswordFile', kind: 'string' },
  passwordProg: { key: 'PasswordProg', kind: 'string' },
  passwordTimeout: { key: 'PasswordTimeout', kind: 'int', env: 'TARDIS_PWTIMEOUT', min: 1 },
  verbosity: { key: 'Verbosity', kind: 'int', flag: 'verbose', count: true, default: 0 },
  // Every client tool, for a tardisd with TLS.
  validateCerts: { key: 'ValidateCerts', kind: 'bool', flag: 'validateCerts', env: 'TARDIS_VALIDATE_CERTS' },
  caFile: { key: 'CAFile', kind: 'string', flag: 'ca' },
  keyFile: { key: 'KeyFile', kind: 'string', flag: 'keys', env: 'TARDIS_KEYFILE' },
  // file: repositories: the policy a tardisd takes from its [Daemon] section (reference §6).
  formats: { key: 'Formats', kind: 'string' },
  priorities: { key: 'Priorities', kind: 'string' },
  keepDays: { key: 'KeepDays', kind: 'string' },
  forceFull: { key: 'ForceFull', kind: 'string' },
  autoPurge: { key: 'AutoPurge', kind: 'string' },
  // tardis.
  directories: { key: 'Directories', kind: 'list', default: ['.'] },
  full: { key: 'Full', kind: 'bool', flag: 'full', default: false },
  force: { key: 'Force', kind: 'bool', flag: 'force', default: false },
  stats: { key: 'Stats', kind: 'bool', flag: 'stats', default: false },
  compressData: { key: 'CompressData', kind: 'string', flag: 'compressData', bare: 'zstd', choices: ['zstd', 'gzip', 'zlib', 'none'] },
  basePath: { key: 'BasePath', kind: 'string', flag: 'basepath', choices: ['full', 'common', 'none'], default: 'full' },
  maxDepth: { key: 'MaxDepth', kind: 'int', flag: 'maxdepth', default: 0 },
  crossDevice: { key: 'CrossDevice', kind: 'bool', flag: 'crossdevice', default: false },
  purge: { key: 'Purge', kind: 'bool', flag: 'purge', default: false },
  // tardis: excludes (reference §7).
  ignoreCvs: { key: 'IgnoreCVS', kind: 'bool', flag: 'cvsIgnore', default: false },
  skipCaches: { key: 'SkipCaches', kind: 'bool', flag: 'skipCaches', default: false },
  excludePatterns: { key: 'ExcludePatterns', kind: 'list', flag: 'exclude', accumulate: true, default: [] },
  excludeFiles: { key: 'ExcludeFiles', kind: 'list', flag: 'excludeFile', accumulate: true, default: [] },
  excludeDirs: { key: 'ExcludeDirs', kind: 'list', flag: 'excludeDir', accumulate: true, default: [] },
  globalExcludeFile: { key: 'GlobalExcludeFileName', kind: 'string', env: 'TARDIS_GLOBAL_EXCLUDES' },
  ignoreGlobalExcludes: { key: 'IgnoreGlobalExcludes', kind: 'bool', flag: 'ignoreGlobalExcludes', default: false },
  excludeFileName: { key: 'ExcludeFileName', kind: 'string', flag: 'excludeFileName', env: 'TARDIS_EXCLUDES' },
  localExcludeFileName: { key: 'LocalExcludeFileName', kind: 'string', flag: 'localExcludeFileName', env: 'TARDIS_LOCAL_EXCLUDES' },
  skipFileName: { key: 'SkipFileName', kind: 'string', flag: 'skipFileName', env: 'TARDIS_SKIP' },
  excludeNoAccess: { key: 'ExcludeNoAccess', kind: 'bool', flag: 'excludeNoAccess', default: false },
} as const satisfies SettingTable;

export type ClientSettings = SettingValues<typeof CLIENT_SETTINGS>;

const LATER = 'not implemented yet in tardis-ts';
const DELTAS = 'tardis-ts stores content-defined chunks, not deltas';
const SERVER = 'a server setting: it belongs in tardisd\'s [Daemon] section';

/**
 * Keys Tardis 1.9 reads in a job section that have no effect here: accepted so a Tardis config
 * file loads, and listed with -v.
 */
export const CLIENT_IGNORED_KEYS: Record<string, string> = {
  Crypt: 'every repository with a password is encrypted',
  LogFiles: LATER,
  SendClientConfig: 'the client configuration is not sent',
  CompressMin: 'small files compress as well',
  NoCompressFile: 'incompressible data is detected and stored raw',
  NoCompress: 'incompressible data is detected and stored raw',
  CompressMsgs: LATER,
  Timeout: LATER,
  SendSig: DELTAS,
  Report: LATER,
  SummarizeDirs: LATER,
  // Pre-1.8 connection keys, replaced by Repository.
  Server: 'replaced by Repository',
  Port: 'replaced by Repository',
  Client: 'replaced by Repository',
  Local: 'replaced by Repository',
  LocalServerCmd: 'replaced by Repository',
  BaseDir: SERVER,
  // Backend keys Tardis reads for local (file:) repositories that are tardisd's business here.
  Umask: SERVER,
  User: SERVER,
  Group: SERVER,
  RequirePassword: SERVER,
  AllowSchemaUpgrades: SERVER,
  AllowClientOverrides: SERVER,
  SaveConfig: SERVER,
  DBBackups: SERVER,
  CksContent: DELTAS,
  SaveFull: DELTAS,
  MaxDeltaChain: DELTAS,
  MaxChangePercent: DELTAS,
  LinkBasis: DELTAS,
};
