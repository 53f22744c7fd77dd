// `make run`: the main job on the embedded default. Creates an encrypted file: repository
// under ./.tardis/, backs up DIR, lists the sets, restores the newest set into a temporary
// directory and checks it byte for byte (content and metadata).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareTrees } from '../internal/treecmp/compare.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.resolve(process.argv[2] ?? 'testdata');
const repo = path.join(root, '.tardis', 'demo');
const env = { ...process.env, TARDIS_PASSWORD: process.env.TARDIS_PASSWORD ?? 'tardis-demo-password' };

function run(tool: string, args: string[]): void {
  console.log(`\n$ ${tool} ${args.join(' ')}`);
  const r = spawnSync(path.join(root, 'bin', tool), args, { stdio: 'inherit', env });
  if (r.status !== 0 && !(tool === 'tardis' && r.status === 3)) {
    console.error(`${tool} exited with ${r.status}`);
    process.exit(1);
  }
}

if (!process.env.TARDIS_PASSWORD) console.log('(demo password: tardis-demo-password; set TARDIS_PASSWORD to choose another)');
if (!existsSync(path.join(repo, 'config'))) run('sonic', ['create', '-R', repo]);
run('tardis', ['-R', repo, '--stats', dir]);
run('sonic', ['list', '-R', repo]);
const out = mkdtempSync(path.join(os.tmpdir(), 'tardis-restore-'));
try {
  run('regenerate', ['-R', repo, '-o', out, dir]);
  const diffs = await compareTrees(dir, path.join(out, path.basename(dir)));
  if (diffs.length) {
    console.error(`\nrestore differs from ${dir}:`);
    for (const d of diffs.slice(0, 50)) console.error(`  ${d}`);
    process.exit(1);
  }
  console.log(`\nverified: the restore of ${dir} matches byte for byte (content, modes, owners, times, links)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
