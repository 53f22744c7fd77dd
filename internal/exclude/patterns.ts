// gitignore-style exclude patterns, matched by picomatch. This file only turns a gitignore line
// into a picomatch glob plus the gitignore flags (negation, directory-only, anchoring); the
// matching itself is picomatch's.
import picomatch from 'picomatch';

export interface Rule {
  /** The pattern as written (for messages). */
  pattern: string;
  /** Where it came from: "FILE:LINE", "--exclude", "ExcludePatterns (FILE:LINE)", ... */
  source: string;
  /** `!pattern`: re-include what an earlier rule (or an outer exclude file) excluded. */
  negate: boolean;
  /** `pattern/`: only directories match. */
  dirOnly: boolean;
  /** true: matched against the entry's path relative to the rules' base; false: its name alone. */
  wholePath: boolean;
  re: RegExp;
}

export interface ParseOptions {
  /**
   * gitignore anchors a pattern with a slash in the middle (`doc/tmp`) to the file's directory.
   * Global patterns (--exclude, the global exclude file) are anchored only by a leading '/' and
   * otherwise match at any depth, as Tardis reads them.
   */
  middleSlashAnchors: boolean;
}

const PICO = { dot: true, nonegate: true, noextglob: true, nobrace: true } as const;

// Characters picomatch treats specially that gitignore does not: escaped so they match literally.
const PICO_ONLY = new Set(['(', ')', '{', '}', '+', '@', '!', '|']);
// Characters that keep their backslash when escaped in the pattern.
const GLOB = new Set(['*', '?', '[', ']', '\\', ...PICO_ONLY]);

/** gitignore glob text → picomatch glob text (same meaning, picomatch spelling). */
export function toPicomatch(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      const next = glob[i + 1];
      if (next === undefined) out += '\\\\'; // a trailing backslash: literal
      else out += GLOB.has(next) ? `\\${next}` : next;
      i++;
    } else if (c === '[') {
      // fnmatch bracket: [!x] negates; a ']' right after '[' or '[!' is a member.
      let j = i + 1;
      const neg = glob[j] === '!' || glob[j] === '^';
      if (neg) j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\['; // unclosed: a literal '['
        continue;
      }
      const body = glob.slice(neg ? i + 2 : i + 1, j);
      out += `[${neg ? '^' : ''}${body}]`;
      i = j;
    } else if (PICO_ONLY.has(c)) {
      out += `\\${c}`;
    } else {
      out += c;
    }
  }
  return out;
}

/** Strips unescaped trailing spaces (gitignore); `\ ` keeps its space. */
function trimTrailingSpaces(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ' ') {
    let bs = 0;
    for (let k = end - 2; k >= 0 && s[k] === '\\'; k--) bs++;
    if (bs % 2 === 1) break; // escaped
    end--;
  }
  return s.slice(0, end);
}

/**
 * One pattern line → a rule, or null for a blank line or a comment. Lines follow .gitignore:
 * `#` starts a comment (`\#` for a literal), trailing spaces are dropped (`\ ` keeps one),
 * `!` negates (`\!` for a literal), a trailing `/` matches directories only, `*` `?` `[...]` do
 * not cross '/', `**` does.
 */
export function parseRule(line: string, source: string, opts: ParseOptions): Rule | null {
  let p = trimTrailingSpaces(line.replace(/\r$/, ''));
  if (p === '' || p.startsWith('#')) return null;
  const pattern = p;
  let negate = false;
  if (p.startsWith('!')) {
    negate = true;
    p = p.slice(1);
  }
  let dirOnly = false;
  while (p.endsWith('/') && !p.endsWith('\\/')) {
    dirOnly = true;
    p = p.slice(0, -1);
  }
  const leading = p.startsWith('/');
  if (leading) p = p.replace(/^\/+/, '');
  if (p === '') return null; // "/" or "!" alone matches nothing
  const anchored = leading || (opts.middleSlashAnchors ? p.includes('/') : false);
  let glob = p;
  if (!anchored && p.includes('/')) glob = `**/${p}`; // a global "a/b": at any depth
  // gitignore "a/**" is everything inside a, not a itself.
  if (glob.endsWith('/**')) glob += '/*';
  const re = picomatch.makeRe(toPicomatch(glob), PICO);
  return { pattern, source, negate, dirOnly, wholePath: anchored || glob.includes('/'), re };
}

/** The rules of a whole pattern file's text; `file` names it in each rule's source. */
export function parseRules(text: string, file: string, opts: ParseOptions): Rule[] {
  const rules: Rule[] = [];
  text.replace(/^\uFEFF/, '').split('\n').forEach((line, i) => {
    const r = parseRule(line, `${file}:${i + 1}`, opts);
    if (r) rules.push(r);
  });
  return rules;
}

/**
 * The rule of a list that decides for one entry: the last one that matches (a `negate` rule
 * re-includes); undefined when none matches. `rel` is the entry's path relative to the rules'
 * base directory, without leading or trailing '/'.
 */
export function matchRules(rules: readonly Rule[], rel: string, isDir: boolean): Rule | undefined {
  let base: string | undefined;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i];
    if (r.dirOnly && !isDir) continue;
    let subject = rel;
    if (!r.wholePath) subject = base ??= rel.slice(rel.lastIndexOf('/') + 1);
    if (r.re.test(subject)) return r;
  }
  return undefined;
}
