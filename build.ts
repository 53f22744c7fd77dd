// Bundles every cmd/<tool>/main.ts with esbuild into build/<tool>.mjs and writes bin/<tool>
// wrappers that run it on the project's pinned Node. Tools not written yet get a bin/ stub that
// says so and exits 2.
import * as esbuild from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(new URL(import.meta.url).pathname);
const TOOLS = ['tardis', 'tardisd', 'regenerate', 'lstardis', 'tardiff', 'sonic', 'tardisfs', 'tardisremote'];

/** Replaces the schema/ reader with a module that carries the SQL, so bundles are standalone. */
const inlineMigrations: esbuild.Plugin = {
  name: 'inline-migrations',
  setup(build) {
    build.onLoad({ filter: /internal\/catalog\/migrations\.ts$/ }, () => {
      const dir = path.join(root, 'schema');
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

mkdirSync(path.join(root, 'build'), { recursive: true });
mkdirSync(path.join(root, 'bin'), { recursive: true });
const node = path.relative(root, process.execPath);
const built = TOOLS.filter((t) => existsSync(path.join(root, 'cmd', t, 'main.ts')));

await esbuild.build({
  entryPoints: Object.fromEntries(built.map((t) => [t, path.join(root, 'cmd', t, 'main.ts')])),
  outdir: path.join(root, 'build'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  external: ['@libsql/client', 'libsql'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [inlineMigrations],
  logLevel: 'warning',
});

for (const t of TOOLS) {
  const body = built.includes(t)
    ? `#!/bin/sh\n# ${t}: runs the bundle on the project's pinned Node.\nhere=$(cd "$(dirname "$0")/.." && pwd)\nexec "$here/${node}" --enable-source-maps "$here/build/${t}.mjs" "$@"\n`
    : `#!/bin/sh\necho "${t}: not built yet in this version of tardis-ts" >&2\nexit 2\n`;
  const file = path.join(root, 'bin', t);
  writeFileSync(file, body);
  chmodSync(file, 0o755);
}
console.log(`built ${built.join(', ')} into build/; wrappers in bin/`);
