import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText, isBinary, renderDiff, type DiffFormat } from './textdiff.ts';

const labels = { a: { name: 'f', header: 'old' }, b: { name: 'f', header: 'new' } };
const diff = (a: string, b: string, format: DiffFormat, n = 3) => renderDiff(a, b, format, n, labels).join('\n');

test('unified: hunks with N lines of context, ",1" left out, empty ranges one line early, a missing final newline marked', () => {
  assert.equal(diff('a\nb\nc\n', 'a\nX\nb\nc\n', 'unified', 1), '--- f\told\n+++ f\tnew\n@@ -1,2 +1,3 @@\n a\n+X\n b');
  assert.equal(diff('', 'a\nb\n', 'unified'), '--- f\told\n+++ f\tnew\n@@ -0,0 +1,2 @@\n+a\n+b');
  assert.equal(diff('a\nb\n', '', 'unified'), '--- f\told\n+++ f\tnew\n@@ -1,2 +0,0 @@\n-a\n-b');
  assert.equal(diff('a\nb', 'a\nc', 'unified', 0), '--- f\told\n+++ f\tnew\n@@ -2 +2 @@\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file');
  assert.equal(diff('same\n', 'same\n', 'unified'), '', 'equal texts: nothing, not even headers');
});

test('context: old lines then new; a change is "!" on both sides, lone removals "-", lone additions "+"', () => {
  assert.equal(diff('a\nb\nc\n', 'a\nc\n', 'context', 1), '*** f\told\n--- f\tnew\n***************\n*** 1,3 ****\n  a\n- b\n  c\n--- 1,2 ----');
  assert.equal(diff('a\nc\n', 'a\nb\nc\n', 'context', 0), '*** f\told\n--- f\tnew\n***************\n*** 1 ****\n--- 2 ----\n+ b');
  assert.equal(diff('a\nb\nc\n', 'a\nB\nc\nd\n', 'context', 0),
    '*** f\told\n--- f\tnew\n***************\n*** 2 ****\n! b\n--- 2 ----\n! B\n***************\n*** 3 ****\n--- 4 ----\n+ d');
  assert.equal(diff('x\ny', 'x\nz', 'context', 0), '*** f\told\n--- f\tnew\n***************\n*** 2 ****\n! y\n\\ No newline at end of file\n--- 2 ----\n! z\n\\ No newline at end of file');
});

test('ndiff: every line; guides under similar changed lines (^ changed, + added, - removed), tabs kept', () => {
  assert.equal(diff('keep\nthe lazy dog\ngo\n', 'keep\nthe lazy cat\ngo\n', 'ndiff'),
    '--- f\told\n+++ f\tnew\n  keep\n- the lazy dog\n?          ^^^\n+ the lazy cat\n?          ^^^\n  go');
  assert.equal(diff('until night\n', 'until night falls\n', 'ndiff'), '--- f\told\n+++ f\tnew\n- until night\n+ until night falls\n?            ++++++');
  assert.equal(diff('\tindented line x\n', '\tindented line\n', 'ndiff'), '--- f\told\n+++ f\tnew\n- \tindented line x\n? \t             --\n+ \tindented line');
  // Nothing alike: plain removals and additions, the shorter block first.
  assert.equal(diff('aaaa\n', 'zzzz\nyyyy\n', 'ndiff'), '--- f\told\n+++ f\tnew\n- aaaa\n+ zzzz\n+ yyyy');
  assert.equal(diff('aaaa\nbbbb\n', 'zzzz\n', 'ndiff'), '--- f\told\n+++ f\tnew\n+ zzzz\n- aaaa\n- bbbb');
});

test('binary detection: a NUL byte in the first 8000 bytes', () => {
  assert.equal(isBinary(Buffer.from('plain text\n')), false);
  assert.equal(isBinary(Buffer.from('a\0b')), true);
  assert.equal(isBinary(Buffer.concat([Buffer.alloc(8000, 0x61), Buffer.from([0])])), false);
  assert.equal(isBinary(Buffer.alloc(0)), false);
});

test('decodeText: UTF-8 as is, each invalid byte as \\xNN (Python\'s backslashreplace)', () => {
  assert.equal(decodeText(Buffer.from('héllo ✓\n')), 'héllo ✓\n');
  assert.equal(decodeText(Buffer.from([0x61, 0xff, 0x62, 0xc3, 0xa9, 0xc3])), 'a\\xffbé\\xc3');
  assert.equal(decodeText(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80', 'an encoded surrogate is not valid UTF-8');
  assert.equal(decodeText(Buffer.from('a\ufffdb')), 'a\ufffdb', 'a real U+FFFD stays');
});
