// Bundles every cmd/<tool>/main.ts with esbuild into build/<tool>.mjs and writes bin/<tool>
// wrappers that run it on the project's pinned Node. Tools not written yet get a bin/ stub that
// says so and exits 2.
import * as esbuild from 'esbuild';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { builtTools, inlineMigrations, TOOLS } from './scripts/build-common.ts';

const root = path.dirname(new URL(import.meta.url).pathname);

mkdirSync(path.join(root, 'build'), { recursive: true });
mkdirSync(path.join(root, 'bin'), { recursive: true });
const node = path.relative(root, process.execPath);
const built = builtTools();

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
  external: ['libsql'],
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
