// What the dev build (build.ts) and the release bundle (scripts/release/) share: the tool list
// and the esbuild plugin that inlines the schema.
import type { Plugin } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Every tool of Tardis, written or not (the release makes a symlink for each). */
export const TOOLS = ['tardis', 'tardisd', 'regenerate', 'lstardis', 'tardiff', 'sonic', 'tardisfs', 'tardisremote'];

/** The tools whose cmd/<tool>/main.ts exists now. */
export function builtTools(): string[] {
  return TOOLS.filter((t) => existsSync(path.join(ROOT, 'cmd', t, 'main.ts')));
}

/** Replaces the schema/ reader with a module that carries the SQL, so bundles are standalone. */
export const inlineMigrations: Plugin = {
  name: 'inline-migrations',
  setup(build) {
    build.onLoad({ filter: /internal\/catalog\/migrations\.ts$/ }, () => {
      const dir = path.join(ROOT, 'schema');
      const list = readdirSync(dir).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort()
        .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(path.join(dir, f), 'utf8') }));
      return {
        loader: 'ts',
        contents: `export interface Migration { version: number; name: string; sql: string }\n` +
          `export function loadMigrations(): Migration[] { return ${JSON.stringify(list)}; }\n`,
      };
    });
  },
};
