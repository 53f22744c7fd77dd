// Where the release puts things: the names `make release` writes and `make release-test` reads.
import path from 'node:path';
import { VERSION } from '../../internal/version/version.ts';
import { ROOT } from '../build-common.ts';
import type { Arch } from './fetch.ts';

export const DIST = path.join(ROOT, 'dist');
/** The bundle the executables carry; it also runs under node, bun and deno from the clone. */
export const BUNDLE = path.join(ROOT, 'build', 'release', 'tardis.cjs');
export const WORK = path.join(ROOT, 'build', 'release', 'work');
/** The licenses of what the executables carry besides our code (licenses.ts). */
export const LICENSES = path.join(ROOT, 'build', 'release', 'THIRD-PARTY-LICENSES');

export const DEB_ARCH: Record<Arch, string> = { x64: 'amd64', arm64: 'arm64' };

export function exeName(arch: Arch): string {
  return `tardis-${VERSION}-linux-${arch}`;
}

export function debName(arch: Arch): string {
  return `tardis-ts_${VERSION}_${DEB_ARCH[arch]}.deb`;
}
