import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { commandReference } from '../scripts/gen-docs.ts';
import { ROOT } from '../internal/testkit/testkit.ts';

test('docs/commands.md matches the commands\' --help (run `make docs` after changing options)', () => {
  assert.equal(readFileSync(path.join(ROOT, 'docs', 'commands.md'), 'utf8'), commandReference());
});
