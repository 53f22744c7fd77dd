// Where each backup root appears in the repository (Tardis' --basepath): under its absolute
// path (full), below the common ancestor of all roots (common), or at the top (none).
import path from 'node:path';
import { UsageError } from '../errors/errors.ts';

export type BasePath = 'full' | 'common' | 'none';

export interface RootPlacement {
  /** Absolute path of the root on this machine. */
  path: string;
  /** The ancestors (absolute paths) whose single-entry listings lead to the root, top first. */
  chain: string[];
}

/**
 * For each root, the directories from the repository's "/" down to the root itself. The first
 * element of `chain` is listed at node "/"; the root is the last element (an empty chain: the
 * root is "/" itself).
 */
export function placeRoots(roots: string[], mode: BasePath): RootPlacement[] {
  const abs = roots.map((r) => path.resolve(r));
  let base: string;
  if (mode === 'full') base = '/';
  else if (mode === 'none') base = '';
  else {
    base = abs.reduce((a, b) => commonDir(a, b));
    if (abs.includes(base)) base = path.dirname(base);
  }
  const seen = new Set<string>();
  return abs.map((p) => {
    let chain: string[];
    if (mode === 'none') {
      const name = path.basename(p);
      if (seen.has(name)) throw new UsageError(`--basepath none needs distinct root names, '${name}' appears twice`);
      seen.add(name);
      chain = [p];
    } else {
      const rel = path.relative(base, p);
      const parts = rel === '' ? [] : rel.split('/');
      chain = parts.map((_, i) => path.join(base, ...parts.slice(0, i + 1)));
    }
    if (chain.length === 0 && mode !== 'full') throw new UsageError(`cannot back up '/' with --basepath ${mode}; use --basepath full`);
    return { path: p, chain };
  });
}

function commonDir(a: string, b: string): string {
  const pa = a.split('/');
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join('/') || '/';
}
