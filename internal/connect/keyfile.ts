// Key files (`--keys FILE`, `sonic keys --extract/--insert`): a repository's password-wrapped
// key slots kept outside the repository, so the repository alone cannot be opened even with the
// password. The slots stay wrapped: the file is as safe as the password is strong.
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors/errors.ts';
import type { KeySlotData } from '../model/session.ts';
import { readTextFile } from '../config/textfile.ts';

const FORMAT = 'tardis-keys';

export interface KeyFile {
  format: typeof FORMAT;
  version: 1;
  /** The repository's id (its config `id`): a key file opens that repository only. */
  repository: string;
  client: string;
  slots: KeySlotData[];
}

export function readKeyFile(file: string): KeyFile {
  const text = readTextFile(file, 'cannot read key file');
  let k: KeyFile;
  try {
    k = JSON.parse(text) as KeyFile;
  } catch {
    throw new UsageError(`${file}: not a tardis key file (not JSON)`);
  }
  if (k?.format !== FORMAT || k.version !== 1 || typeof k.repository !== 'string' || !Array.isArray(k.slots)) {
    throw new UsageError(`${file}: not a tardis key file`);
  }
  return k;
}

/** The slots of `file` for the repository `id`; a key file of another repository is an error. */
export function keyFileSlots(file: string, id: string): KeySlotData[] {
  const k = readKeyFile(file);
  if (k.repository !== id) throw new UsageError(`${file} holds the keys of another repository (${k.client}, id ${k.repository.slice(0, 16)})`);
  return k.slots;
}

/**
 * Writes a key file (mode 0600, fsynced). A new file never replaces an existing one, unless
 * `replace` (a password change rewriting the file the keys came from).
 */
export async function writeKeyFile(file: string, k: Omit<KeyFile, 'format' | 'version'>, opts: { replace?: boolean } = {}): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify({ format: FORMAT, version: 1, ...k }, null, 1) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (opts.replace) {
      await rename(tmp, file);
    } else {
      // link() fails with EEXIST instead of silently replacing.
      await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new UsageError(`${file} exists already: choose another name or remove it first`) : new UsageError(`cannot write key file ${file}: ${err.message}`);
      });
    }
  } finally {
    await rm(tmp, { force: true });
  }
}
