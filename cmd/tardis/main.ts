// tardis: back up directories to a repository.
import { cac } from 'cac';
import { runBackup, type Stats } from '../../internal/backup/index.ts';
import * as cli from '../../internal/cli/common.ts';
import { parseCompressAlg } from '../../internal/compress/index.ts';
import { getPassword } from '../../internal/config/password.ts';
import { formatBytes, formatDuration } from '../../internal/config/index.ts';
import { createRepository, openRepository } from '../../internal/connect/connect.ts';
import { Excluder, expandPath } from '../../internal/exclude/index.ts';
import { Logger, Progress } from '../../internal/ui/index.ts';
import { VERSION } from '../../internal/version/version.ts';
import { checkPurgeFlags, purgeAfter } from './purge.ts';

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
  .option('-d, --maxdepth <n>', 'Descend at most N levels (1 = only the named directories; default 0 = no limit)')
  .option('--crossdevice', 'Descend into directories on other file systems')
  .option('--basepath <mode>', 'Where roots appear: full (absolute paths, the default), common (below their common ancestor), none')
  .option('--force', 'Start even if the repository lock says another backup is running')
  .option('-x, --exclude <pattern>', 'Leave out what matches this gitignore-style pattern (repeatable; /abs/path anchors)')
  .option('-X, --exclude-file <file>', 'Read exclude patterns from FILE, one per line (repeatable)')
  .option('--exclude-dir <dir>', 'Leave out this directory (repeatable; relative to the current directory)')
  .option('--exclude-file-name <name>', 'Per-directory exclude file, for its directory and below (default: .tardis-excludes) [$TARDIS_EXCLUDES]')
  .option('--local-exclude-file-name <name>', 'Per-directory exclude file, for its directory only (default: .tardis-local-excludes) [$TARDIS_LOCAL_EXCLUDES]')
  .option('--skip-file-name <name>', 'Leave out directories containing a file of this name (default: .tardis-skip) [$TARDIS_SKIP]')
  .option('--ignore-global-excludes', 'Do not read the global exclude file ($TARDIS_GLOBAL_EXCLUDES, default /etc/tardis/excludes)')
  .option('--cvs-ignore', 'Also leave out what CVS ignores (*.o, *~, core, .git, ...)')
  .option('--skip-caches', 'Back up directories with a valid CACHEDIR.TAG empty')
  .option('--exclude-no-access', 'Leave out files and directories this user cannot read (default: back up the rest, exit 3)')
  .option('--purge', 'After the backup, delete older sets (see --purge-priority, --keep-*) and their unused data')
  .option('--purge-priority <n>', 'With --purge: highest priority deleted (default: the new set\'s)')
  .option('--keep-days <n>', 'With --purge: keep sets that ended in the last N days (default: the new set\'s KeepDays)')
  .option('--keep-hours <n>', 'With --purge: keep sets that ended in the last N hours')
  .option('--keep-time <date>', 'With --purge: keep sets that ended after DATE')
  .option('--stats', 'Print statistics at the end')
  .option('--progress', 'Show a live progress line (default: on when stderr is a terminal)')
  .option('--json', 'Print the result as JSON on stdout')
  .option('-v, --verbose', 'More output (repeat for more)')
  .usage('[options] [DIRECTORY...]\n\nBack up DIRECTORY (default: Directories in the config file, else the current directory) to the repository.\n\n' +
    'Settings come from the command line, then TARDIS_* variables, then the config file, then defaults;\n' +
    'an on/off option --X is turned off with --no-X. @FILE reads more arguments from FILE.\n\n' +
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
  if (s.excluded) out(`Excluded:   ${s.excluded}`);
  if (s.problems || s.skipped) out(`Problems:   ${s.problems} (vanished ${s.vanished}, unreadable ${s.unreadable}, changed while read ${s.changedDuringRead}), skipped ${s.skipped}`);
}

cli.runMain('tardis', async () => {
  const { args, options: o } = cli.parse(prog, 'tardis');
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  const settings = cli.loadSettings(o);
  const v = settings.values;
  const verbosity = v.verbosity;
  const log = new Logger({ verbosity });
  cli.noteIgnored(settings, log);
  const url = cli.repositoryUrl(settings);
  const compression = v.compressData === undefined ? undefined : parseCompressAlg(v.compressData);
  // Global exclude files are read before anything is opened: a bad one stops here.
  const exclude = Excluder.load({
    patterns: (settings.parts.excludePatterns ?? []).map((p) => ({ patterns: p.items, source: p.source })),
    patternFiles: v.excludeFiles,
    globalFile: v.ignoreGlobalExcludes ? null : v.globalExcludeFile,
    globalFileRequired: settings.sources.globalExcludeFile !== 'default',
    dirs: v.excludeDirs,
    cvs: v.ignoreCvs,
    skipCaches: v.skipCaches,
    excludeFileName: v.excludeFileName,
    localExcludeFileName: v.localExcludeFileName,
    skipFileName: v.skipFileName,
    noAccess: v.excludeNoAccess,
  });
  if (v.purge) checkPurgeFlags(o);
  const dial = cli.connectOptions(settings);
  const conn = o.create
    ? await createRepository(url, await getPassword(cli.passwordOptions(o, cli.argv()), { confirm: true, ...cli.passwordConfig(settings) }), {
      ...dial, compression, aead: cli.oneOf(o.cipher, 'cipher', ['chacha20-poly1305', 'aes-256-gcm'] as const, 'chacha20-poly1305'),
    })
    : await openRepository(url, cli.passwordSource(o, settings), dial);
  const progress = new Progress({ enabled: o.progress === true ? true : undefined });
  try {
    const result = await runBackup(conn.session, conn.keyring, {
      roots: args.length ? args.map(String) : v.directories.map((d) => expandPath(d)),
      basePath: v.basePath as 'full' | 'common' | 'none',
      maxDepth: v.maxDepth,
      crossDevice: v.crossDevice,
      full: v.full,
      name: o.name === undefined ? undefined : String(o.name),
      tags: cli.list(o.tag),
      moveTags: o.movetag === true,
      force: v.force,
      compression,
      exclude,
      onExclude: (p, reason) => log.info(`excluded ${p}: ${reason}`),
      onProblem: (kind, path, message) => {
        const line = kind === 'skipped-socket' ? `skipped socket ${path}` : `${kind}: ${path}: ${message}`;
        if (kind === 'skipped-socket') log.info(line);
        else log.warn(line);
      },
      onProgress: (s, current) => progress.update({ files: s.files, dirs: s.dirs, bytesRead: s.bytesRead, bytesNew: s.bytesNew, current }),
    });
    progress.done();
    const s = result.stats;
    const purged = v.purge ? await purgeAfter(conn, result.setId, o) : null;
    if (result.autoPurged.length) log.info(`AutoPurge deleted ${result.autoPurged.join(', ')}`);
    if (purged) {
      log.info(purged.purged.length ? `purged ${purged.purged.map((p) => p.name).join(', ')} (${purged.why})` : `nothing to purge (${purged.why})`);
    }
    if (o.json) {
      const extra = { ...(purged ? { purged: purged.purged.map((p) => ({ id: p.id, name: p.name })), gc: purged.gc } : {}), autoPurged: result.autoPurged };
      process.stdout.write(JSON.stringify({ set: result.name, id: result.setId, resumed: result.resumed, stats: s, ...extra }) + '\n');
    } else if (v.stats || verbosity > 0) {
      printStats(s, result.name, (l) => process.stdout.write(l + '\n'));
      if (purged) process.stdout.write(`Purged:     ${purged.purged.length ? purged.purged.map((p) => p.name).join(', ') : 'nothing'}\n`);
      if (result.autoPurged.length) process.stdout.write(`AutoPurged: ${result.autoPurged.join(', ')}\n`);
    }
    if (result.resumed) log.info(`resumed the interrupted set ${result.setId}`);
    return s.problems > 0 ? cli.EXIT_PARTIAL : cli.EXIT_OK;
  } finally {
    progress.done();
    await conn.session.close();
  }
});
