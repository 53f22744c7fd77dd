// The backup lock: one writing session per repository. A lock left by a process that died on
// this host is taken over; `force` takes over any lock.
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError } from '../errors/errors.ts';

interface LockInfo {
  pid: number;
  host: string;
  session: string;
  time: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class BackupLock {
  private readonly path: string;
  private readonly session: string;

  private constructor(path: string, session: string) {
    this.path = path;
    this.session = session;
  }

  static async acquire(root: string, session: string, force = false): Promise<BackupLock> {
    const dir = join(root, 'locks');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'backup');
    const info: LockInfo = { pid: process.pid, host: hostname(), session, time: Date.now() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o644);
        await fh.writeFile(JSON.stringify(info));
        await fh.sync();
        await fh.close();
        return new BackupLock(path, session);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let held: LockInfo | null = null;
      try {
        held = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
      } catch {
        held = null; // unreadable or half-written: a crashed writer
      }
      const stale = !held || (held.host === info.host && !alive(held.pid));
      if (!stale && !force) {
        throw new LockedError(
          `repository is in use by another backup (pid ${held!.pid} on ${held!.host} since ${new Date(held!.time).toISOString()}); use --force if that is wrong`,
        );
      }
      await rm(path, { force: true });
    }
    throw new LockedError('could not take the repository lock');
  }

  async release(): Promise<void> {
    try {
      const held = JSON.parse(await readFile(this.path, 'utf8')) as LockInfo;
      if (held.session !== this.session) return; // taken over with --force
    } catch {
      return;
    }
    await rm(this.path, { force: true });
  }
}
