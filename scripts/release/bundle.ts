// The release bundle: every written tool behind the multi-call entry, in one CommonJS file (what
// a Node single executable runs; no top-level await, no code splitting). The same file runs
// under node, bun and deno from the clone, where node_modules supplies the libSQL addon.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { builtTools, inlineMigrations, ROOT, TOOLS } from '../build-common.ts';
import { packagesOf } from './licenses.ts';

const HERE = path.join(ROOT, 'scripts', 'release');

/**
 * libsql loads its addon with `require(\`@libsql/${target}\`)`, which no bundler can follow:
 * route it through native.ts, which reads the addon from the executable in a SEA.
 */
const libsqlAddon: esbuild.Plugin = {
  name: 'libsql-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const call = 'require(`@libsql/${target}`)';
      if (!src.includes(call)) throw new Error(`${args.path}: libsql no longer loads its addon with ${call}; update scripts/release/bundle.ts`);
      const native = JSON.stringify(path.join(HERE, 'native.ts'));
      return { loader: 'js', contents: src.replace(call, `require(${native}).loadLibsqlAddon(target)`) };
    });
  },
};

/** The entry: the multi-call runner with a lazy import of each tool written so far. */
function entrySource(built: string[]): string {
  const loaders = built.map((t) => `  ${JSON.stringify(t)}: () => import(${JSON.stringify(`../../cmd/${t}/main.ts`)}),`).join('\n');
  return `import { run } from './multicall.ts';\n` +
    `run({\n${loaders}\n}, ${JSON.stringify(TOOLS)});\n`;
}

/** Bundles into `outfile`; returns the tools it holds and the npm packages it took code from. */
export async function bundle(outfile: string): Promise<{ tools: string[]; packages: string[] }> {
  const built = builtTools();
  const r = await esbuild.build({
    stdin: { contents: entrySource(built), resolveDir: HERE, sourcefile: 'release-entry.ts', loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // Readable stack traces; minifying all of it saved no measurable start-up time.
    minifySyntax: true,
    legalComments: 'none',
    // import.meta is empty in CommonJS; the worker pools need the bundle's file to start threads.
    define: { 'import.meta': '__tardisImportMeta' },
    inject: [path.join(HERE, 'import-meta.ts')],
    // An optional native speed-up of msgpackr, tried in a try/catch; the executable goes without.
    external: ['msgpackr-extract'],
    plugins: [inlineMigrations, libsqlAddon],
    logLevel: 'warning',
    logOverride: { 'unsupported-require-call': 'silent' },
    metafile: true,
  });
  return { tools: built, packages: packagesOf(Object.keys(r.metafile.inputs)) };
}
