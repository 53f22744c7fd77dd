// sonic getconfig and setconfig: a repository's own policy settings (Formats, Priorities,
// KeepDays, ForceFull, AutoPurge, Disabled), which override tardisd's or the config file's.
import * as cli from '../../internal/cli/common.ts';
import type { Connection } from '../../internal/connect/connect.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import type { SettingsReport } from '../../internal/model/session.ts';
import { policyKey } from '../../internal/retention/policy.ts';
import { renderTable } from '../../internal/ui/index.ts';

type Flags = Record<string, unknown>;
type Out = (line: string) => void;

function show(r: SettingsReport, keys: string[], json: boolean, out: Out): void {
  const wanted = keys.length ? keys.map((k) => policyKey(k) ?? k) : Object.keys(r.effective);
  for (const k of wanted) if (!(k in r.effective)) throw new UsageError(`unknown setting '${k}' (known: ${Object.keys(r.effective).join(', ')})`);
  if (json) {
    out(JSON.stringify(Object.fromEntries(wanted.map((k) => [k, { value: r.effective[k], overridden: k in r.overrides }]))));
    return;
  }
  const rows = wanted.map((k) => [k, r.effective[k]!, k in r.overrides ? 'repository' : 'configured']);
  out(renderTable(['Key', 'Value', 'From'], rows));
  if (!r.overridesAllowed) out('(this server does not let repositories override its settings)');
}

export async function getconfig(conn: Connection, o: Flags, out: Out): Promise<void> {
  show(await conn.session.getSettings(), cli.list(o.key), o.json === true, out);
}

/**
 * setconfig --key K --value V (repeatable, paired in order), KEY=VALUE arguments, and
 * --unset K; every change is checked together and applied at once.
 */
export async function setconfig(conn: Connection, args: string[], o: Flags, out: Out): Promise<void> {
  const keys = cli.list(o.key);
  const values = cli.list(o.value);
  if (keys.length !== values.length) throw new UsageError(`give one --value per --key (${keys.length} keys, ${values.length} values)`);
  const changes: Record<string, string | null> = {};
  keys.forEach((k, i) => (changes[k] = values[i]!));
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`'${a}' is not KEY=VALUE`);
    changes[a.slice(0, eq)] = a.slice(eq + 1);
  }
  for (const k of cli.list(o.unset)) changes[k] = null;
  if (Object.keys(changes).length === 0) throw new UsageError('nothing to set: give --key K --value V, KEY=VALUE or --unset K');
  const named = Object.keys(changes).map((k) => policyKey(k) ?? k);
  show(await conn.session.setSettings(changes), named, o.json === true, out);
}
