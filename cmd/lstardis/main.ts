// lstardis: list files across backup sets: which sets hold which versions of each.
import path from 'node:path';
import { cac } from 'cac';
import * as cli from '../../internal/cli/common.ts';
import { openRepository } from '../../internal/connect/connect.ts';
import { NotFoundError, UsageError } from '../../internal/errors/errors.ts';
import type { Keyring } from '../../internal/keyring/keyring.ts';
import type { SetInfo } from '../../internal/model/session.ts';
import { dateRange, DEFAULT_LS_COLORS, Lister, setRange, type ListedPath } from '../../internal/inspect/index.ts';
import { components, realpathLoose, selectSet } from '../../internal/restore/index.ts';
import { colorWanted, formatTime, Logger, paint, parseColorTable } from '../../internal/ui/index.ts';
import { VERSION } from '../../internal/version/version.ts';

const prog = cac('lstardis');
cli.repositoryOptions(prog);
prog
  .option('-l, --long', 'One ls -l row per version: mode, links, owner, group, size, mtime, set')
  .option('-a, --hidden', 'Show names starting with a dot')
  .option('-r, --reverse', 'Reverse the sort order')
  .option('-f, --annotate', 'Mark names: / directory, @ symlink, * executable')
  .option('-s, --size', 'Show sizes')
  .option('-D, --dsize', 'Show how many chunks of each file version are new since the version before (Tardis: its delta size)')
  .option('-H, --human', 'Sizes in KiB, MiB, GiB')
  .option('-d, --dirinfo', 'List directories themselves, not what is in them')
  .option('-c, --checksums', 'Show content checksums (keyed hashes)')
  .option('-L, --chainlen', 'Show the number of chunks of each file version (Tardis: its delta chain length; versions here are never chains)')
  .option('-i, --inode', 'Show inode numbers')
  .option('-V, --versions <which>', 'Versions to show: change (default: where the entry changed), all, last or none')
  .option('--deletions', 'Show the sets where an entry vanished, in parentheses (default; --no-deletions hides them)')
  .option('--broken', 'Show versions whose content could not be read at backup time (default; --no-broken hides them)')
  .option('-O, --oneline', 'Versions on the same line as the name')
  .option('-T, --times', 'Count a changed modification or change time as a new version')
  .option('-M, --metadata', 'Count any changed metadata (times, mode, owner, group) as a new version')
  .option('--headers', 'Show the header lines (default; --no-headers)')
  .option('--colors', 'Colour versions by status (default: on a terminal unless NO_COLOR is set; --no-colors); styles from $TARDIS_LS_COLORS')
  .option('--columns <n>', 'Columns for version and name lists (default: the terminal\'s width; 1 when not a terminal)')
  .option('--recurse', 'List subdirectories too, recursively')
  .option('--maxdepth <n>', 'Recurse at most N levels of subdirectories (implies --recurse)')
  .option('--glob', 'Expand * ? [...] in PATH against the names in the backups')
  .option('--reduce-path, --reduce [n]', 'Strip N leading path components (bare: until the rest exists in the set)')
  .option('--realpath', 'Resolve symlinks in PATH on this machine (default; --no-realpath)')
  .option('--range <start:end>', 'Only the sets from START to END: ids, names, tags, Current or dates (either may be left out; START..END also works)')
  .option('--dates <start:end>', 'Only the sets started from START to END: dates such as 2026-03-15, "2026-03-15 14:00", "3 days ago" (either may be left out)')
  .option('-b, --backup <set>', 'Only this set: id, name, tag, Current or a date')
  .option('--json', 'JSON output')
  .option('-v, --verbose', 'More output')
  .usage('[options] [PATH...]\n\nShow the versions of PATH (default: the current directory) in each backup set, and for a\n' +
    'directory the versions of everything it held. A version is listed where the entry is new, changed,\n' +
    'moved (a new inode, the same content), (gone) or broken (unreadable when backed up); colours tell which.\n' +
    'Exit status: 0 success; 1 failure (bad option, range or date); 2 an unknown set, or a PATH in none of the sets.');
cli.help(prog);
prog.version(VERSION, '--version'); // -V is --versions, as in Tardis

const out = (l: string) => process.stdout.write(l + '\n');

/** The sets to show: --backup, --range or --dates, else every completed set. */
function chosenSets(o: Record<string, unknown>, sets: SetInfo[], keyring: Keyring): { sets: SetInfo[]; note: string } {
  const given = ['backup', 'range', 'dates'].filter((k) => o[k] !== undefined);
  if (given.length > 1) throw new UsageError(`--${given.join(', --')} are mutually exclusive`);
  if (o.backup !== undefined) return { sets: [selectSet(sets, keyring, { backup: String(o.backup) })], note: '' };
  if (o.range !== undefined) return { sets: setRange(sets, keyring, String(o.range)), note: '' };
  if (o.dates !== undefined) {
    const r = dateRange(sets, String(o.dates));
    const t = (ms: number) => (Number.isFinite(ms) ? formatTime(ms) : '…');
    return { sets: r.sets, note: `Sets started ${t(r.start)} to ${t(r.end)}` };
  }
  return { sets: sets.filter((s) => s.completed), note: '' };
}

cli.runMain('lstardis', async () => {
  const { args, options: o } = cli.parse(prog, 'lstardis', { optionalNumbers: ['--reduce-path', '--reduce'] });
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  const settings = cli.loadSettings(o);
  const log = new Logger({ verbosity: settings.values.verbosity });
  cli.noteIgnored(settings, log);
  const versions = cli.oneOf(o.versions, 'versions', ['change', 'all', 'last', 'none'] as const, 'change');
  const columns = o.columns === undefined ? undefined : cli.intOption(o.columns, 'columns', 0) || undefined;
  const reduce = o.reducePath === undefined ? 0 : o.reducePath === true ? -1 : cli.intOption(o.reducePath, 'reduce-path', 0);
  const recurse = o.maxdepth !== undefined ? cli.intOption(o.maxdepth, 'maxdepth', 0) : o.recurse ? Infinity : 0;
  const color = colorWanted(o.colors === undefined ? undefined : o.colors !== false);
  const colors = color
    ? parseColorTable(process.env.TARDIS_LS_COLORS ?? '', parseColorTable(DEFAULT_LS_COLORS, {}), (e, why) => log.warn(`TARDIS_LS_COLORS: ${e}: ${why}`))
    : null;

  const url = cli.repositoryUrl(settings);
  const conn = await openRepository(url, cli.passwordSource(o, settings), cli.connectOptions(settings));
  try {
    const { session, keyring } = conn;
    const chosen = chosenSets(o, await session.listSets(), keyring);
    if (chosen.sets.length === 0) throw new NotFoundError('no completed backup set to list (see --range, --dates)');
    const lister = new Lister(session, keyring, chosen.sets, {
      long: o.long, hidden: o.hidden, reverse: o.reverse, annotate: o.annotate, size: o.size, dsize: o.dsize, human: o.human,
      dirinfo: o.dirinfo, checksums: o.checksums, chainlen: o.chainlen, inode: o.inode, versions,
      deletions: o.deletions !== false, broken: o.broken !== false, oneline: o.oneline, times: o.times, metadata: o.metadata,
      headers: o.headers !== false, colors, columns, width: process.stdout.isTTY ? process.stdout.columns : undefined, recurse, reduce,
    }, o.json ? null : out);
    const headers = o.headers !== false && !o.json;
    if (headers) {
      const info = await session.info();
      out(colors ? paint(`Client: ${info.client}    Repository: ${url}`, colors.name) : `Client: ${info.client}    Repository: ${url}`);
      if (chosen.note) out(colors ? paint(chosen.note, colors.header) : chosen.note);
    }
    const listed: ListedPath[] = [];
    const missing = (p: string) => log.error(`${p}: not found in ${chosen.sets.length === 1 ? `set ${chosen.sets[0]!.name}` : 'any of the sets listed'}`);
    for (const arg of args.length ? args.map(String) : ['.']) {
      // A pattern is matched in the backups, not on this machine.
      const abs = o.glob ? path.resolve(arg) : o.realpath === false ? path.resolve(arg) : realpathLoose(arg);
      const paths = o.glob ? await lister.expand(abs) : [abs];
      if (paths.length === 0) {
        lister.notFound++;
        log.error(`${arg}: no match in the sets listed`);
        listed.push({ path: abs, found: false });
      }
      for (const p of paths) {
        if (listed.length && !o.json) out('');
        listed.push(await lister.list(p, components(p), missing));
      }
    }
    if (o.json) {
      const info = await session.info();
      out(JSON.stringify({ client: info.client, sets: chosen.sets.map((s) => ({ id: s.id, name: s.name, startTime: s.startTime })), paths: listed }));
    }
    return lister.notFound ? cli.EXIT_NOT_FOUND : cli.EXIT_OK;
  } finally {
    await conn.session.close();
  }
});
