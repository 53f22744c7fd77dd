// Repository settings kept in the catalog's config table: the per-repository policy overrides
// of `sonic setconfig` (reference §3.3), under a "policy." prefix.
import type { CatalogDb } from './db.ts';

const PREFIX = 'policy.';

export async function policyOverrides(db: CatalogDb): Promise<Record<string, string>> {
  const rs = await db.execute(`SELECT key, value FROM config WHERE key LIKE '${PREFIX}%' ORDER BY key`);
  return Object.fromEntries(rs.rows.map((r) => [String(r.key).slice(PREFIX.length), String(r.value)]));
}

/** Sets (or with null, removes) overrides in one transaction. */
export async function setPolicyOverrides(db: CatalogDb, changes: Record<string, string | null>): Promise<void> {
  await db.batch(Object.entries(changes).map(([key, value]) => value === null
    ? { sql: 'DELETE FROM config WHERE key = ?', args: [PREFIX + key] }
    : { sql: 'INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', args: [PREFIX + key, value] }));
}
