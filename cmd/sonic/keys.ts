// sonic setpass, chpass and keys: the password-wrapped key slots. A password change re-wraps the
// same master keys (nothing is re-encrypted) and replaces every slot, so the old password stops
// working; the tardisd login (SRP verifier) changes with it.
import { rm } from 'node:fs/promises';
import { passwordOptions } from '../../internal/cli/common.ts';
import { getPassword, type PasswordOptions } from '../../internal/config/password.ts';
import type { Connection } from '../../internal/connect/connect.ts';
import { keyFileSlots, writeKeyFile } from '../../internal/connect/keyfile.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import type { KeySlotData } from '../../internal/model/session.ts';
import { makeAuthSetup } from '../../internal/remote/auth.ts';

type Flags = Record<string, unknown>;
type Out = (line: string) => void;

/** The new password of setpass/chpass: --newpassword[=PW], --newpassword-file, --newpassword-prog, or the terminal. */
export async function newPassword(o: Flags, fallback?: PasswordOptions): Promise<string> {
  let opts: PasswordOptions = {
    password: o.newpassword === true || o.newpassword === '' ? true : o.newpassword === undefined ? undefined : String(o.newpassword),
    passwordFile: o.newpasswordFile === undefined ? undefined : String(o.newpasswordFile),
    passwordProg: o.newpasswordProg === undefined ? undefined : String(o.newpasswordProg),
  };
  const givenIn = (p: PasswordOptions) => p.password !== undefined || p.passwordFile !== undefined || p.passwordProg !== undefined;
  // setpass, as in Tardis, also takes the new password from the ordinary password options.
  if (!givenIn(opts) && fallback && givenIn(fallback)) opts = fallback;
  const given = givenIn(opts);
  if (!given && !process.stdin.isTTY) throw new UsageError('give the new password with --newpassword, --newpassword-file or --newpassword-prog (no terminal to ask on)');
  // An empty environment: TARDIS_PASSWORD is the old password, never the new one.
  const pw = await getPassword(opts, { confirm: true, prompt: 'New password: ', env: {} });
  if (!pw) throw new UsageError('the new password must not be empty');
  return pw;
}

/** Wraps the keys under `password` wherever they live now (repository, key file, or both). */
async function rewrap(conn: Connection, password: string, keyFile: string | undefined): Promise<string[]> {
  const info = await conn.session.info();
  const slot = (await conn.keyring.wrap(password)) as unknown as KeySlotData;
  const login = await makeAuthSetup(info.client, password);
  const where: string[] = [];
  if (keyFile) {
    await writeKeyFile(keyFile, { repository: info.config.id, client: info.client, slots: [slot] }, { replace: true });
    where.push(keyFile);
  }
  const inRepo = info.keySlots.length > 0 || !keyFile;
  await conn.session.setKeys({ slots: inRepo ? [slot] : [], encrypted: true, login });
  if (inRepo) where.push('the repository');
  return where;
}

export async function setpass(conn: Connection, o: Flags, keyFile: string | undefined, out: Out): Promise<void> {
  const info = await conn.session.info();
  if (info.config.encrypted) throw new UsageError(`${info.client} has a password already: change it with sonic chpass`);
  const where = await rewrap(conn, await newPassword(o, passwordOptions(o)), keyFile);
  out(`${info.client} now needs its password (keys in ${where.join(' and ')}). Data written before was encrypted with the same keys, which anyone with the unprotected repository could read until now.`);
}

export async function chpass(conn: Connection, o: Flags, keyFile: string | undefined, out: Out): Promise<void> {
  const info = await conn.session.info();
  if (!info.config.encrypted) throw new UsageError(`${info.client} has no password: set one with sonic setpass`);
  const where = await rewrap(conn, await newPassword(o), keyFile);
  out(`password of ${info.client} changed (keys in ${where.join(' and ')}); the old password no longer opens it`);
}

/** keys --extract: copy (with --delete: move) the key slots to the key file; --insert: back. */
export async function keysCommand(conn: Connection, o: Flags, keyFile: string | undefined, out: Out): Promise<void> {
  if (!keyFile) throw new UsageError('sonic keys needs the key file: --keys FILE (or TARDIS_KEYFILE)');
  if (!o.extract === !o.insert) throw new UsageError('give one of --extract and --insert');
  const info = await conn.session.info();
  const change = { encrypted: info.config.encrypted };
  if (o.extract) {
    if (info.keySlots.length === 0) throw new UsageError(`${info.client} holds no keys to extract (are they in ${keyFile} already?)`);
    await writeKeyFile(keyFile, { repository: info.config.id, client: info.client, slots: info.keySlots });
    if (o.delete) {
      await conn.session.setKeys({ ...change, slots: [] });
      out(`moved the keys of ${info.client} to ${keyFile}: keep it safe, the repository cannot be opened without it (--keys ${keyFile})`);
    } else {
      out(`copied the keys of ${info.client} to ${keyFile}`);
    }
    return;
  }
  const fromFile = keyFileSlots(keyFile, info.config.id);
  const have = new Set(info.keySlots.map((s) => JSON.stringify(s)));
  await conn.session.setKeys({ ...change, slots: [...info.keySlots, ...fromFile.filter((s) => !have.has(JSON.stringify(s)))] });
  if (o.delete) await rm(keyFile);
  out(`${o.delete ? 'moved' : 'copied'} the keys in ${keyFile} into ${info.client}`);
}
