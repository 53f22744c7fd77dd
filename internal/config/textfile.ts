// Reading a small text file the user named (a config file, an exclude list), with a one-line
// error that says which file and why.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/errors.ts';

/** The file's text; a UsageError "`label` 'FILE': no such file" (or is a directory, …) otherwise. */
export function readTextFile(file: string, label: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? (e as Error).message;
    throw new UsageError(`${label} '${file}': ${why}`);
  }
}
