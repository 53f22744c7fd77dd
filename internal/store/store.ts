// The storage interface every repository backend implements (local directory now, S3 later).
// Names are validated here so no backend can be steered outside its repository.

import { UsageError } from '../errors/errors.ts';

// `sets`: the repository side's plain record of each set's catalog row (rebuild reads them).
export type FileKind = 'config' | 'keys' | 'packs' | 'snapshots' | 'locks' | 'sets';

export const FILE_KINDS: readonly FileKind[] = ['config', 'keys', 'packs', 'snapshots', 'locks', 'sets'];

/** Packs and snapshots are written once; a second put of the same name must not replace them. */
export const IMMUTABLE_KINDS: ReadonlySet<FileKind> = new Set<FileKind>(['packs', 'snapshots']);

/** The single name the `config` kind holds. */
export const CONFIG_NAME = 'config';

export interface Store {
  /** Stores `data` under `name`; durable once the promise resolves. */
  put(kind: FileKind, name: string, data: Uint8Array): Promise<void>;
  /** The whole file; NotFoundError if missing. */
  get(kind: FileKind, name: string): Promise<Buffer>;
  /** Exactly `length` bytes at `offset`; IntegrityError if the file is shorter. */
  getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer>;
  /** Several ranges of one file in order (one open). */
  getRanges(kind: FileKind, name: string, ranges: { offset: number; length: number }[]): Promise<Buffer[]>;
  /** null if missing. */
  stat(kind: FileKind, name: string): Promise<{ size: number } | null>;
  /** Names (not paths) of the files of one kind, in no guaranteed order. */
  list(kind: FileKind): AsyncIterable<string>;
  /** Removing a missing file succeeds (as an S3 DELETE does), so interrupted prunes can rerun. */
  remove(kind: FileKind, name: string): Promise<void>;
  /** Human-readable location for messages (a path or URL). */
  location(): string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/;
// Packs fan out by their first two hex characters, so their names must be hex.
const PACK_NAME = /^[0-9a-f]{2,128}$/;

export function isValidName(kind: FileKind, name: string): boolean {
  if (typeof name !== 'string') return false;
  switch (kind) {
    case 'config':
      return name === CONFIG_NAME;
    case 'packs':
      return PACK_NAME.test(name);
    case 'keys':
    case 'snapshots':
    case 'locks':
    case 'sets':
      return NAME.test(name) && !name.includes('..');
    default:
      return false;
  }
}

/** Throws UsageError unless `name` is a safe file name for `kind`. */
export function checkName(kind: FileKind, name: string): void {
  checkKind(kind);
  if (!isValidName(kind, name)) {
    throw new UsageError(`invalid ${kind} name: ${JSON.stringify(String(name).slice(0, 200))}`);
  }
}

export function checkKind(kind: FileKind): void {
  if (!FILE_KINDS.includes(kind)) throw new UsageError(`invalid file kind: ${JSON.stringify(kind)}`);
}
