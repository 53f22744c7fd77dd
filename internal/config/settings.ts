// Settings from four tiers, highest first: the command line, TARDIS_* environment variables, a
// section of an INI config file, and defaults (the system defaults file, then built-in values).
// A table of SettingDefs says which keys exist, their types, variables and defaults; every
// command resolves its settings through resolveSettings, so the precedence rules live here only.
import { UsageError } from '../errors/errors.ts';
import { splitArgs } from './argfile.ts';
import { readTextFile } from './textfile.ts';
import { systemDefault, type DefaultName } from './defaults.ts';
import { parseIni, type IniEntry, type IniSection } from './ini.ts';

export type SettingKind = 'string' | 'bool' | 'int' | 'list';
export type SettingValue = string | boolean | number | string[] | undefined;

export interface SettingDef {
  /** The config file key as documented (matched case-insensitively). */
  key: string;
  kind: SettingKind;
  /** The command-line option that sets it, as cac names it (camelCase: --exclude-dir → excludeDir). */
  flag?: string;
  /** A TARDIS_* variable: the environment tier, and its system default is the default tier. */
  env?: DefaultName;
  /** Built-in default (settings with `env` take the variable's built-in default instead). */
  default?: string | boolean | number | readonly string[];
  /** Lists: keep the items of every tier, lowest first (for patterns, where later ones win). */
  accumulate?: boolean;
  /** Strings: the allowed values (compared case-insensitively). */
  choices?: readonly string[];
  /** Strings: the value of the option given without one (`-Z` alone). */
  bare?: string;
  /** Ints: the smallest allowed value. */
  min?: number;
  /** Ints: a flag given N times without a value counts N (`-vv`). */
  count?: boolean;
}

export type SettingTable = Record<string, SettingDef>;

/** The value type a SettingDef resolves to. */
export type ValueOf<D> = D extends { kind: 'bool' } ? boolean
  : D extends { kind: 'int'; default: number } ? number
  : D extends { kind: 'int' } ? number | undefined
  : D extends { kind: 'list' } ? string[]
  : D extends { default: string } ? string
  : string | undefined;

export type SettingValues<T extends SettingTable> = { [K in keyof T]: ValueOf<T[K]> };

/** One section of a config file, keys lower-cased. */
export interface ConfigSection {
  file: string;
  section: string;
  entries: IniSection;
  /**
   * Keys the section inherits ([DEFAULT]'s, or the defaults section's) rather than sets: they may
   * be helpers for ${...} interpolation, so an unknown one is no error.
   */
  inherited: ReadonlySet<string>;
}

export interface Resolved<T extends SettingTable> {
  values: SettingValues<T>;
  /** Where each value came from: "--flag", "TARDIS_X", "FILE:LINE: Key", "default". */
  sources: Record<keyof T, string>;
  /** Accumulating lists tier by tier, lowest first, so each item's origin can be named. */
  parts: Partial<Record<keyof T, { source: string; items: string[] }[]>>;
  /** Keys of the config section accepted without effect, with why. */
  ignored: { key: string; where: string; why: string }[];
}

/** "FILE:LINE: Key" for messages about a config entry. */
export function where(cfg: ConfigSection, e: IniEntry): string {
  return `${cfg.file}:${e.line}: ${e.name}`;
}

/**
 * Reads `[section]` of an INI file. With `defaults`, that section's keys stand in for the ones
 * `[section]` lacks (tardisd reads [Daemon] over [Tardis]) and `[section]` may be missing.
 */
export function readConfigSection(file: string, section: string, opts: { defaults?: string } = {}): ConfigSection {
  const ini = parseIni(readTextFile(file, 'cannot read config file'), file);
  const own = ini.get(section);
  const base = opts.defaults === undefined ? undefined : ini.get(opts.defaults);
  if (!own && !base) {
    const have = [...ini.keys()].filter((s) => s !== 'DEFAULT').map((s) => `[${s}]`);
    throw new UsageError(`${file}: no section [${section}] (${have.length ? `it has ${have.join(', ')}` : 'it has no sections'}; choose one with --job)`);
  }
  const dflt = ini.get('DEFAULT');
  const inherited = new Set<string>();
  for (const [key, e] of own ?? []) if (dflt?.get(key)?.line === e.line) inherited.add(key);
  for (const key of base?.keys() ?? []) if (!own?.has(key) || inherited.has(key)) inherited.add(key);
  return { file, section, entries: new Map([...(base ?? []), ...(own ?? [])]), inherited };
}

const TRUE = ['1', 'yes', 'true', 'on'];
const FALSE = ['0', 'no', 'false', 'off'];

/** A boolean as config files and TARDIS_* variables spell it; `at` names it in errors. */
export function parseBool(text: string, at: string): boolean {
  const v = text.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new UsageError(`${at}: '${text}' is not a boolean (true/false, yes/no, on/off, 1/0)`);
}

/** Parses a setting's text (config file or environment); `at` names it in errors. */
function parseText(def: SettingDef, text: string, at: string, line?: number, file?: string): SettingValue {
  const v = text.trim();
  switch (def.kind) {
    case 'bool':
      return parseBool(text, at);
    case 'int':
      return checkInt(def, v, at);
    case 'list':
      // Shell-split like Tardis' list keys; '#' is an ordinary character here.
      return splitArgs(text, file ?? at, { comments: false, firstLine: line });
    case 'string':
      return checkChoice(def, v, at);
  }
}

function checkInt(def: SettingDef, v: string, at: string): number {
  const min = def.min ?? 0;
  if (!/^-?\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`${at}: '${v}' is not a whole number${min === 0 ? ' (0 or more)' : ` of at least ${min}`}`);
  }
  return Number(v);
}

function checkChoice(def: SettingDef, v: string, at: string): string {
  if (def.choices && !def.choices.includes(v.toLowerCase())) {
    throw new UsageError(`${at}: '${v}' is not one of ${def.choices.join(', ')}`);
  }
  return def.choices ? v.toLowerCase() : v;
}

const kebab = (flag: string) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A command-line value as cac gives it (string, number, boolean, array) → the setting's type. */
function fromFlag(def: SettingDef, raw: unknown): SettingValue {
  const name = kebab(def.flag!);
  const items = Array.isArray(raw) ? raw : [raw];
  switch (def.kind) {
    case 'list':
      return items.filter((x) => x !== undefined && x !== false && x !== true).map(String);
    case 'int':
      if (def.count && items.every((x) => x === true)) return items.length;
      return checkInt(def, String(items[items.length - 1]), name);
    case 'bool': {
      const last = items[items.length - 1];
      if (typeof last === 'boolean') return last;
      return parseText(def, String(last), name) as boolean;
    }
    case 'string': {
      const last = items[items.length - 1];
      if (last === true) {
        if (def.bare === undefined) throw new UsageError(`${name} needs a value`);
        return def.bare;
      }
      return checkChoice(def, String(last), name);
    }
  }
}

/** Damerau-free edit distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export interface ResolveInput {
  /** Parsed command-line options (undefined: not given). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  config?: ConfigSection | null;
  /** Config keys accepted without effect: lower-case key → why. */
  ignoredKeys?: Record<string, string>;
  /** Config keys that belong to other tools sharing the section: accepted, not parsed. */
  otherKeys?: readonly string[];
}

/**
 * Resolves every setting of `table`: command line, then environment, then config section, then
 * defaults; accumulating lists join all tiers, lowest first. The config section is checked
 * whole: an unknown key or a bad value is a UsageError naming the file and line.
 */
export function resolveSettings<T extends SettingTable>(table: T, input: ResolveInput): Resolved<T> {
  const env = input.env ?? process.env;
  const flags = input.flags ?? {};
  const cfg = input.config ?? null;
  const byKey = new Map(Object.entries(table).map(([name, def]) => [def.key.toLowerCase(), name]));
  const ignoredKeys = new Map(Object.entries(input.ignoredKeys ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const other = new Set((input.otherKeys ?? []).map((k) => k.toLowerCase()));

  const fromConfig = new Map<string, { value: SettingValue; where: string }>();
  const ignored: Resolved<T>['ignored'] = [];
  for (const [key, entry] of cfg?.entries ?? []) {
    const name = byKey.get(key);
    const at = where(cfg!, entry);
    if (name === undefined) {
      const why = ignoredKeys.get(key);
      if (why !== undefined) ignored.push({ key: entry.name, where: `${cfg!.file}:${entry.line}`, why });
      else if (!other.has(key) && !cfg!.inherited.has(key)) {
        const known = [...Object.values(table).map((d) => d.key), ...(input.ignoredKeys ? Object.keys(input.ignoredKeys) : [])];
        const near = known.map((k) => [k, distance(k.toLowerCase(), key)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = near && near[1] <= 2 ? ` (did you mean ${near[0]}?)` : '';
        throw new UsageError(`${cfg!.file}:${entry.line}: unknown key '${entry.name}' in [${cfg!.section}]${hint}`);
      }
      continue;
    }
    fromConfig.set(name, { value: parseText(table[name], entry.value, at, entry.line, cfg!.file), where: at });
  }

  const values: Record<string, SettingValue> = {};
  const sources: Record<string, string> = {};
  const parts: Record<string, { source: string; items: string[] }[]> = {};
  for (const [name, def] of Object.entries(table)) {
    const tiers: { value: SettingValue; source: string }[] = [];
    const raw = def.flag === undefined ? undefined : flags[def.flag];
    if (raw !== undefined) tiers.push({ value: fromFlag(def, raw), source: kebab(def.flag!) });
    // Empty variables count as unset, as a shell user expects of `TARDIS_X=`.
    const envText = def.env === undefined ? undefined : env[def.env];
    if (envText) tiers.push({ value: parseText(def, envText, def.env!), source: def.env! });
    const c = fromConfig.get(name);
    if (c) tiers.push({ value: c.value, source: c.where });
    // An empty default (TARDIS_REPO's) is no value.
    const sys = def.env === undefined ? '' : systemDefault(def.env, env);
    const dflt = sys !== '' ? parseText(def, sys, `${def.env} (system defaults)`) : def.default;
    tiers.push({ value: (Array.isArray(dflt) ? [...dflt] : dflt) as SettingValue, source: 'default' });
    if (def.kind === 'list' && def.accumulate) {
      const used = tiers.filter((t) => (t.value as string[] | undefined)?.length).reverse();
      values[name] = used.flatMap((t) => t.value as string[]);
      sources[name] = used.map((t) => t.source).join(', ') || 'default';
      parts[name] = used.map((t) => ({ source: t.source, items: t.value as string[] }));
    } else {
      const first = tiers.find((t) => t.value !== undefined)!;
      values[name] = first?.value ?? (def.kind === 'bool' ? false : def.kind === 'list' ? [] : undefined);
      sources[name] = first?.source ?? 'default';
    }
  }
  return { values: values as SettingValues<T>, sources: sources as Record<keyof T, string>, parts: parts as Resolved<T>['parts'], ignored };
}
