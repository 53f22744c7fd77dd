// Test helpers for the remote package: an in-process host on a Unix socket, a fixture tree,
// backup and restore through the engine as the commands run them.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runBackup } from '../backup/index.ts';
import type { Connection } from '../connect/connect.ts';
import { SafeRoot } from '../fsutil/index.ts';
import { lookupPath, Restorer } from '../restore/index.ts';
import { seededBytes, write } from '../testkit/fixtures.ts';
import { tempDir } from '../testkit/testkit.ts';
import { serveConnection, type HostOptions } from './host.ts';

export const PW = 'correct horse battery staple';
export const SMALL_CHUNKS = { min: 8192, avg: 16384, max: 65536 };

export interface TestHost {
  dir: string;
  basedir: string;
  socket: string;
  url: (client: string) => string;
  logs: string[];
  /** Connections being served now. */
  active: () => number;
  /** Stops listening and ends every connection (as on SIGTERM). */
  stop: () => Promise<void>;
  /** Cuts every connection at the socket, as a crash or a network failure would. */
  drop: () => void;
}

export async function startHost(t: TestContext, opts: Partial<HostOptions> = {}): Promise<TestHost> {
  const { dir, cleanup } = tempDir('tardis-remote-');
  const basedir = path.join(dir, 'base');
  fs.mkdirSync(basedir);
  const socket = path.join(dir, 'tardisd.sock');
  const logs: string[] = [];
  const line = (level: string) => (m: string) => logs.push(`${level}: ${m}`);
  const abort = new AbortController();
  const served = new Set<Promise<void>>();
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const p = serveConnection(sock, {
      basedir, allowNewHosts: true, authFailDelayMs: 0, peer: 'unix', signal: abort.signal,
      log: { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') },
      ...opts,
    });
    served.add(p);
    void p.then(() => served.delete(p));
  });
  await new Promise<void>((r) => srv.listen(socket, r));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    abort.abort();
    await new Promise((r) => srv.close(r));
    await Promise.all([...served]);
    for (const s of sockets) s.destroy();
  };
  t.after(async () => {
    await stop();
    cleanup();
  });
  const drop = () => {
    for (const s of sockets) s.destroy();
  };
  return { dir, basedir, socket, url: (c) => `unix:${socket}/${c}`, logs, active: () => served.size, stop, drop };
}

/** A small tree of every common kind: nested dirs, files of several chunks, empty, symlinks, a hard link. */
export function makeTree(root: string): void {
  write(path.join(root, 'big.bin'), seededBytes(400_000, 'big'));
  write(path.join(root, 'empty'), '');
  write(path.join(root, 'docs/readme.txt'), 'hello over the wire\n'.repeat(100));
  for (let i = 0; i < 30; i++) write(path.join(root, `docs/many/f${i}`), seededBytes(100 + i * 997, `f${i}`));
  write(path.join(root, 'deep/a/b/c/d/leaf'), 'leaf');
  fs.symlinkSync('../big.bin', path.join(root, 'docs/link'));
  fs.linkSync(path.join(root, 'docs/readme.txt'), path.join(root, 'docs/hardlink.txt'));
  fs.chmodSync(path.join(root, 'deep/a'), 0o750);
}

/** Backs up `src` (as "src" at the top of the set). */
export function backupTree(conn: Connection, src: string, opts: { full?: boolean; force?: boolean } = {}) {
  return runBackup(conn.session, conn.keyring, { roots: [src], basePath: 'none', ...opts });
}

/** Restores "src" of set `setId` into `out/src`; returns the restorer's stats. */
export async function restoreTree(conn: Connection, setId: number, out: string) {
  fs.mkdirSync(out, { recursive: true });
  const found = await lookupPath(conn.session, conn.keyring, setId, [Buffer.from('src')]);
  if (!found) throw new Error('src not found in the set');
  const r = new Restorer(conn.session, conn.keyring, { setId, recurse: true, setTimes: true, setPerms: true, setOwners: false, hardlinks: true });
  await r.restore(new SafeRoot(out), [Buffer.from('src')], found);
  return r.stats;
}

/** Every path under `dir` with its size and mtime: what "nothing written" is checked against. */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
