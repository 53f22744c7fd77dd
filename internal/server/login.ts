// The login a tardisd checks for a repository: the `auth` file beside it, holding an SRP salt
// and verifier (never the password; see internal/remote/auth.ts for the protocol), or
// {method: 'none'} for a repository without a password. Written at creation and by
// `sonic setpass/chpass`; read at every login.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { TardisError } from '../errors/errors.ts';
import type { AuthSetup, ScryptParams } from '../model/session.ts';

export const SRP_GROUP = 'rfc5054-2048-sha256';
export const AUTH_FILE = 'auth';

/** What the server stores for a client (the `auth` file, JSON with base64 bytes). */
export type AuthRecord =
  | { version: 1; method: 'srp'; group: string; salt: string; verifier: string; kdf: ScryptParams }
  | { version: 1; method: 'none' };

export function authRecord(setup: AuthSetup | null): AuthRecord {
  if (!setup) return { version: 1, method: 'none' };
  return { version: 1, method: 'srp', group: SRP_GROUP, salt: setup.salt.toString('base64'), verifier: setup.verifier.toString('base64'), kdf: setup.kdf };
}

/** Writes the auth file of a repository directory (fsynced, then renamed into place). */
export async function writeAuthRecord(root: string, record: AuthRecord): Promise<void> {
  const target = path.join(root, AUTH_FILE);
  const tmp = path.join(root, `.${AUTH_FILE}.${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(record, null, 1) + '\n');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, target);
  const dir = await open(root, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The auth file of a repository, or null if it has none. */
export async function readAuthRecord(root: string): Promise<AuthRecord | null> {
  let text: string;
  try {
    text = await readFile(path.join(root, AUTH_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TardisError(`cannot read the login of ${path.basename(root)}: ${(err as Error).message}`);
  }
  let r: AuthRecord;
  try {
    r = JSON.parse(text) as AuthRecord;
  } catch {
    throw new TardisError(`the login file of ${path.basename(root)} is damaged`);
  }
  if (r?.version !== 1 || (r.method !== 'srp' && r.method !== 'none') || (r.method === 'srp' && r.group !== SRP_GROUP)) {
    throw new TardisError(`the login file of ${path.basename(root)} has an unsupported format`);
  }
  return r;
}
