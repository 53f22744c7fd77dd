import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRules, parseRule, parseRules, toPicomatch } from './patterns.ts';

const GLOBAL = { middleSlashAnchors: false };
const LOCAL = { middleSlashAnchors: true };

/** Whether `patterns` (one rule list) exclude `rel`: the last matching rule decides. */
function excludes(patterns: string[], rel: string, isDir = false, opts = LOCAL): boolean {
  const rules = patterns.map((p) => parseRule(p, 'test', opts)).filter((r) => r !== null);
  const r = matchRules(rules, rel, isDir);
  return r !== undefined && !r.negate;
}

test('a pattern without a slash matches the name at any depth; * does not cross / but ** does', () => {
  assert.ok(excludes(['*.o'], 'a.o'));
  assert.ok(excludes(['*.o'], 'src/deep/a.o'));
  assert.ok(!excludes(['*.o'], 'a.c'));
  assert.ok(excludes(['*'], '.hidden'), '* matches dot files');
  assert.ok(excludes(['a?c'], 'abc') && !excludes(['a?c'], 'a/c'));
  assert.ok(excludes(['doc/*.txt'], 'doc/a.txt') && !excludes(['doc/*.txt'], 'doc/sub/a.txt'));
  assert.ok(excludes(['doc/**/*.txt'], 'doc/sub/deep/a.txt') && excludes(['doc/**/*.txt'], 'doc/a.txt'));
  assert.ok(excludes(['**/logs'], 'logs') && excludes(['**/logs'], 'x/y/logs'));
});

test('anchoring: a leading or middle slash ties a per-directory pattern to its directory', () => {
  assert.ok(excludes(['/build'], 'build'));
  assert.ok(!excludes(['/build'], 'sub/build'));
  assert.ok(excludes(['doc/tmp'], 'doc/tmp'));
  assert.ok(!excludes(['doc/tmp'], 'x/doc/tmp'), 'gitignore: a middle slash anchors');
  // Global patterns (Tardis): only a leading slash anchors; "a/b" matches at any depth.
  assert.ok(excludes(['doc/tmp'], 'home/me/doc/tmp', false, GLOBAL));
  assert.ok(excludes(['/home/me/doc'], 'home/me/doc', false, GLOBAL));
  assert.ok(!excludes(['/home/me/doc'], 'srv/home/me/doc', false, GLOBAL));
});

test('a trailing slash matches directories only; "dir/**" is what is inside, not dir itself', () => {
  assert.ok(excludes(['build/'], 'build', true));
  assert.ok(!excludes(['build/'], 'build', false));
  assert.ok(excludes(['cache/**'], 'cache/a/b'));
  assert.ok(!excludes(['cache/**'], 'cache', true));
});

test('negation: the last matching pattern wins, so !pattern re-includes', () => {
  assert.ok(!excludes(['*.log', '!keep.log'], 'keep.log'));
  assert.ok(excludes(['*.log', '!keep.log'], 'other.log'));
  assert.ok(excludes(['!keep.log', '*.log'], 'keep.log'), 'order matters');
  assert.equal(matchRules([parseRule('!x', 's', LOCAL)!], 'x', false)?.negate, true);
  assert.equal(matchRules([parseRule('!x', 's', LOCAL)!], 'y', false), undefined);
});

test('comments, blank lines, trailing spaces, CRLF and escapes (Tardis read them as patterns)', () => {
  const rules = parseRules('# a comment\n\n   \n*.tmp   \r\nname\\ \n\\#literal\n\\!bang\n', 'f', LOCAL);
  assert.deepEqual(rules.map((r) => [r.pattern, r.source]), [['*.tmp', 'f:4'], ['name\\ ', 'f:5'], ['\\#literal', 'f:6'], ['\\!bang', 'f:7']]);
  assert.ok(matchRules(rules, 'x.tmp', false), 'trailing spaces and \\r are dropped');
  assert.ok(matchRules(rules, 'name ', false), 'an escaped trailing space is kept');
  assert.ok(!matchRules(rules, 'name', false));
  assert.ok(matchRules(rules, '#literal', false) && matchRules(rules, '!bang', false));
  assert.equal(parseRule('# only a comment', 's', LOCAL), null);
  assert.equal(parseRule('/', 's', LOCAL), null);
});

test('characters picomatch treats specially but gitignore does not match literally', () => {
  for (const name of ['Photos (2019)', '{a,b}', '+(x)', 'a@b', 'x!y', 'a|b', '$HOME', 'a^b', 'one.two']) {
    assert.ok(excludes([name], name), name);
  }
  assert.ok(!excludes(['one.two'], 'oneXtwo'));
  assert.ok(!excludes(['{a,b}'], 'a'), 'no brace expansion');
  assert.ok(excludes(['[!a]x'], 'bx') && !excludes(['[!a]x'], 'ax'), 'fnmatch [!...] negates');
  assert.ok(excludes(['[a-c]x'], 'bx') && excludes(['[]]x'], ']x'));
  assert.ok(excludes(['x['], 'x['), 'an unclosed [ is literal');
  assert.ok(excludes(['a\\*'], 'a*') && !excludes(['a\\*'], 'ab'));
  assert.equal(toPicomatch('a(b)'), 'a\\(b\\)');
});
