// For the ssh:// tests when bin/tardisd is not built: a fake `ssh` runs this in place of
// `tardisd --stdio` on a server; it serves one connection on stdin/stdout for $TARDIS_TEST_BASEDIR.
import { Duplex } from 'node:stream';
import { serveConnection } from '../host.ts';

const stdio: Duplex = Duplex.from({ readable: process.stdin, writable: process.stdout } as unknown as Iterable<never>);
await serveConnection(stdio, { basedir: process.env.TARDIS_TEST_BASEDIR!, allowNewHosts: true, peer: 'stdio', authFailDelayMs: 0 });
process.exit(0);
