// sonic rebuild: a new catalog from the packs and the sets' snapshots alone. It runs where the
// repository's files are (file: repositories; for a tardisd's, on the server with BASEDIR/CLIENT)
// and needs the password to open the snapshots; file data is never read.
import { parseRepositoryUrl } from '../../internal/config/url.ts';
import { unlockLocal } from '../../internal/connect/connect.ts';
import { TardisError, UsageError } from '../../internal/errors/errors.ts';
import { rebuildCatalog, type RebuildReport } from '../../internal/server/rebuild.ts';
import { snapshotOpener } from '../../internal/snapshot/snapshot.ts';

type Out = (line: string) => void;

export interface RebuildFlags {
  force?: boolean;
  json?: boolean;
}

function render(r: RebuildReport, root: string, out: Out): void {
  out(`rebuilt the catalog of ${root}: ${r.sets.length} sets, ${r.packs} packs (${r.chunks} chunks), ${r.contents} file contents, ${r.versions} file versions`);
  for (const s of r.sets) out(`  set ${s.id} ${s.name}${s.source === 'record' ? '' : `  (from ${s.source === 'manifest' ? 'its snapshot: priority, lock and later changes lost' : 'its snapshot only: name, times, tags lost'})`}`);
  for (const s of r.skipped) out(`could not use ${s.what}: ${s.why}`);
  if (r.previous) out(`the catalog it replaced is kept as ${r.previous}`);
}

export async function rebuildCommand(urlText: string, password: () => Promise<string | null>, keyFile: string | undefined, flags: RebuildFlags, out: Out, progress?: Out): Promise<void> {
  const url = parseRepositoryUrl(urlText);
  if (url.kind !== 'file') {
    throw new UsageError(`sonic rebuild works on the repository's own directory: run it on the server, with tardisd stopped, as \`sonic rebuild -R BASEDIR/${url.client}\``);
  }
  const keyring = await unlockLocal(url.path, password, keyFile);
  const report = await rebuildCatalog(url.path, snapshotOpener(keyring), { force: flags.force === true, onProgress: progress });
  if (flags.json) out(JSON.stringify(report));
  else render(report, url.path, out);
  // The catalog is in place either way; what it could not recover is worth a non-zero exit.
  if (report.skipped.length) throw new TardisError(`the catalog was rebuilt without ${report.skipped.length} damaged parts (listed above); run \`sonic check\``);
}
