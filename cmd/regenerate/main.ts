// regenerate: restore files and trees from a backup set.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { cac } from 'cac';
import * as cli from '../../internal/cli/common.ts';
import { openRepository } from '../../internal/connect/connect.ts';
import { IntegrityError, UsageError } from '../../internal/errors/errors.ts';
import { SafeRoot } from '../../internal/fsutil/index.ts';
import { T_FILE } from '../../internal/model/entry.ts';
import { components, lastSetWith, lookupPath, reducePath, Restorer, rootFound, selectSet, type ContentCheck, type Found } from '../../internal/restore/index.ts';
import { Logger } from '../../internal/ui/index.ts';
import { VERSION } from '../../internal/version/version.ts';

const prog = cac('regenerate');
cli.repositoryOptions(prog);
prog
  .option('-o, --output <path>', 'Where to write: a directory for several paths or a tree; a file name for one file (default: stdout for one file)')
  .option('-b, --backup <set>', 'Set to restore from: id, name, tag or Current (default: Current)')
  .option('-d, --date <date>', 'Restore from the newest set started at or before DATE')
  .option('-l, --last', 'Restore each path from the newest set that contains it')
  .option('--no-recurse', 'Restore a directory without its contents')
  .option('-O, --overwrite [mode]', 'Existing files: never (default), always (bare -O), newer, older')
  .option('--no-set-times', 'Do not restore modification times')
  .option('--no-set-perms', 'Do not restore modes and owners')
  .option('--no-hardlinks', 'Do not re-create hard links between restored files')
  .option('--reduce-path [n]', 'Strip N leading path components (bare: until the rest exists in the set)')
  .option('--verify-action <action>', 'A file whose content fails verification: keep, rename (default: NAME-CORRUPT) or delete', { default: 'rename' })
  .option('-v, --verbose', 'More output')
  .usage('[options] PATH...\n\nRestore PATH (absolute, or relative to the current directory) from a backup set.\n' +
    'Exit status: 0 success; 1 failure; 2 unknown set; otherwise the number of failed paths (at most 125).');
cli.help(prog);
prog.version(VERSION, '-V, --version'); // -v is --verbose

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

cli.runMain('regenerate', async () => {
  const { args, options: o } = cli.parse(prog, 'regenerate', { optionalNumbers: ['--reduce-path'] });
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  const settings = cli.loadSettings(o);
  const log = new Logger({ verbosity: settings.values.verbosity });
  cli.noteIgnored(settings, log);
  if (args.length === 0) throw new UsageError('nothing to restore: give one or more paths (see --help)');
  if ([o.backup !== undefined, o.date !== undefined, o.last === true].filter(Boolean).length > 1) {
    throw new UsageError('--backup, --date and --last are mutually exclusive');
  }
  const conn = await openRepository(cli.repositoryUrl(settings), cli.passwordSource(o, settings), cli.connectOptions(settings));
  try {
    const { session, keyring } = conn;
    const sets = await session.listSets();
    const fixed = o.last ? null : selectSet(sets, keyring, { backup: o.backup === undefined ? undefined : String(o.backup), date: o.date === undefined ? undefined : String(o.date) });
    const reduce = o.reducePath === undefined ? 0 : o.reducePath === true ? -1 : cli.intOption(o.reducePath, 'reduce-path', 0);
    const overwrite = o.overwrite === true ? 'always' : cli.oneOf(o.overwrite, 'overwrite', ['never', 'always', 'newer', 'older'] as const, 'never');
    const verifyAction = cli.oneOf(o.verifyAction, 'verify-action', ['keep', 'rename', 'delete'] as const, 'rename');
    let failed = 0;
    // Resolve every path first: which set, which entry.
    const targets: { arg: string; setId: number; found: Found }[] = [];
    for (const arg of args.map(String)) {
      let parts = components(path.resolve(arg));
      const set = fixed ?? (await lastSetWith(session, keyring, sets, parts, reduce));
      if (!set) {
        log.error(`${arg}: not in any backup set`);
        failed++;
        continue;
      }
      parts = await reducePath(session, keyring, set.id, parts, reduce);
      const found = parts.length === 0 ? rootFound() : await lookupPath(session, keyring, set.id, parts);
      if (!found) {
        log.error(`${arg}: not found in set ${set.name}`);
        failed++;
        continue;
      }
      targets.push({ arg, setId: set.id, found });
    }
    // Nothing found: the errors above say why; no "needs --output" on top.
    if (targets.length === 0) return Math.min(failed, 125);
    const single = targets.length === 1 && args.length === 1 ? targets[0] : undefined;
    const restorerFor = (setId: number) => new Restorer(session, keyring, {
      setId, overwrite, verifyAction, recurse: o.recurse !== false, setTimes: o.setTimes !== false,
      setPerms: o.setPerms !== false, setOwners: o.setPerms !== false, hardlinks: o.hardlinks !== false,
      onProblem: (p, m) => log.error(`${p}: ${m}`),
      onSkip: (p, m) => log.warn(`${p}: ${m}`),
      onFile: (p, n) => log.detail(`restored ${p} (${n} bytes)`),
    });
    if (single && single.found.entry.type === T_FILE && o.output === undefined) {
      // One file to stdout.
      const r = restorerFor(single.setId);
      const check: ContentCheck = { bad: 0 };
      try {
        for await (const data of r.content(single.found.entry, check)) {
          if (!process.stdout.write(data)) await new Promise((res) => process.stdout.once('drain', res));
        }
      } finally {
        await r.close();
      }
      // Already written: all that is left is to say so (--verify-action needs a file).
      if (check.bad) throw new IntegrityError(`${single.arg}: ${check.bad} damaged chunk(s); output is incomplete`);
      if (check.mismatch) throw new IntegrityError(`${single.arg}: content does not match its checksum; output is corrupt`);
      return cli.EXIT_OK;
    }
    if (o.output === undefined) throw new UsageError('restoring a directory or several paths needs --output DIR');
    const out = path.resolve(String(o.output));
    // One path and -o not an existing directory: -o names the restored file or tree itself.
    // Otherwise -o is a directory and each path lands in it under its own name.
    const asItself = single !== undefined && !(await isDir(out));
    if (!asItself) {
      await mkdir(out, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' || err.code === 'ENOTDIR' ? new UsageError(`--output ${out}: not a directory (several paths need one)`) : err;
      });
    }
    for (const t of targets) {
      const r = restorerFor(t.setId);
      try {
        if (asItself) {
          await mkdir(path.dirname(out), { recursive: true });
          await r.restore(new SafeRoot(path.dirname(out)), [Buffer.from(path.basename(out))], t.found);
        } else {
          await r.restore(new SafeRoot(out), t.found.name.length ? [t.found.name] : [], t.found);
        }
      } finally {
        await r.close();
      }
      failed += r.stats.failed;
      log.info(`${t.arg}: ${r.stats.files} files, ${r.stats.dirs} dirs, ${r.stats.bytes} bytes restored`);
    }
    return failed === 0 ? cli.EXIT_OK : Math.min(failed, 125);
  } finally {
    await conn.session.close();
  }
});
