// What a backup leaves out (reference §7, with Tardis' bugs fixed): gitignore-style patterns
// from the command line, the config file, pattern files and the global exclude file; per
// directory a recursive and a local exclude file; directories carrying the skip file or a
// CACHEDIR.TAG; directories named by path; and, on request, entries the user cannot read.
//
// The walker asks two things: which rules hold inside a directory (`dirRules`, which reads the
// directory's own exclude files) and whether one of its entries is excluded (`check`).
import { constants as C, lstatSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readTextFile } from '../config/textfile.ts';
import { UsageError } from '../errors/errors.ts';
import type { FsEntry } from '../walk/entry.ts';
import { matchRules, parseRule, parseRules, type Rule } from './patterns.ts';

/** CVS's default ignore list (reference §7), as gitignore patterns (`#*` escaped). */
export const CVS_PATTERNS = [
  'RCS', 'SCCS', 'CVS', 'CVS.adm', 'RCSLOG', 'cvslog.*', 'tags', 'TAGS', '.make.state', '.nse_depinfo',
  '*~', '\\#*', '.#*', ',*', '_$*', '*$', '*.old', '*.bak', '*.BAK', '*.orig', '*.rej', '.del-*', '*.a',
  '*.olb', '*.o', '*.obj', '*.so', '*.exe', '*.Z', '*.elc', '*.ln', 'core', '.*.swp', '.*.swo',
  '.svn', '.git', '.hg', '.bzr',
];

/** The first bytes of a valid CACHEDIR.TAG (https://bford.info/cachedir/). */
export const CACHEDIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';
export const CACHEDIR_TAG = 'CACHEDIR.TAG';

export interface PatternSource {
  /** One pattern per element. */
  patterns: string[];
  /** Names the origin in messages: "--exclude", "ExcludePatterns (tardis.cfg:4)". */
  source: string;
}

export interface ExcludeOptions {
  /** Global patterns, lowest precedence first (config before command line: later ones win). */
  patterns?: PatternSource[];
  /** Pattern files that must exist (--exclude-file, ExcludeFiles). */
  patternFiles?: string[];
  /** The global exclude file; skipped silently when missing unless `globalFileRequired`. */
  globalFile?: string | null;
  globalFileRequired?: boolean;
  /** Paths never backed up (made absolute against `cwd`, `~` and `$VAR` expanded). */
  dirs?: string[];
  /** Add CVS's ignore list. */
  cvs?: boolean;
  /** Skip the contents of directories with a valid CACHEDIR.TAG (the directory stays, empty). */
  skipCaches?: boolean;
  /** Per-directory file whose patterns hold in its directory and below ('' = none). */
  excludeFileName?: string;
  /** Per-directory file whose patterns hold for that directory's own entries only ('' = none). */
  localExcludeFileName?: string;
  /** A directory containing a file of this name is left out entirely ('' = none). */
  skipFileName?: string;
  /** Leave out files the running user cannot read and directories it cannot list. */
  noAccess?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Whose permissions `noAccess` checks (default: this process's effective ids). */
  identity?: { uid: number; gids: number[] };
}

/** The rules that hold inside one directory. */
export interface DirRules {
  /** Recursive exclude files from the outermost directory down to this one. */
  readonly recursive: readonly Layer[];
  /** This directory's local exclude file. */
  readonly local: Layer | null;
}

interface Layer {
  /** Directory the patterns are relative to, with a trailing '/'. */
  base: string;
  rules: Rule[];
}

/**
 * What to do with an entry: `omit` leaves it out of its directory's listing; `empty` lists a
 * directory but does not enter it (CACHEDIR.TAG, so the cache directory itself is restored).
 */
export interface Verdict {
  action: 'omit' | 'empty';
  reason: string;
}

/** An exclude file that exists but could not be read. */
export interface ExcludeProblem {
  path: string;
  error: Error;
}

const ROOT_RULES: DirRules = { recursive: [], local: null };

/** `~`, `~user` is not supported; `$VAR` and `${VAR}` from `env` (unset: left as written). */
export function expandPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  let s = p.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? m);
  if (s === '~' || s.startsWith('~/')) s = (env.HOME || os.homedir()) + s.slice(1);
  return s;
}

function readPatternFile(file: string, what: string): Rule[] {
  return parseRules(readTextFile(file, `${what}: cannot read`), file, { middleSlashAnchors: false });
}

function canAccess(e: FsEntry, id: { uid: number; gids: number[] }): boolean {
  if (id.uid === 0) return true;
  const need = e.type === 'dir' ? 0o5 : e.type === 'file' ? 0o4 : 0;
  if (need === 0) return true;
  const shift = e.uid === id.uid ? 6 : id.gids.includes(e.gid) ? 3 : 0;
  return ((e.mode >> shift) & need) === need;
}

export class Excluder {
  private readonly global: Rule[];
  private readonly dirs: Set<string>;
  private readonly opts: ExcludeOptions;
  private readonly identity: { uid: number; gids: number[] };

  private constructor(opts: ExcludeOptions, global: Rule[], dirs: Set<string>) {
    this.opts = opts;
    this.global = global;
    this.dirs = dirs;
    const gids = new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? -1]);
    this.identity = opts.identity ?? { uid: process.geteuid?.() ?? 0, gids: [...gids] };
  }

  /** Reads the global pattern files; a missing or unreadable required file is a UsageError. */
  static load(opts: ExcludeOptions = {}): Excluder {
    const env = opts.env ?? process.env;
    const cwd = opts.cwd ?? process.cwd();
    const resolve = (p: string) => path.resolve(cwd, expandPath(p, env));
    // Lowest precedence first: within one rule list the last match wins.
    const global: Rule[] = [];
    if (opts.cvs) global.push(...CVS_PATTERNS.map((p) => parseRule(p, '--cvs-ignore', { middleSlashAnchors: false })!));
    if (opts.globalFile) {
      const file = resolve(opts.globalFile);
      try {
        global.push(...readPatternFile(file, 'global exclude file'));
      } catch (e) {
        if (opts.globalFileRequired || (e instanceof UsageError && !/no such file/.test(e.message))) throw e;
      }
    }
    for (const f of opts.patternFiles ?? []) global.push(...readPatternFile(resolve(f), 'exclude file'));
    for (const src of opts.patterns ?? []) {
      for (const p of src.patterns) {
        const r = parseRule(p, src.source, { middleSlashAnchors: false });
        if (r) global.push(r);
      }
    }
    const dirs = new Set((opts.dirs ?? []).map(resolve));
    return new Excluder(opts, global, dirs);
  }

  /** True when nothing can ever be excluded: the walker then skips all checks. */
  get inactive(): boolean {
    const o = this.opts;
    return this.global.length === 0 && this.dirs.size === 0 && !o.skipCaches && !o.noAccess &&
      !o.excludeFileName && !o.localExcludeFileName && !o.skipFileName;
  }

  /** The rules at a backup root, before its own exclude files. */
  rootRules(): DirRules {
    return ROOT_RULES;
  }

  /**
   * The rules inside directory `dir`: the inherited ones plus the exclude files among `names`
   * (read through `base`, the path the walker reaches the directory by).
   */
  async dirRules(inherited: DirRules, dir: Buffer, names: readonly Buffer[], base: Buffer): Promise<{ rules: DirRules; problems: ExcludeProblem[] }> {
    const problems: ExcludeProblem[] = [];
    const { excludeFileName: rec, localExcludeFileName: loc } = this.opts;
    const dirStr = dir.toString();
    const baseDir = dirStr.endsWith('/') ? dirStr : `${dirStr}/`;
    const read = async (name: string, middleSlashAnchors: boolean): Promise<Layer | null> => {
      if (!name) return null;
      const want = Buffer.from(name);
      if (!names.some((n) => n.equals(want))) return null;
      const shown = baseDir + name;
      try {
        const fh = await fsp.open(Buffer.concat([base, Buffer.from(`/${name}`)]), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
        try {
          if (!(await fh.stat()).isFile()) return null;
          const text = await fh.readFile('utf8');
          return { base: baseDir, rules: parseRules(text, shown, { middleSlashAnchors }) };
        } finally {
          await fh.close();
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ELOOP') return null; // gone, or a symlink: not an exclude file
        problems.push({ path: shown, error: new Error(`cannot read exclude file: ${code ?? (e as Error).message}`) });
        return null;
      }
    };
    const own = await read(rec ?? '', true);
    const local = await read(loc ?? '', true);
    if (!own && !local && inherited.local === null) return { rules: inherited, problems };
    return { rules: { recursive: own ? [...inherited.recursive, own] : inherited.recursive, local }, problems };
  }

  /**
   * Whether entry `e` of directory `dir` (reached through `base`) is left out, and why; null
   * when it is backed up. The most specific rules speak first: the directory's local file, then
   * the recursive files from the innermost out, then the global patterns; within one source the
   * last matching pattern wins, so `!pattern` re-includes.
   */
  async check(rules: DirRules, dir: Buffer, e: FsEntry, base: Buffer): Promise<Verdict | null> {
    const name = e.name.toString();
    const dirStr = dir.toString();
    const full = dirStr.endsWith('/') ? dirStr + name : `${dirStr}/${name}`;
    const isDir = e.type === 'dir';

    if (this.dirs.has(full)) return { action: 'omit', reason: 'excluded by --exclude-dir/ExcludeDirs' };
    const byPattern = this.matchPattern(rules, full, name, isDir);
    if (byPattern) return { action: 'omit', reason: `matches '${byPattern.pattern}' (${byPattern.source})` };
    if (this.opts.noAccess && !canAccess(e, this.identity)) {
      return { action: 'omit', reason: `no ${isDir ? 'read and search' : 'read'} permission (--exclude-no-access)` };
    }
    if (!isDir) return null;
    const at = Buffer.concat([base, Buffer.from('/'), e.name]);
    const skip = this.opts.skipFileName;
    if (skip) {
      if (hasEntry(Buffer.concat([at, Buffer.from(`/${skip}`)]))) return { action: 'omit', reason: `contains ${skip}` };
    }
    if (this.opts.skipCaches && (await isCacheDir(Buffer.concat([at, Buffer.from(`/${CACHEDIR_TAG}`)])))) {
      return { action: 'empty', reason: `contents left out: it has a valid ${CACHEDIR_TAG} (--skip-caches)` };
    }
    return null;
  }

  private matchPattern(rules: DirRules, full: string, name: string, isDir: boolean): Rule | undefined {
    const layers = rules.local ? [rules.local, ...[...rules.recursive].reverse()] : [...rules.recursive].reverse();
    for (const layer of layers) {
      // A local file's patterns hold for its own directory's entries only.
      const rel = layer === rules.local ? name : full.slice(layer.base.length);
      const r = matchRules(layer.rules, rel, isDir);
      if (r) return r.negate ? undefined : r;
    }
    const r = matchRules(this.global, full.slice(1), isDir);
    return r && !r.negate ? r : undefined;
  }
}

/**
 * Whether `p` exists (not following a final symlink). Synchronous: asked of every directory of a
 * backup and nearly always "no", it costs a few microseconds instead of a thread-pool round trip.
 */
function hasEntry(p: Buffer): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // a directory we cannot search: its skip file cannot be seen either
  }
}

/** A CACHEDIR.TAG that is a regular file starting with the standard signature. */
async function isCacheDir(tag: Buffer): Promise<boolean> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tag, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    if (!(await fh.stat()).isFile()) return false;
    const buf = Buffer.alloc(CACHEDIR_SIGNATURE.length);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return bytesRead === buf.length && buf.toString('latin1') === CACHEDIR_SIGNATURE;
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => {});
  }
}
