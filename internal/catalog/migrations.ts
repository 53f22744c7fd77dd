// Catalog migrations, read from schema/NNNN_*.sql. build.ts replaces this module with one that
// carries the SQL inline, so bundles and single executables need no schema/ directory.
import { readdirSync, readFileSync } from 'node:fs';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(): Migration[] {
  const dir = new URL('../../schema/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(new URL(f, dir), 'utf8') }));
}
