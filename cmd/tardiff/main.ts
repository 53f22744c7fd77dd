// tardiff: diff a backed-up version against the live file or against another set.
import path from 'node:path';
import { cac } from 'cac';
import * as cli from '../../internal/cli/common.ts';
import { openRepository } from '../../internal/connect/connect.ts';
import { TardisError, UsageError } from '../../internal/errors/errors.ts';
import { FsSide, SetSide, TreeDiff, type DiffFormat } from '../../internal/inspect/index.ts';
import { selectSet } from '../../internal/restore/index.ts';
import { colorWanted, Logger } from '../../internal/ui/index.ts';
import { VERSION } from '../../internal/version/version.ts';

/** diff's exit status for trouble (1 means "they differ"). */
const EXIT_TROUBLE = 2;

const prog = cac('tardiff');
cli.repositoryOptions(prog);
prog
  .option('-b, --backup <set>', 'The set to compare (id, name, tag, Current or a date; default Current); given twice, compare the two sets')
  .option('-u, --unified [n]', 'Unified diff with N lines of context (default format; N default 3)')
  .option('-c, --context [n]', 'Context diff with N lines of context (bare: 5)')
  .option('-n, --ndiff', 'ndiff: every line, with guides under changed characters')
  .option('--color', 'Colour the diff (default: on a terminal unless NO_COLOR is set; --no-color)')
  .option('--reduce-path [n]', 'Strip N leading path components in the sets (bare: until the rest exists in the set)')
  .option('-B, --binary', 'Diff binary files as text instead of only saying that they differ')
  .option('-r, --recurse', 'Compare subdirectories too (the files of a directory given are always compared)')
  .option('-l, --list', 'Only list the paths that differ')
  .option('-v, --verbose', 'More output')
  .usage('[options] PATH...\n\nCompare PATH as backed up in a set with the file on this machine, or (-b A -b B) as two sets hold it.\n' +
    'Exit status: 0 no differences; 1 differences; 2 trouble (bad option, unknown set, a PATH missing, unreadable data).');
cli.help(prog);
prog.version(VERSION, '-V, --version');

async function main(log: Logger): Promise<number> {
  const { args, options: o } = cli.parse(prog, 'tardiff', { optionalNumbers: ['-u', '--unified', '-c', '--context', '--reduce-path'] });
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  const settings = cli.loadSettings(o);
  log.verbosity = settings.values.verbosity;
  cli.noteIgnored(settings, log);
  if (args.length === 0) throw new UsageError('nothing to compare: give one or more paths (see --help)');
  const styles = ['unified', 'context', 'ndiff'].filter((k) => o[k] !== undefined && o[k] !== false);
  if (styles.length > 1) throw new UsageError(`--${styles.join(', --')} are mutually exclusive`);
  const format = (styles[0] ?? 'unified') as DiffFormat;
  const lines = (v: unknown, name: string, bare: number) => (v === undefined || v === true ? bare : cli.intOption(v, name, bare));
  const context = format === 'context' ? lines(o.context, 'context', 5) : lines(o.unified, 'unified', 3);
  const reduce = o.reducePath === undefined ? 0 : o.reducePath === true ? -1 : cli.intOption(o.reducePath, 'reduce-path', 0);
  const wanted = cli.list(o.backup);
  if (wanted.length > 2) throw new UsageError(`-b/--backup given ${wanted.length} times: one set (against the files here) or two`);

  const conn = await openRepository(cli.repositoryUrl(settings), cli.passwordSource(o, settings), cli.connectOptions(settings));
  try {
    const { session, keyring } = conn;
    const all = await session.listSets();
    const sets = (wanted.length ? wanted : [undefined]).map((b) => selectSet(all, keyring, { backup: b }));
    const a = new SetSide(session, keyring, sets[0]!, reduce);
    const b = sets[1] ? new SetSide(session, keyring, sets[1], reduce) : new FsSide(keyring);
    const diff = new TreeDiff(a, b, {
      format, context, recurse: o.recurse, list: o.list, binary: o.binary,
      color: colorWanted(o.color === undefined ? undefined : o.color !== false),
    }, {
      line: (l) => process.stdout.write(l + '\n'),
      problem: (m) => log.error(m),
      detail: (m) => log.info(m),
    });
    for (const arg of args.map(String)) await diff.compare(Buffer.from(path.resolve(arg)));
    return diff.troubles ? EXIT_TROUBLE : diff.differences ? 1 : cli.EXIT_OK;
  } finally {
    await conn.session.close();
  }
}

cli.runMain('tardiff', async (log) => {
  try {
    return await main(log);
  } catch (err) {
    // As diff: trouble is 2, whatever its kind (1 says the files differ); 255 (no password) stays.
    if (err instanceof TardisError) {
      if (err.exitCode === cli.EXIT_FAIL) err.exitCode = EXIT_TROUBLE;
      throw err;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    if (e.stack) log.debug(e.stack);
    const usage = /^Unknown option|missing required|Unused args/i.test(e.message);
    throw Object.assign(new TardisError(usage ? `${e.message} (see --help)` : `unexpected error: ${e.message}`), { exitCode: EXIT_TROUBLE });
  }
});
