// THIRD-PARTY-LICENSES for the archives: the executable carries the Node runtime, the libSQL
// addon and every npm package the bundle pulled in, and their licenses ask to be passed on.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../build-common.ts';

/** The package directories (node_modules/[@scope/]name) among esbuild's metafile inputs. */
export function packagesOf(inputs: string[]): string[] {
  const dirs = new Set<string>();
  for (const i of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(i);
    if (m) dirs.add(path.resolve(ROOT, m[1]!));
  }
  return [...dirs].sort();
}

function section(dir: string, title?: string): string {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(f));
  const text = file ? readFileSync(path.join(dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'see the package'} (the package ships no license file)`;
  return `${'='.repeat(78)}\n${title ?? `${pkg.name} ${pkg.version}`}\n${'='.repeat(78)}\n\n${text}\n`;
}

/** The whole file: the runtime first, then the addon, then the bundled packages. */
export function thirdPartyLicenses(o: { runtimeDir: string; addonDir: string; packages: string[] }): string {
  const parts = [
    'Tardis-TS executables contain the following third-party software.\n',
    section(o.runtimeDir, `Node.js ${process.version} (the runtime)`),
    section(o.addonDir),
    ...o.packages.filter((d) => existsSync(path.join(d, 'package.json'))).map((d) => section(d)),
  ];
  return parts.join('\n');
}
