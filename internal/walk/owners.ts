// uid/gid <-> name from /etc/passwd and /etc/group, parsed once. Only the files database
// is consulted (no NSS, no native code): ids without an entry stay numeric.

import { readFileSync } from 'node:fs';

interface IdDb {
  byId: Map<number, string>;
  byName: Map<string, number>;
}

/** Parses `name:password:id:...` lines; the first line for an id or a name wins, as in getpwuid. */
export function parseIdFile(text: string): IdDb {
  const db: IdDb = { byId: new Map(), byName: new Map() };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2])) continue;
    const id = Number(f[2]);
    if (!db.byId.has(id)) db.byId.set(id, f[0]);
    if (!db.byName.has(f[0])) db.byName.set(f[0], id);
  }
  return db;
}

let files = { passwd: '/etc/passwd', group: '/etc/group' };
let users: IdDb | null = null;
let groups: IdDb | null = null;

function load(path: string): IdDb {
  try {
    return parseIdFile(readFileSync(path, 'utf8'));
  } catch {
    return parseIdFile(''); // no file: every id stays numeric
  }
}

function userDb(): IdDb {
  return (users ??= load(files.passwd));
}

function groupDb(): IdDb {
  return (groups ??= load(files.group));
}

export function userName(uid: number): string | null {
  return userDb().byId.get(uid) ?? null;
}

export function groupName(gid: number): string | null {
  return groupDb().byId.get(gid) ?? null;
}

export function userId(name: string): number | null {
  return userDb().byName.get(name) ?? null;
}

export function groupId(name: string): number | null {
  return groupDb().byName.get(name) ?? null;
}

/** Drops the cache (and optionally points at other files) so the next lookup re-reads. */
export function resetOwners(paths?: { passwd?: string; group?: string }): void {
  files = { passwd: paths?.passwd ?? '/etc/passwd', group: paths?.group ?? '/etc/group' };
  users = null;
  groups = null;
}
