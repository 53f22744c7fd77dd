// `@file` arguments (reference §0.3): each `@path` argument is replaced by the arguments in
// that file. Words are split like a POSIX shell: whitespace separates, '...' is literal, "..."
// allows \" \\ \$ \` escapes, a backslash outside quotes escapes the next character, and '#'
// at the start of a word comments out the rest of the line. Nested @files are expanded too
// (paths relative to the current directory, as Python's argparse does).
import fs from 'node:fs';
import { UsageError } from '../errors/errors.ts';

export const MAX_ARGFILE_DEPTH = 10;

export interface SplitOptions {
  /** '#' at the start of a word begins a comment (default true; config values turn it off). */
  comments?: boolean;
  /** Line number of the text's first line in `fileName` (default 1). */
  firstLine?: number;
}

/** Split argument-file text into words. Throws UsageError naming `fileName` and the line. */
export function splitArgs(text: string, fileName: string, opts: SplitOptions = {}): string[] {
  const words: string[] = [];
  let word: string | null = null; // null: between words
  let line = opts.firstLine ?? 1;
  const comments = opts.comments ?? true;
  let i = 0;
  const s = text.replace(/^\uFEFF/, '');
  while (i < s.length) {
    const c = s[i];
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      if (word !== null) words.push(word);
      word = null;
      if (c === '\n') line++;
      i++;
    } else if (c === '#' && word === null && comments) {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${fileName}:${line}: unterminated ' quote`);
      const part = s.slice(i + 1, end);
      line += part.split('\n').length - 1;
      word = (word ?? '') + part;
      i = end + 1;
    } else if (c === '"') {
      const start = line;
      let part = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new UsageError(`${fileName}:${start}: unterminated " quote`);
        const d = s[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1])) {
          if (s[i + 1] === '\n') line++;
          else part += s[i + 1];
          i += 2;
          continue;
        }
        if (d === '\n') line++;
        part += d;
        i++;
      }
      word = (word ?? '') + part;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= s.length) {
        i++;
      } else if (s[i + 1] === '\n') {
        line++; // line continuation
        i += 2;
      } else if (s[i + 1] === '\r' && s[i + 2] === '\n') {
        line++;
        i += 3;
      } else {
        word = (word ?? '') + s[i + 1];
        i += 2;
      }
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/**
 * Replace every `@file` argument by the words of that file, recursively (at most
 * MAX_ARGFILE_DEPTH deep). Arguments after a literal `--` are left alone, so a path that
 * starts with '@' can still be given.
 */
export function expandArgFiles(argv: string[]): string[] {
  const out: string[] = [];
  let literal = false;
  const expand = (args: string[], chain: string[]): void => {
    for (const arg of args) {
      if (literal || !arg.startsWith('@')) {
        if (arg === '--') literal = true;
        out.push(arg);
        continue;
      }
      const file = arg.slice(1);
      if (file === '') throw new UsageError(`'@' must be followed by an argument file name`);
      if (chain.length >= MAX_ARGFILE_DEPTH) {
        throw new UsageError(`argument files nested more than ${MAX_ARGFILE_DEPTH} deep: ${[...chain, file].join(' -> ')}`);
      }
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message);
        throw new UsageError(`cannot read argument file '${file}': ${why}`);
      }
      expand(splitArgs(text, file), [...chain, file]);
    }
  };
  expand(argv, []);
  return out;
}
