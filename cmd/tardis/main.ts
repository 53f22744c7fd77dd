// tardis: back up directories to a repository.
import { cac } from 'cac';
import { runBackup, type Stats } from '../../internal/backup/index.ts';
import * as cli from '../../internal/cli/common.ts';
import { parseCompressAlg } from '../../internal/compress/index.ts';
import { getPassword } from '../../internal/config/password.ts';
import { formatBytes, formatDuration } from '../../internal/config/index.ts';
import { createRepository, openRepository } from '../../internal/connect/connect.ts';
import { Logger, Progress } from '../../internal/ui/index.ts';
import { VERSION } from '../../internal/version/version.ts';

const prog = cac('tardis');
cli.repositoryOptions(prog);
prog
  .option('--create', 'Create the repository first (fails if it exists)')
  .option('--no-password', 'With --create: make a repository without a password (NOT encrypted in any useful sense)')
  .option('--cipher <alg>', 'With --create: chacha20-poly1305 (default, fast without AES hardware) or aes-256-gcm')
  .option('-n, --name <name>', 'Name the set (default: Monthly-/Weekly-/Daily-… by the naming policy)')
  .option('-t, --tag <tag>', 'Tag the set when it completes (repeatable)')
  .option('-M, --movetag', 'Move a --tag that already names another set')
  .option('--full', 'Read every file again instead of trusting unchanged metadata')
  .option('-Z, --compress-data [alg]', 'Compression: zstd (default), gzip or none')
  .option('-d, --maxdepth <n>', 'Descend at most N levels (1 = only the named directories; 0 = no limit)', { default: 0 })
  .option('--crossdevice', 'Descend into directories on other file systems')
  .option('--basepath <mode>', 'Where roots appear: full (absolute paths), common (below their common ancestor), none', { default: 'full' })
  .option('--force', 'Start even if the repository lock says another backup is running')
  .option('--stats', 'Print statistics at the end')
  .option('--progress', 'Show a live progress line (default: on when stderr is a terminal)')
  .option('--json', 'Print the result as JSON on stdout')
  .option('-v, --verbose', 'More output (repeat for more)')
  .usage('[options] [DIRECTORY...]\n\nBack up DIRECTORY (default: the current directory) to the repository.\n\n' +
    'Exit status: 0 success; 1 failure (nothing completed); 3 the set completed but some files could not be read.');
cli.help(prog);
prog.version(VERSION, '-V, --version'); // -v is --verbose

function printStats(s: Stats, name: string, out: (l: string) => void): void {
  out(`Set:        ${name}`);
  out(`Runtime:    ${formatDuration(s.durationMs)}`);
  out(`Dirs:       ${s.dirs} (${s.dirsUnchanged} unchanged)`);
  out(`Files:      ${s.files} (${s.filesRead} read, ${s.filesUnchanged} unchanged), links ${s.symlinks}, other ${s.others}`);
  out(`Read:       ${formatBytes(s.bytesRead)}  (${s.durationMs ? ((s.bytesRead / 1048576) / (s.durationMs / 1000)).toFixed(1) : '0'} MiB/s)`);
  out(`New data:   ${formatBytes(s.bytesNew)} in ${s.chunksNew} of ${s.chunks} chunks, stored as ${formatBytes(s.bytesStored)}`);
  if (s.problems || s.skipped) out(`Problems:   ${s.problems} (vanished ${s.vanished}, unreadable ${s.unreadable}, changed while read ${s.changedDuringRead}), skipped ${s.skipped}`);
}

cli.runMain('tardis', async () => {
  const { args, options: o } = prog.parse(['node', 'tardis', ...cli.argv()], { run: false });
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  const verbosity = cli.count(o.verbose);
  const log = new Logger({ verbosity });
  const url = cli.repositoryUrl(o);
  const compression = o.compressData === undefined ? undefined : parseCompressAlg(o.compressData === true ? 'zstd' : String(o.compressData));
  const conn = o.create
    ? await createRepository(url, await getPassword(cli.passwordOptions(o, cli.argv()), { confirm: true }), {
      compression, aead: cli.oneOf(o.cipher, 'cipher', ['chacha20-poly1305', 'aes-256-gcm'] as const, 'chacha20-poly1305'),
    })
    : await openRepository(url, cli.passwordSource(o));
  const progress = new Progress({ enabled: o.progress === true ? true : undefined });
  try {
    const result = await runBackup(conn.session, conn.keyring, {
      roots: args.length ? args.map(String) : ['.'],
      basePath: cli.oneOf(o.basepath, 'basepath', ['full', 'common', 'none'] as const, 'full'),
      maxDepth: cli.intOption(o.maxdepth, 'maxdepth', 0),
      crossDevice: o.crossdevice === true,
      full: o.full === true,
      name: o.name === undefined ? undefined : String(o.name),
      tags: cli.list(o.tag),
      moveTags: o.movetag === true,
      force: o.force === true,
      compression,
      onProblem: (kind, path, message) => {
        const line = kind === 'skipped-socket' ? `skipped socket ${path}` : `${kind}: ${path}: ${message}`;
        if (kind === 'skipped-socket') log.info(line);
        else log.warn(line);
      },
      onProgress: (s, current) => progress.update({ files: s.files, dirs: s.dirs, bytesRead: s.bytesRead, bytesNew: s.bytesNew, current }),
    });
    progress.done();
    const s = result.stats;
    if (o.json) {
      process.stdout.write(JSON.stringify({ set: result.name, id: result.setId, resumed: result.resumed, stats: s }) + '\n');
    } else if (o.stats || verbosity > 0) {
      printStats(s, result.name, (l) => process.stdout.write(l + '\n'));
    }
    if (result.resumed) log.info(`resumed the interrupted set ${result.setId}`);
    return s.problems > 0 ? cli.EXIT_PARTIAL : cli.EXIT_OK;
  } finally {
    progress.done();
    await conn.session.close();
  }
});
