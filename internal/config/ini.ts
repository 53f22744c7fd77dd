// A small INI reader compatible with what Tardis' Python configparser files use:
// `[Section]`, `key = value` or `key: value`, `#`/`;` comment lines, indented continuation
// lines, a `[DEFAULT]` section inherited by all others, case-insensitive keys, and
// ExtendedInterpolation (`${key}`, `${section:key}`, `$$` for a literal `$`).
import { UsageError } from '../errors/errors.ts';

/** A value, the line its key is on, and the key as written (keys are matched lower-cased). */
export type IniEntry = { value: string; line: number; name: string };
export type IniSection = Map<string, IniEntry>;
export type Ini = Map<string, IniSection>;

const DEFAULT_SECTION = 'DEFAULT';
const MAX_DEPTH = 10; // as configparser's MAX_INTERPOLATION_DEPTH

/**
 * Parse INI text. Section names are case-sensitive, keys are lower-cased (like configparser's
 * optionxform). Values come back interpolated; every section also holds the DEFAULT keys it
 * does not override. Errors name `fileName` and the line.
 */
export function parseIni(text: string, fileName: string): Ini {
  const raw: Ini = new Map();
  let section: IniSection | null = null;
  let last: IniEntry | null = null; // the entry a continuation line extends
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, msg: string): never => {
    throw new UsageError(`${fileName}:${line}: ${msg}`);
  };
  lines.forEach((text, i) => {
    const lineNo = i + 1;
    const trimmed = text.trim();
    if (trimmed === '') {
      last = null;
      return;
    }
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (/^\s/.test(text) && last !== null) {
      last.value += `\n${trimmed}`;
      return;
    }
    const sec = /^\[([^\]]+)\]$/.exec(trimmed);
    if (sec) {
      const name = sec[1].trim();
      if (raw.has(name)) fail(lineNo, `section [${name}] appears twice`);
      section = new Map();
      raw.set(name, section);
      last = null;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!kv) return fail(lineNo, `expected 'key = value' or '[section]', got '${trimmed}'`);
    if (section === null) return fail(lineNo, `'${kv[1]}' appears before any [section]`);
    const key = kv[1].toLowerCase();
    const s: IniSection = section;
    if (s.has(key)) fail(lineNo, `key '${kv[1]}' appears twice in this section`);
    last = { value: kv[2], line: lineNo, name: kv[1] };
    s.set(key, last);
  });

  const defaults = raw.get(DEFAULT_SECTION) ?? new Map<string, IniEntry>();
  const lookup = (sectionName: string, key: string): IniEntry | undefined =>
    raw.get(sectionName)?.get(key) ?? defaults.get(key);

  const interpolate = (sectionName: string, entry: IniEntry, depth: number): string => {
    if (depth > MAX_DEPTH) fail(entry.line, `interpolation nested more than ${MAX_DEPTH} deep (a reference loop?)`);
    let out = '';
    const v = entry.value;
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== '$') {
        out += v[i];
        continue;
      }
      if (v[i + 1] === '$') {
        out += '$';
        i++;
        continue;
      }
      if (v[i + 1] !== '{') fail(entry.line, `'$' must be followed by '$' or '{' (write '$$' for a literal '$')`);
      const end = v.indexOf('}', i + 2);
      if (end < 0) fail(entry.line, `unterminated '\${' in value`);
      const ref = v.slice(i + 2, end);
      const parts = ref.split(':');
      if (parts.length > 2 || parts.some((p) => p === '')) fail(entry.line, `bad reference '\${${ref}}'`);
      const [refSection, refKey] = parts.length === 2 ? [parts[0], parts[1]] : [sectionName, parts[0]];
      const target = lookup(refSection, refKey.toLowerCase());
      if (target === undefined) {
        const where = parts.length === 2 ? `section [${refSection}]` : `section [${sectionName}] or [DEFAULT]`;
        fail(entry.line, `'\${${ref}}' refers to a key not in ${where}`);
      }
      out += interpolate(refSection, target!, depth + 1);
      i = end;
    }
    return out;
  };

  const result: Ini = new Map();
  for (const [name, entries] of raw) {
    const merged: IniSection = new Map();
    const keys = new Set([...(name === DEFAULT_SECTION ? [] : defaults.keys()), ...entries.keys()]);
    for (const key of keys) {
      const entry = entries.get(key) ?? defaults.get(key)!;
      merged.set(key, { value: interpolate(name, entry, 1).trim(), line: entry.line, name: entry.name });
    }
    result.set(name, merged);
  }
  return result;
}

/** Look a key up case-insensitively; undefined if the section or key is missing. */
export function iniGet(ini: Ini, section: string, key: string): string | undefined {
  return ini.get(section)?.get(key.toLowerCase())?.value;
}
