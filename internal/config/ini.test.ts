import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIni, iniGet } from './ini.ts';
import { UsageError } from '../errors/errors.ts';

test('sections, keys, comments, continuation lines', () => {
  const ini = parseIni(
    [
      '\uFEFF# a comment',
      '[Tardis]',
      'Repository = file:/srv/tardis/laptop',
      'Verbosity: 2',
      '; another comment',
      'Empty =',
      'LogFiles = /var/log/a',
      '   /var/log/b',
      '',
      '[other job]',
      'PASSWORD = 100% literal',
    ].join('\r\n'),
    'client.cfg',
  );
  assert.deepEqual([...ini.keys()], ['Tardis', 'other job']);
  assert.deepEqual(ini.get('Tardis')!.get('repository'), { value: 'file:/srv/tardis/laptop', line: 3, name: 'Repository' });
  assert.equal(iniGet(ini, 'Tardis', 'VERBOSITY'), '2');
  assert.equal(iniGet(ini, 'Tardis', 'empty'), '');
  assert.deepEqual(ini.get('Tardis')!.get('logfiles'), { value: '/var/log/a\n/var/log/b', line: 7, name: 'LogFiles' });
  assert.equal(iniGet(ini, 'other job', 'password'), '100% literal');
  assert.equal(iniGet(ini, 'tardis', 'repository'), undefined, 'section names are case-sensitive');
  assert.equal(iniGet(ini, 'Nope', 'x'), undefined);
});

test('DEFAULT section and extended interpolation', () => {
  const ini = parseIni(
    [
      '[DEFAULT]',
      'base = /srv/tardis',
      'name = default-name',
      '[Tardis]',
      'name = laptop',
      'Repository = ${base}/${name}',
      'Price = $$5 and $${notref}',
      '[Other]',
      'repo = ${Tardis:Repository}',
      'same = ${name}',
    ].join('\n'),
    'x.cfg',
  );
  assert.equal(iniGet(ini, 'Tardis', 'repository'), '/srv/tardis/laptop');
  assert.equal(iniGet(ini, 'Tardis', 'base'), '/srv/tardis');
  assert.equal(iniGet(ini, 'Tardis', 'price'), '$5 and ${notref}');
  assert.equal(iniGet(ini, 'Other', 'repo'), '/srv/tardis/laptop');
  assert.equal(iniGet(ini, 'Other', 'same'), 'default-name');
  assert.equal(iniGet(ini, 'DEFAULT', 'base'), '/srv/tardis');
});

test('errors name file and line', () => {
  const bad: [string, RegExp][] = [
    ['key = v', /^f\.cfg:1: 'key' appears before any \[section\]$/],
    ['[a]\nnot a pair', /^f\.cfg:2: expected 'key = value'/],
    ['[a]\n[a]', /^f\.cfg:2: section \[a\] appears twice$/],
    ['[a]\nk=1\nK=2', /^f\.cfg:3: key 'K' appears twice/],
    ['[a]\nk = cost $5', /^f\.cfg:2: '\$' must be followed by '\$' or '\{'/],
    ['[a]\n\nk = ${missing}', /^f\.cfg:3: '\$\{missing\}' refers to a key not in section \[a\] or \[DEFAULT\]$/],
    ['[a]\nk = ${b:x}', /^f\.cfg:2: '\$\{b:x\}' refers to a key not in section \[b\]$/],
    ['[a]\nk = ${x', /^f\.cfg:2: unterminated/],
    ['[a]\nk = ${a:b:c}', /^f\.cfg:2: bad reference/],
    ['[a]\nx = ${y}\ny = ${x}', /^f\.cfg:\d: interpolation nested more than 10 deep/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parseIni(text, 'f.cfg'), (e: unknown) => e instanceof UsageError && re.test(e.message), text);
  }
});
