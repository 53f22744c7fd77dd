// sonic: repository administration: create, list, info, tag, lock, unlock, priority, rename,
// delete, purge, orphans.
import { cac } from 'cac';
import * as cli from '../../internal/cli/common.ts';
import { formatBytes, formatDuration } from '../../internal/config/index.ts';
import { getPassword } from '../../internal/config/password.ts';
import { createRepository, openRepository, upgradeRepository } from '../../internal/connect/connect.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import type { Keyring } from '../../internal/keyring/keyring.ts';
import type { SetInfo } from '../../internal/model/session.ts';
import { parseDate, selectSet } from '../../internal/restore/index.ts';
import { Logger, renderTable } from '../../internal/ui/index.ts';
import { formatTime } from '../../internal/ui/format.ts';
import { VERSION } from '../../internal/version/version.ts';
import { deleteCommand, orphans, purgeCommand } from './maintenance.ts';
import { setCommand } from './sets.ts';
import { checkCommand } from './check.ts';
import { rebuildCommand } from './rebuild.ts';
import { chpass, keysCommand, setpass } from './keys.ts';
import { getconfig, setconfig } from './settings.ts';
import { filesCommand } from './files.ts';

const prog = cac('sonic');
const out = (l: string) => process.stdout.write(l + '\n');

cli.repositoryOptions(prog.command('create', 'Create a new repository (file: only)'))
  .option('--no-password', 'Create a repository without a password (NOT protected)')
  .option('--cipher <alg>', 'chacha20-poly1305 (default) or aes-256-gcm')
  .option('-Z, --compress-data <alg>', 'Default compression: zstd (default), gzip or none');
cli.repositoryOptions(prog.command('list', 'List the backup sets'))
  .option('-l, --long', 'More columns')
  .option('--minpriority <n>', 'Only sets of at least this priority')
  .option('--first <n>', 'Only the oldest N sets (after the other filters)')
  .option('--last <n>', 'Only the newest N sets (after the other filters)')
  .option('--before <date>', 'Only sets started before DATE')
  .option('--after <date>', 'Only sets started after DATE')
  .option('--json', 'JSON output');
cli.repositoryOptions(prog.command('info', 'Details of one set (-b) or of every set'))
  .option('-b, --backup <set>', 'Set by id, name, tag or Current')
  .option('--json', 'JSON output');
/** The options every command that deletes sets shares. */
const deleting = <T extends { option: (n: string, d: string) => T }>(c: T, what: string): T =>
  c.option('--no-confirm', 'Do not ask (needed without a terminal)')
    .option('--dry-run', `Only show what would be ${what}`)
    .option('--repack-below <pct>', 'Rewrite packs less than PCT% used (default 50)');
deleting(cli.repositoryOptions(prog.command('delete [...sets]', 'Delete sets (id, name, tag, date or id range A-B), then their unused data'))
  .option('--no-purge', 'Keep the data until the next `sonic orphans`'), 'deleted');
deleting(cli.repositoryOptions(prog.command('purge', 'Delete sets of priority <= N older than the reference set (-b/-d, default Current), never locked ones'))
  .option('-p, --priority <n>', 'Highest priority purged (default 0)')
  .option('--incomplete', 'Only incomplete sets')
  .option('-b, --backup <set>', 'Reference set (default Current)')
  .option('-d, --date <date>', 'Reference: the newest set at or before DATE'), 'purged');
cli.repositoryOptions(prog.command('orphans', 'Remove data no set needs and rewrite mostly unused packs, returning the space'))
  .option('--repack-below <pct>', 'Rewrite packs less than PCT% used (default 50)')
  .option('--json', 'JSON output');
cli.repositoryOptions(prog.command('check', 'Check the repository: structure and catalog against packs; what is damaged and which files and sets it affects (exit 1)'))
  .option('--read-data', 'Also read every chunk back and verify it (decrypt, check its id)')
  .option('--read-data-subset <subset>', 'Read back only packs of group N of M (N/M) or about N% of them (N%)')
  .option('--json', 'JSON output');
cli.repositoryOptions(prog.command('rebuild', 'Recreate the catalog from the packs and set snapshots (file: only; the old one is kept as catalog.db.old)'))
  .option('--force', 'Replace a catalog that is not damaged')
  .option('--json', 'JSON output');
const SET_HELP = '(-b/-d, default Current)';
const chosen = <T extends { option: (n: string, d: string) => T }>(c: T): T =>
  c.option('-b, --backup <set>', 'The set: id, name, tag or Current').option('-d, --date <date>', 'The newest set at or before DATE');
chosen(cli.repositoryOptions(prog.command('tag', `Add (or with -r remove) tags of a set ${SET_HELP}`)))
  .option('-t, --tag <tag>', 'The tag (repeatable)')
  .option('-r, --remove', 'Remove the tags instead')
  .option('-m, --move', 'Move a tag that names another set');
chosen(cli.repositoryOptions(prog.command('lock', `Protect a set from purge ${SET_HELP}`)));
chosen(cli.repositoryOptions(prog.command('unlock', `Let purge delete a set again ${SET_HELP}`)));
chosen(cli.repositoryOptions(prog.command('priority', `Change a set's priority ${SET_HELP}`)))
  .option('-p, --priority <n>', 'The new priority');
chosen(cli.repositoryOptions(prog.command('rename', `Rename a set ${SET_HELP}`)))
  .option('-n, --name <name>', 'The new name');
chosen(cli.repositoryOptions(prog.command('files', `Files a set added or changed, by directory ${SET_HELP}`)))
  .option('-l, --long', 'Mode, links, owner, group, size and time')
  .option('-f, --fullpath', 'One full path per line instead of grouping by directory')
  .option('--previous', 'Also what the set before had and this one no longer has (status deleted)')
  .option('--dirs', 'Directories too')
  .option('-S, --status', 'Show new, changed or deleted')
  .option('-H, --human', 'Sizes as KiB, MiB…')
  .option('-s, --size', 'Show sizes')
  .option('-c, --checksums', 'Show content hashes (keyed: they match only within this repository)')
  .option('-L, --links', 'Show link counts')
  .option('-i, --inode', 'Show inode numbers')
  .option('-t, --type', 'Show the entry type')
  .option('--json', 'JSON output');
cli.repositoryOptions(prog.command('upgrade', 'Upgrade the catalog to this version\'s schema (file: only; keeps a copy of the old catalog)'));
const newPassword = <T extends { option: (n: string, d: string) => T }>(c: T): T =>
  c.option('--newpassword [password]', 'The new password (without a value: ask on the terminal)')
    .option('--newpassword-file <file>', 'Read the new password from the first line of FILE')
    .option('--newpassword-prog <command>', 'Run COMMAND and use the first line it prints as the new password');
newPassword(cli.repositoryOptions(prog.command('setpass', 'Give a repository created without a password one (same keys, now password-wrapped)')));
newPassword(cli.repositoryOptions(prog.command('chpass', 'Change the password: re-wraps the keys (no data is re-encrypted); the old one stops working')));
cli.repositoryOptions(prog.command('keys', 'Copy the key slots to the key file given with --keys (--extract) or back (--insert)'))
  .option('--extract', 'Repository → key file')
  .option('--insert', 'Key file → repository')
  .option('--delete', 'Move instead of copy: remove the source copy');
cli.repositoryOptions(prog.command('getconfig', 'Show the policy in effect: Formats, Priorities, KeepDays, ForceFull, AutoPurge, Disabled'))
  .option('-k, --key <key>', 'Only this key (repeatable)')
  .option('--json', 'JSON output');
cli.repositoryOptions(prog.command('setconfig [...settings]', 'Override policy keys for this repository: --key K --value V, or KEY=VALUE'))
  .option('-k, --key <key>', 'The key (repeatable, paired with --value in order)')
  .option('--value <value>', 'Its value (comma-separated lists for Formats, Priorities, KeepDays, ForceFull)')
  .option('--unset <key>', 'Drop the override: the configured value applies again (repeatable)')
  .option('--json', 'JSON output');
prog.option('-v, --verbose', 'More output (repeatable)');
cli.help(prog);
prog.version(VERSION, '-V, --version');
prog.usage('COMMAND [options]\n\nExit status: 0 success; 1 failure; 2 unknown set.');

/** list's --minpriority, --before/--after, then --first/--last. */
function filterSets(sets: SetInfo[], o: Record<string, unknown>): SetInfo[] {
  if (o.first !== undefined && o.last !== undefined) throw new UsageError('--first and --last exclude each other');
  const min = o.minpriority === undefined ? null : Number(o.minpriority);
  if (min !== null && !Number.isInteger(min)) throw new UsageError(`--minpriority needs a whole number, not '${String(o.minpriority)}'`);
  const before = o.before === undefined ? null : parseDate(String(o.before));
  const after = o.after === undefined ? null : parseDate(String(o.after));
  let shown = sets.filter((s) => (min === null || s.priority >= min) && (before === null || s.startTime < before) && (after === null || s.startTime > after));
  if (o.first !== undefined) shown = shown.slice(0, cli.intOption(o.first, 'first', 0));
  if (o.last !== undefined) shown = shown.slice(Math.max(0, shown.length - cli.intOption(o.last, 'last', 0)));
  return shown;
}

function setJson(s: SetInfo, k: Keyring) {
  return { ...s, tags: s.tags.map((t) => k.decString(t)) };
}

cli.runMain('sonic', async () => {
  const parsed = cli.parse(prog, 'sonic');
  cli.checkOptions(prog);
  const o = parsed.options;
  if (o.help || o.version) return cli.EXIT_OK;
  const name = prog.matchedCommandName;
  if (!name) throw new UsageError(parsed.args.length ? `unknown command '${parsed.args[0]}' (see sonic --help)` : 'no command given (see sonic --help)');
  const settings = cli.loadSettings(o);
  cli.noteIgnored(settings, new Logger({ verbosity: settings.values.verbosity }));
  const url = cli.repositoryUrl(settings);
  const dial = cli.connectOptions(settings);
  // The key file --extract writes is not there to open the repository with.
  if (name === 'keys' && o.extract) delete dial.keyFile;
  if (name === 'create') {
    const pw = await getPassword(cli.passwordOptions(o, cli.argv()), { confirm: true, ...cli.passwordConfig(settings) });
    const conn = await createRepository(url, pw, {
      ...dial,
      aead: cli.oneOf(o.cipher, 'cipher', ['chacha20-poly1305', 'aes-256-gcm'] as const, 'chacha20-poly1305'),
      compression: cli.oneOf(o.compressData, 'compress-data', ['zstd', 'gzip', 'none'] as const, 'zstd'),
    });
    const info = await conn.session.info();
    await conn.session.close();
    out(`created repository ${info.client} (${info.config.encrypted ? info.config.aead : 'NOT encrypted'}, ${info.config.compression}) at ${url}`);
    return cli.EXIT_OK;
  }
  if (name === 'upgrade') {
    const r = await upgradeRepository(url, cli.passwordSource(o, settings), dial);
    out(r.saved ? `upgraded the catalog from schema ${r.from} to ${r.to}; the old one is kept as ${r.saved}` : `the catalog is at schema ${r.to} already: nothing to do`);
    return cli.EXIT_OK;
  }
  if (name === 'rebuild') {
    const log = new Logger({ verbosity: settings.values.verbosity });
    await rebuildCommand(url, cli.passwordSource(o, settings), dial.keyFile, o, out, (l) => log.info(l));
    return cli.EXIT_OK;
  }
  const conn = await openRepository(url, cli.passwordSource(o, settings), dial);
  try {
    const sets = await conn.session.listSets();
    const k = conn.keyring;
    const completed = sets.filter((s) => s.completed);
    const current = completed[completed.length - 1];
    if (['tag', 'lock', 'unlock', 'priority', 'rename'].includes(name)) {
      await setCommand(name, conn, sets, o, out);
      return cli.EXIT_OK;
    }
    if (name === 'delete') {
      await deleteCommand(conn, sets, parsed.args.map(String), o, out);
      return cli.EXIT_OK;
    }
    if (name === 'purge') {
      await purgeCommand(conn, sets, o, out);
      return cli.EXIT_OK;
    }
    if (name === 'orphans') {
      await orphans(conn, o, out);
      return cli.EXIT_OK;
    }
    if (name === 'check') {
      const log = new Logger({ verbosity: settings.values.verbosity });
      await checkCommand(conn, o, out, (l) => log.info(l));
      return cli.EXIT_OK;
    }
    if (name === 'files') {
      const set = selectSet(sets, k, { backup: o.backup === undefined ? undefined : String(o.backup), date: o.date === undefined ? undefined : String(o.date) });
      await filesCommand(conn, set, o, out);
      return cli.EXIT_OK;
    }
    const keyFile = settings.values.keyFile || undefined;
    const simple: Record<string, () => Promise<void>> = {
      setpass: () => setpass(conn, o, keyFile, out),
      chpass: () => chpass(conn, o, keyFile, out),
      keys: () => keysCommand(conn, o, keyFile, out),
      getconfig: () => getconfig(conn, o, out),
      setconfig: () => setconfig(conn, parsed.args.map(String), o, out),
    };
    if (simple[name]) {
      await simple[name]();
      return cli.EXIT_OK;
    }
    if (name === 'list') {
      const shown = filterSets(sets, o);
      if (o.json) {
        out(JSON.stringify(shown.map((s) => setJson(s, k))));
        return cli.EXIT_OK;
      }
      const rows = shown.map((s) => {
        const notes = [...s.tags.map((t) => k.decString(t)!), ...(s === current ? ['Current'] : []), ...(s.error ? [`error: ${s.error}`] : [])];
        const st = s.stats ?? {};
        const base = [s.name, String(s.id), s.completed ? 'Comp' : 'Incomp', String(s.priority), formatTime(s.startTime),
          s.endTime ? formatDuration(s.endTime - s.startTime) : '', String(st.files ?? ''), formatBytes(st.bytesNew ?? 0), s.locked ? '*' : '', notes.join(' ')];
        return o.long ? [...base, String(st.filesRead ?? ''), formatBytes(st.bytesRead ?? 0)] : base;
      });
      const headers = ['Name', 'Id', 'Status', 'Pri', 'Start', 'Runtime', 'Files', 'New', 'L', 'Notes'];
      out(renderTable(o.long ? [...headers, 'Read', 'Bytes read'] : headers, rows, { align: ['l', 'r', 'l', 'r', 'l', 'r', 'r', 'r', 'l', 'l', 'r', 'r'] }));
      return cli.EXIT_OK;
    }
    // info
    const chosen = o.backup === undefined ? sets : [selectSet(sets, k, { backup: String(o.backup) })];
    if (o.json) {
      const rows = [];
      for (const s of chosen) rows.push({ ...setJson(s, k), purgeable: await conn.session.setUsage(s.id) });
      out(JSON.stringify(rows));
      return cli.EXIT_OK;
    }
    const repo = await conn.session.info();
    out(`Repository: ${repo.client}  (${repo.config.encrypted ? repo.config.aead : 'not encrypted'}, ${repo.config.compression}, chunks ${formatBytes(repo.config.chunker.avg)} avg)`);
    for (const s of chosen) {
      const st = s.stats ?? {};
      out('');
      out(`Set:        ${s.name} (id ${s.id})${s === current ? '  [Current]' : ''}`);
      out(`Status:     ${s.completed ? 'completed' : 'incomplete'}${s.locked ? ', locked' : ''}${s.error ? `, error: ${s.error}` : ''}`);
      out(`Started:    ${formatTime(s.startTime)}${s.endTime ? `, ran ${formatDuration(s.endTime - s.startTime)}` : ''}`);
      out(`Priority:   ${s.priority}, keep ${s.keepDays ? `${s.keepDays} days` : 'forever'}`);
      if (s.tags.length) out(`Tags:       ${s.tags.map((t) => k.decString(t)).join(', ')}`);
      out(`Files:      ${st.files ?? 0} in ${st.dirs ?? 0} dirs, ${st.filesRead ?? 0} read, ${formatBytes(st.bytesRead ?? 0)}`);
      out(`New data:   ${formatBytes(st.bytesNew ?? 0)}, stored as ${formatBytes(st.bytesStored ?? 0)}`);
      const only = await conn.session.setUsage(s.id);
      out(`Purgeable:  ${only.files} file contents (${formatBytes(only.bytes)}) that no other set has`);
    }
    return cli.EXIT_OK;
  } finally {
    await conn.session.close();
  }
});
