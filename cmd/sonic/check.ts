// sonic check: structure and catalog-against-store consistency (on the repository side, no keys
// needed there), snapshot manifests, and with --read-data (or a subset) every chunk read back and
// verified. Reports what is damaged and which files and sets it breaks; exits 1 if anything is.
import { runCheck, type CheckResult } from '../../internal/check/check.ts';
import { parseSubset, type Subset } from '../../internal/check/subset.ts';
import { formatBytes } from '../../internal/config/index.ts';
import type { Connection } from '../../internal/connect/connect.ts';
import { TardisError, UsageError } from '../../internal/errors/errors.ts';

type Out = (line: string) => void;

export interface CheckFlags {
  readData?: boolean;
  readDataSubset?: unknown;
  json?: boolean;
}

function subsetOf(f: CheckFlags): Subset | undefined {
  if (f.readDataSubset !== undefined) {
    if (f.readDataSubset === true || f.readDataSubset === '') throw new UsageError('--read-data-subset needs N/M or N%');
    return parseSubset(String(f.readDataSubset));
  }
  return f.readData ? { kind: 'all' } : undefined;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function setList(sets: { id: number; name: string }[]): string {
  const shown = sets.slice(0, 8).map((s) => `${s.name} (${s.id})`).join(', ');
  return sets.length > 8 ? `${shown}, … (${sets.length} sets)` : shown;
}

function render(r: CheckResult, out: Out): void {
  const c = r.structure.counts;
  out(`checked ${c.sets} sets, ${c.packs} packs, ${c.chunks} chunks, ${c.contents} file contents, ${c.versions} file versions`);
  if (r.readData) {
    out(`read back ${r.readData.packs} of ${r.readData.of} packs: ${r.readData.chunks} chunks, ${formatBytes(r.readData.bytes)}`);
  }
  for (const n of r.structure.notes) out(`note: ${n.message}`);
  for (const p of [...r.structure.problems, ...r.problems]) out(`DAMAGED: ${p.kind === 'pack' ? `pack ${p.subject}: ` : ''}${p.message}`);
  if (r.damagedCount) out(`damaged chunks: ${r.damagedCount}`);
  if (r.files.length) {
    out(`files affected (${r.files.length}${r.filesTruncated ? ' and more' : ''}), with the sets that hold the damaged versions:`);
    for (const f of r.files) out(`  ${f.path}  in ${setList(f.sets)}`);
  }
  if (r.snapshots.length) out(`set snapshots affected (a rebuild could not recover these sets): ${setList(r.snapshots)}`);
  if (r.ok) out(r.readData ? 'no damage found' : 'no damage found (chunk contents not read: --read-data reads and verifies them)');
}

export async function checkCommand(conn: Connection, flags: CheckFlags, out: Out, progress?: (line: string) => void): Promise<void> {
  const readData = subsetOf(flags);
  const r = await runCheck(conn.session, conn.keyring, {
    readData,
    onPack: progress && ((done, total, bytes) => progress(`read ${done}/${total} packs, ${formatBytes(bytes)}`)),
  });
  if (flags.json) {
    out(JSON.stringify({
      ok: r.ok, counts: r.structure.counts, readData: r.readData, notes: r.structure.notes,
      problems: [...r.structure.problems, ...r.problems], damagedChunks: r.damagedCount,
      files: r.files, filesTruncated: r.filesTruncated, snapshots: r.snapshots,
    }));
  } else {
    render(r, out);
  }
  if (!r.ok) {
    const sets = new Set(r.files.flatMap((f) => f.sets.map((s) => s.id)));
    throw new TardisError(`the repository is damaged: ${count(r.structure.problems.length + r.problems.length, 'problem')}, ` +
      `${count(r.damagedCount, 'damaged chunk')}; ${count(r.files.length, 'file')}${r.filesTruncated ? ' or more' : ''} in ${count(sets.size, 'set')} affected`);
  }
}
