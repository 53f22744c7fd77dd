// Dropping root after the listening sockets are bound: --user/--group (Tardis' User/Group).
import { execFileSync } from 'node:child_process';
import { UsageError } from '../errors/errors.ts';

export interface Ids {
  uid: number;
  gid: number;
  /** Supplementary groups: the user's own (as `id -G` lists them), always including gid. */
  groups: number[];
  user: string;
}

/** `id`/`getent` ask the system's NSS (LDAP, sssd), which Node cannot do on its own. */
function lookup(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The numeric ids that --user/--group name; the group defaults to the user's primary group. */
export function resolveIds(user: string, group: string | null): Ids {
  const uidText = /^\d+$/.test(user) ? user : lookup('id', ['-u', '--', user]);
  if (uidText === null) throw new UsageError(`--user: no such user '${user}'`);
  let gid: number;
  if (group !== null) {
    const entry = /^\d+$/.test(group) ? group : lookup('getent', ['group', group])?.split(':')[2];
    if (entry === undefined || entry === null || !/^\d+$/.test(entry)) throw new UsageError(`--group: no such group '${group}'`);
    gid = Number(entry);
  } else {
    const g = lookup('id', ['-g', '--', user]);
    if (g === null) throw new UsageError(`--user: cannot find the primary group of '${user}'; give --group`);
    gid = Number(g);
  }
  const own = /^\d+$/.test(user) ? null : lookup('id', ['-G', '--', user]);
  const groups = [...new Set([gid, ...(own ?? '').split(/\s+/).filter((g) => /^\d+$/.test(g)).map(Number)])];
  return { uid: Number(uidText), gid, groups, user };
}

/**
 * Becomes `ids` for good: supplementary groups, then the group, then the user (the order in
 * which each step is still allowed), and checks that root cannot be taken back.
 */
export function dropPrivileges(ids: Ids): void {
  if (process.getuid!() !== 0) {
    if (process.getuid!() === ids.uid && process.getgid!() === ids.gid) return;
    throw new UsageError(`--user/--group need tardisd to start as root (it runs as uid ${process.getuid!()})`);
  }
  try {
    process.setgroups!(ids.groups);
    process.setgid!(ids.gid);
    process.setuid!(ids.uid);
  } catch (err) {
    throw new UsageError(`cannot switch to user ${ids.user} (uid ${ids.uid}, gid ${ids.gid}): ${(err as Error).message}`);
  }
  if (ids.uid !== 0) {
    let regained = false;
    try {
      process.setuid!(0);
      regained = true;
    } catch {
      // expected
    }
    if (regained) throw new UsageError('dropping root privileges failed: setuid(0) still works');
  }
}
