import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandArgFiles, splitArgs } from './argfile.ts';
import { UsageError } from '../errors/errors.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-argfile-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

test('splitArgs: shell-like words, quotes, comments', () => {
  assert.deepEqual(splitArgs('--repo /srv/x  -v\n\n--exclude "*.tmp"\n', 'f'), ['--repo', '/srv/x', '-v', '--exclude', '*.tmp']);
  assert.deepEqual(splitArgs(`'it''s' "a \\"b\\" \\$c \\n" back\\ slash`, 'f'), ['its', 'a "b" $c \\n', 'back slash']);
  assert.deepEqual(splitArgs('# whole line\n-v # trailing\nfoo#bar "#x" \'\'', 'f'), ['-v', 'foo#bar', '#x', '']);
  assert.deepEqual(splitArgs('a\\\nb\r\nc\r\n', 'f'), ['ab', 'c']);
  assert.deepEqual(splitArgs('"multi\nline"', 'f'), ['multi\nline']);
  assert.deepEqual(splitArgs('', 'f'), []);
  assert.throws(() => splitArgs('ok\n"open', 'args.txt'), /^UsageError: args\.txt:2: unterminated " quote$/);
  assert.throws(() => splitArgs("\n\n'open", 'args.txt'), /args\.txt:3: unterminated ' quote/);
});

test('expandArgFiles replaces @file, recursively', () => {
  const inner = write('inner.args', '--exclude "My Documents"\n');
  const outer = write('outer.args', `# job options\n--repo file:/srv/t/c -v\n@${inner}\n`);
  assert.deepEqual(expandArgFiles(['backup', `@${outer}`, '/home']), [
    'backup',
    '--repo',
    'file:/srv/t/c',
    '-v',
    '--exclude',
    'My Documents',
    '/home',
  ]);
  assert.deepEqual(expandArgFiles(['a', '--', `@${outer}`]), ['a', '--', `@${outer}`]);
  assert.deepEqual(expandArgFiles([]), []);
});

test('expandArgFiles errors', () => {
  assert.throws(
    () => expandArgFiles([`@${path.join(dir, 'missing')}`]),
    (e: unknown) => e instanceof UsageError && /cannot read argument file '.*missing': no such file/.test(e.message),
  );
  assert.throws(() => expandArgFiles(['@']), UsageError);
  assert.throws(() => expandArgFiles([`@${dir}`]), /is a directory/);
  const loop = write('loop.args', '');
  fs.writeFileSync(loop, `@${loop}\n`);
  assert.throws(() => expandArgFiles([`@${loop}`]), /nested more than 10 deep/);
});
