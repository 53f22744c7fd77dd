// A repository's retention policy: how sets are named (Formats/Priorities/KeepDays/ForceFull),
// whether each completed backup purges older sets (AutoPurge), and whether backups are refused
// (Disabled). tardisd's config or a client's config (file: repositories) gives the base; a
// repository may override single keys (`sonic setconfig`, reference §3.3).
import { parseBool } from '../config/settings.ts';
import { UsageError } from '../errors/errors.ts';
import type { PurgeRule } from '../model/session.ts';
import { DEFAULT_NAMING, type NamingPolicy } from './naming.ts';

export interface RepoPolicy {
  naming: NamingPolicy;
  autoPurge: boolean;
  disabled: boolean;
}

export const DEFAULT_POLICY: RepoPolicy = { naming: DEFAULT_NAMING, autoPurge: false, disabled: false };

/** The keys a policy has, as documented (config files, `sonic getconfig/setconfig`). */
export const POLICY_KEYS = ['Formats', 'Priorities', 'KeepDays', 'ForceFull', 'AutoPurge', 'Disabled'] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

const ALIASES: Record<string, PolicyKey> = { keepperiods: 'KeepDays' }; // the name Tardis' docs use

/** The documented spelling of a policy key given in any case, or null if it is none. */
export function policyKey(name: string): PolicyKey | null {
  const l = name.trim().toLowerCase();
  return POLICY_KEYS.find((k) => k.toLowerCase() === l) ?? ALIASES[l] ?? null;
}

function fail(where: string, msg: string): never {
  throw new UsageError(`${where}: ${msg}`);
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function wholeNumber(v: string, where: string): number {
  if (!/^\d{1,9}$/.test(v)) fail(where, `'${v}' is not a whole number of at least 0`);
  return Number(v);
}

/** `values` (key → text, as in a config file) over `base`, checked as a whole. */
export function applyPolicyValues(base: RepoPolicy, values: Record<string, string>, where: (key: PolicyKey) => string = (k) => k): RepoPolicy {
  const naming = { ...base.naming };
  let { autoPurge, disabled } = base;
  for (const [name, value] of Object.entries(values)) {
    const key = policyKey(name);
    if (!key) fail(name, `unknown setting (known: ${POLICY_KEYS.join(', ')})`);
    const at = where(key);
    switch (key) {
      case 'Formats': naming.formats = list(value); break;
      case 'Priorities': naming.priorities = list(value).map((x) => wholeNumber(x, at)); break;
      case 'KeepDays': naming.keepDays = list(value).map((x) => wholeNumber(x, at)); break;
      case 'ForceFull': naming.forceFull = list(value).map((x) => parseBool(x, at)); break;
      case 'AutoPurge': autoPurge = parseBool(value, at); break;
      case 'Disabled': disabled = parseBool(value, at); break;
    }
  }
  checkNaming(naming, (k) => where(k));
  return { naming, autoPurge, disabled };
}

/** One value per format, and formats that make valid set names. */
export function checkNaming(n: NamingPolicy, where: (key: PolicyKey) => string = (k) => k): void {
  if (n.formats.length === 0) fail(where('Formats'), 'Formats needs at least one set name format');
  for (const f of n.formats) {
    if (f.includes('/')) fail(where('Formats'), `set name format '${f}' must not contain '/'`);
  }
  const lists: [PolicyKey, number][] = [['Priorities', n.priorities.length], ['KeepDays', n.keepDays.length], ['ForceFull', n.forceFull.length]];
  for (const [key, len] of lists) {
    if (len !== n.formats.length) fail(where(key), `${key} has ${len} value(s) but Formats has ${n.formats.length}: give one per format`);
  }
}

/** A policy as key → text, the form `sonic getconfig` prints and applyPolicyValues reads. */
export function policyValues(p: RepoPolicy): Record<PolicyKey, string> {
  return {
    Formats: p.naming.formats.join(', '),
    Priorities: p.naming.priorities.join(', '),
    KeepDays: p.naming.keepDays.join(', '),
    ForceFull: p.naming.forceFull.map((b) => (b ? '1' : '0')).join(', '),
    AutoPurge: String(p.autoPurge),
    Disabled: String(p.disabled),
  };
}

/**
 * The purge that follows a completed set under AutoPurge or a bare `tardis --purge` (reference
 * §6.2): older sets of at most its priority that ended more than its keep days before it
 * started. Null when the set keeps everything (keep days 0).
 */
export function autoPurgeRule(set: { id: number; priority: number; keepDays: number; startTime: number }): PurgeRule | null {
  if (set.keepDays <= 0) return null;
  return { priority: set.priority, before: set.startTime - set.keepDays * 86_400_000, belowId: set.id };
}
