// What every command shares: repository, password and config options, settings from the command
// line, environment and config file, the error → exit code mapping, and the logger. Commands
// stay thin: parse, call the engine, report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import type { CAC, Command } from 'cac';
import { expandArgFiles } from '../config/argfile.ts';
import { CLIENT_IGNORED_KEYS, CLIENT_SETTINGS, type ClientSettings } from '../config/client.ts';
import { systemDefault } from '../config/defaults.ts';
import { getPassword, type Configured, type PasswordOptions } from '../config/password.ts';
import { readConfigSection, resolveSettings, type ConfigSection } from '../config/settings.ts';
import { TardisError, UsageError } from '../errors/errors.ts';
import { applyPolicyValues, DEFAULT_POLICY, type RepoPolicy } from '../retention/policy.ts';
import { Logger, setProgramName } from '../ui/index.ts';

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_NOT_FOUND = 2;
export const EXIT_PARTIAL = 3;

export interface RepoFlags {
  repository?: string;
  password?: string | boolean | number;
  passwordFile?: string;
  passwordProg?: string;
}

type HasOption = Pick<CAC, 'option'> | Pick<Command, 'option'>;

/** The options every client tool has: the repository, its password, and the config file. */
export function repositoryOptions<T extends HasOption>(c: T): T {
  c.option('--config <file>', 'Read settings from this INI file [$TARDIS_CONFIG]');
  c.option('--job <name>', 'The section of the config file to use (default: Tardis) [$TARDIS_JOB]');
  c.option('-R, --repository <url>', 'Repository: PATH or file:PATH/CLIENT; on a tardisd tardis://HOST[:PORT]/CLIENT, unix:SOCKET/CLIENT, ssh://[USER@]HOST/CLIENT [$TARDIS_REPO]');
  c.option('-P, --password [password]', 'Password (without a value: ask on the terminal) [$TARDIS_PASSWORD]');
  c.option('-F, --password-file <file>', 'Read the password from the first line of FILE ("-" = stdin) [$TARDIS_PASSWORD_FILE]');
  c.option('--password-prog <command>', 'Run COMMAND and use the first line it prints as the password [$TARDIS_PASSWORD_PROG]');
  c.option('--validate-certs', 'Check a TLS tardisd\'s certificate and name (default: encrypted but unchecked) [$TARDIS_VALIDATE_CERTS]');
  c.option('--ca <file>', 'Trust the CA certificates in FILE (PEM, e.g. tardisd.crt) instead of the system\'s; implies --validate-certs');
  c.option('--keys <file>', 'The repository\'s keys are in FILE (see sonic keys) [$TARDIS_KEYFILE]');
  return c;
}

/** Settings of a client tool, resolved: command line > TARDIS_* environment > config file > defaults. */
export interface Settings {
  values: ClientSettings;
  /** Where each value came from ("--flag", "TARDIS_X", "FILE:LINE: Key", "default"). */
  sources: Record<keyof ClientSettings, string>;
  /** Accumulating lists (exclude patterns, files, dirs) by origin, lowest precedence first. */
  parts: Partial<Record<keyof ClientSettings, { source: string; items: string[] }[]>>;
  config: ConfigSection | null;
  /** Config keys accepted without effect here, for a -v note. */
  ignored: { key: string; where: string; why: string }[];
}

/**
 * Loads the config file (--config, else $TARDIS_CONFIG; its section --job, else $TARDIS_JOB,
 * else [Tardis]) and resolves every client setting. The one place commands get settings from.
 */
export function loadSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Settings {
  const str = (v: unknown) => (v === undefined || v === true ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v));
  if (flags.config === true) throw new UsageError('--config needs a file name');
  if (flags.job === true) throw new UsageError('--job needs a section name');
  const file = str(flags.config) ?? (env.TARDIS_CONFIG || systemDefault('TARDIS_CONFIG', env));
  const job = str(flags.job) ?? (env.TARDIS_JOB || systemDefault('TARDIS_JOB', env));
  if (!file && flags.job !== undefined) throw new UsageError('--job needs a config file: give --config FILE or set TARDIS_CONFIG');
  const config = file ? readConfigSection(path.resolve(file), job) : null;
  const r = resolveSettings(CLIENT_SETTINGS, { flags, env, config, ignoredKeys: CLIENT_IGNORED_KEYS });
  return { values: r.values, sources: r.sources, parts: r.parts, config, ignored: r.ignored };
}

/** Notes, at -v, the config keys that have no effect here. */
export function noteIgnored(s: Settings, log: Logger): void {
  for (const i of s.ignored) log.info(`${i.where}: ${i.key} has no effect: ${i.why}`);
}

export function repositoryUrl(s: Settings): string {
  const url = s.values.repository;
  if (!url) throw new UsageError('no repository given: use --repository URL, set TARDIS_REPO, or set Repository in the config file');
  return url;
}

/** What opening a repository needs besides the password: certificate checks, key file, policy. */
export function connectOptions(s: Settings): { validateCerts: boolean; ca?: Buffer; keyFile?: string; policy?: RepoPolicy } {
  const remote = /^(tardis|unix|ssh|https?):/i.test(s.values.repository ?? '');
  const policy = remote ? undefined : configuredPolicy(s);
  const extra = { ...(s.values.keyFile ? { keyFile: s.values.keyFile } : {}), ...(policy ? { policy } : {}) };
  const file = s.values.caFile;
  // A shared config file's CAFile does not concern a file: repository.
  if (!file || !remote) return { validateCerts: s.values.validateCerts, ...extra };
  let ca: Buffer;
  try {
    ca = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read the CA file '${file}' (${s.sources.caFile}): ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
  // Given a CA, the point is to check against it, unless checking was turned off explicitly.
  return { validateCerts: s.sources.validateCerts === 'default' ? true : s.values.validateCerts, ca, ...extra };
}

const POLICY_SETTINGS = { Formats: 'formats', Priorities: 'priorities', KeepDays: 'keepDays', ForceFull: 'forceFull', AutoPurge: 'autoPurge' } as const;

/** The Formats/Priorities/KeepDays/ForceFull/AutoPurge of the config file (file: repositories). */
function configuredPolicy(s: Settings): RepoPolicy | undefined {
  const given: Record<string, string> = {};
  for (const [key, field] of Object.entries(POLICY_SETTINGS)) {
    const v = s.values[field];
    if (v !== undefined) given[key] = v;
  }
  if (Object.keys(given).length === 0) return undefined;
  return applyPolicyValues(DEFAULT_POLICY, given, (k) => s.sources[POLICY_SETTINGS[k as keyof typeof POLICY_SETTINGS]] ?? k);
}

/**
 * Password options from parsed flags. cac turns a declared `--no-password` into a default of
 * `password: true`, which would look like a bare `--password`; the raw arguments tell them apart.
 */
export function passwordOptions(flags: RepoFlags, args: string[] = argv()): PasswordOptions {
  const noPassword = args.includes('--no-password');
  const asked = args.some((a) => a === '-P' || a === '--password' || a.startsWith('--password=') || /^-[^-]*P/.test(a));
  const p = flags.password === true && !asked ? undefined : flags.password;
  return {
    password: p === true || p === '' ? true : p === undefined || p === false ? undefined : String(p),
    passwordFile: flags.passwordFile === undefined ? undefined : String(flags.passwordFile),
    passwordProg: flags.passwordProg === undefined ? undefined : String(flags.passwordProg),
    noPassword,
  };
}

/** The password-related settings of the config file, for getPassword's config tier. */
export function passwordConfig(s: Settings): { config: Record<string, Configured>; timeoutSeconds?: number } {
  const config: Record<string, Configured> = {};
  for (const k of ['password', 'passwordFile', 'passwordProg'] as const) {
    const v = s.values[k];
    if (v) config[k] = { value: v, where: s.sources[k] };
  }
  return { config, timeoutSeconds: s.values.passwordTimeout };
}

/** A password getter for opening an existing repository (asked only if it is encrypted). */
export function passwordSource(flags: RepoFlags, s: Settings): () => Promise<string | null> {
  return () => getPassword(passwordOptions(flags), passwordConfig(s));
}

/**
 * Rejects unknown options and options missing their value. cac checks these only when it runs a
 * command action, and the commands parse with `run: false`; unchecked, `--typo DIR` would swallow
 * DIR and back up the current directory instead.
 */
export function checkOptions(prog: CAC): void {
  // --help on a subcommand leaves no matched command, and its options would look unknown.
  if (prog.options.help || prog.options.version) return;
  const cmd = prog.matchedCommand ?? prog.globalCommand;
  try {
    cmd.checkUnknownOptions();
    cmd.checkOptionValue();
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/`/g, "'")} (see --help)`);
  }
}

/** cac gives a repeated flag as an array and a counted one (-vv) as an array of true. */
export function count(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'number') return v;
  return v ? 1 : 0;
}

export function list(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function intOption(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} needs a non-negative integer, not '${String(v)}'`);
  return n;
}

export function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  const s = String(v) as T;
  if (!allowed.includes(s)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not '${String(v)}'`);
  return s;
}

export function argv(): string[] {
  return expandArgFiles(process.argv.slice(2));
}

/**
 * Parses the command line, @argfiles expanded. cac tells its parser only the camelCase name of
 * an on/off option, so `--skip-caches DIR` would take DIR as the option's value: such options
 * are given an explicit `=true` first. Likewise an option whose value is an optional number
 * (`opts.optionalNumbers`, e.g. `-u`, `--unified`) takes the next argument only if it is a number:
 * given bare, it is moved to the end, so `-u FILE` is the flag and a file.
 */
export function parse(prog: CAC, name: string, opts: { optionalNumbers?: string[] } = {}): ReturnType<CAC['parse']> {
  const flags = new Set<string>();
  for (const c of [prog.globalCommand, ...prog.commands]) {
    for (const opt of c.options) {
      if (!opt.isBoolean || opt.negated) continue;
      for (const m of opt.rawName.matchAll(/--([a-z0-9]+(?:-[a-z0-9]+)+)/g)) flags.add(`--${m[1]}`);
    }
  }
  let literal = false;
  const raw = argv();
  const bare: string[] = [];
  const args = raw.flatMap((a, i) => {
    if (literal || a === '--') {
      literal = true;
      return [a];
    }
    if (opts.optionalNumbers?.includes(a) && !/^\d+$/.test(raw[i + 1] ?? '')) {
      bare.push(a);
      return [];
    }
    return [flags.has(a) ? `${a}=true` : a];
  });
  const end = args.indexOf('--');
  args.splice(end < 0 ? args.length : end, 0, ...bare);
  return prog.parse(['node', name, ...args], { run: false });
}

/**
 * Runs a command's main function: a TardisError prints one line and exits with its code;
 * anything else is a bug and shows its stack with -v or TARDIS_DEBUG.
 */
export function runMain(name: string, main: (log: Logger) => Promise<number>): void {
  // A worker thread loads the whole bundle to reach its own module; the command is not its job.
  if (!isMainThread) return;
  setProgramName(name);
  // `tardis … | head` closes the pipe early: that ends the output, it is not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  const verbose = process.argv.some((a) => /^-v+$|^--verbose$/.test(a)) || !!process.env.TARDIS_DEBUG;
  const log = new Logger({ verbosity: 0 });
  let settled = false;
  // Nothing left to run while main still waits (a worker gone quiet, say): that is a failure,
  // never a silent exit 0 with the work half done.
  process.once('beforeExit', () => {
    if (settled) return;
    log.error('internal error: the program ran out of work before it finished (nothing more was written)');
    process.exitCode = EXIT_FAIL;
  });
  main(log).finally(() => (settled = true)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof TardisError) {
        log.error(err.message);
        process.exitCode = err.exitCode;
      } else if (err instanceof Error && /^Unknown option|missing required|Unused args/i.test(err.message)) {
        log.error(`${err.message} (see --help)`);
        process.exitCode = EXIT_FAIL;
      } else {
        log.error(verbose && err instanceof Error ? (err.stack ?? err.message) : `unexpected error: ${(err as Error)?.message ?? String(err)}`);
        process.exitCode = EXIT_FAIL;
      }
    },
  );
}

/** Turns on --help; cac shows a `--no-x` flag as "(default: true)", which reads backwards. */
export function help(prog: CAC): void {
  prog.help((sections) =>
    sections.map((s) => ({ ...s, body: s.body.replace(/^(\s*--no-\S+.*?)\s*\(default: true\)$/gm, '$1') })),
  );
}
