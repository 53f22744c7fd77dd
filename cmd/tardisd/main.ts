// tardisd: the backup server. Many clients, one repository each under the base directory.
import { cac } from 'cac';
import { setFlagsFromString } from 'node:v8';
import * as cli from '../../internal/cli/common.ts';
import { makeCertificate } from '../../internal/daemon/cert.ts';
import { resolveSettings } from '../../internal/daemon/config.ts';
import { runTardisd } from '../../internal/daemon/daemon.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import { RepositoryHost } from '../../internal/remote/host.ts';
import { VERSION } from '../../internal/version/version.ts';

// A server runs for weeks, often on a small machine: V8's optimize-for-size keeps the heap near
// what is live instead of letting garbage (mostly received chunk buffers) pile up. Measured on
// a 214 MiB initial backup: peak RSS 250 -> 168 MiB, server CPU about +30 % (the client's work
// dominates a backup). Runtimes without V8 flags (Bun) go without.
try {
  setFlagsFromString('--optimize-for-size');
} catch {
  // not V8
}

const prog = cac('tardisd');
prog
  .option('--config <file>', 'Read settings from the [Daemon] section of FILE ([Tardis] as defaults) [$TARDIS_DAEMON_CONFIG]')
  .option('--port <port>', 'TCP port to listen on (0: any free port) [$TARDIS_PORT]')
  .option('--address <addr>', 'Listen on this address only (repeatable; default: every interface, IPv6 and IPv4)')
  .option('--basedir <dir>', 'Directory holding one repository per client [$TARDIS_DB, else /srv/tardis]')
  .option('--allow-new-hosts', 'Let clients create their repository (tardis --create)')
  .option('--require-password', 'Refuse repositories without a password')
  .option('--local <path>', 'Listen on a Unix socket at PATH instead of TCP')
  .option('--stdio', 'Serve one session on stdin/stdout (what ssh:// URLs run), then exit')
  .option('--single', 'Serve one connection, then exit')
  .option('--timeout <duration>', 'Drop a connection idle this long (e.g. 300, 5m) [$TARDIS_TIMEOUT]')
  .option('--grace <duration>', 'On SIGTERM, let open sessions run this long before aborting them (default 30s)')
  .option('--ssl', 'TLS on every connection (needs --certfile and --keyfile)')
  .option('--certfile <file>', 'TLS certificate (PEM)')
  .option('--keyfile <file>', 'TLS private key (PEM)')
  .option('--make-cert <dir>', 'Write a self-signed certificate and key for --ssl into DIR (for this host\'s name, localhost and each --address), then exit')
  .option('--user <user>', 'Run as USER once listening (tardisd must start as root)')
  .option('--group <group>', 'Run as GROUP once listening (default: the primary group of --user)')
  .option('--umask <mask>', 'Umask for repository files and the Unix socket (default 027)')
  .option('-l, --logfile <file>', 'Log to FILE (reopened on SIGHUP) instead of stderr')
  .option('--timestamps', 'Put the time on log lines on stderr (always on in a log file)')
  .option('--pidfile <file>', 'Write the process id to FILE')
  .option('-v, --verbose', 'Log more: connections (-v), settings (-vv), protocol detail (-vvv)')
  .usage('[options]\n\nThe Tardis backup server. Each client backs up into its own repository, BASEDIR/CLIENT,\n' +
    'reached as tardis://HOST[:PORT]/CLIENT (TCP, default port 7420), unix:PATH/CLIENT (--local) or\n' +
    'ssh://HOST/CLIENT (--stdio). Runs in the foreground and logs to stderr; SIGTERM or SIGINT stop it\n' +
    '(open sessions get --grace to finish), SIGHUP reopens the log file. Settings: command line, then\n' +
    'the config file, then the defaults (packaging/tardisd.conf lists every key).');
cli.help(prog);
prog.version(VERSION, '-V, --version');

cli.runMain('tardisd', async () => {
  const args = cli.argv();
  const { args: rest, options: o } = prog.parse(['node', 'tardisd', ...args], { run: false });
  cli.checkOptions(prog);
  if (o.help || o.version) return cli.EXIT_OK;
  if (rest.length) throw new UsageError(`unexpected argument '${String(rest[0])}' (see --help)`);
  if (o.makeCert !== undefined) {
    const c = await makeCertificate(String(o.makeCert), cli.list(o.address));
    process.stdout.write(`wrote ${c.certFile} and ${c.keyFile}\nnames: ${c.names.join(', ')}\nvalid until: ${c.validTo}\nSHA-256 fingerprint: ${c.fingerprint}\n`);
    return cli.EXIT_OK;
  }
  const settings = resolveSettings({ ...o, rawArgs: args });
  const code = await runTardisd(settings, (opts) => new RepositoryHost(opts));
  // Sessions that were aborted may leave handles (a database, a half-closed socket) behind;
  // a stopped server must not linger because of them.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
});
