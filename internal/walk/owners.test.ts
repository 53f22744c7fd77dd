import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupId, groupName, parseIdFile, resetOwners, userId, userName } from './owners.ts';
import { printable } from './names.ts';

after(() => resetOwners());

test('system files: root resolves both ways, unknown ids are null', () => {
  resetOwners();
  assert.equal(userName(0), 'root');
  assert.equal(groupName(0), 'root');
  assert.equal(userId('root'), 0);
  assert.equal(groupId('root'), 0);
  assert.equal(userName(4242), null);
  assert.equal(userId('no-such-user-here'), null);
});

test('parsing: first entry wins, comments and NIS lines and junk skipped', () => {
  const db = parseIdFile('# c\nalice:x:1000:1000::/h:/bin/sh\nalias:x:1000:1000\n+nis\nbad:x:abc:1\n\nbob:x:1001:1\nalice:x:7:7\n');
  assert.equal(db.byId.get(1000), 'alice');
  assert.equal(db.byName.get('alias'), 1000);
  assert.equal(db.byName.get('alice'), 1000);
  assert.equal(db.byName.has('bad'), false);
  assert.equal(db.byName.has('+nis'), false);
  assert.equal(db.byId.get(1001), 'bob');
});

test('other files can be loaded; a missing file means numeric ids only', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-owners-'));
  try {
    fs.writeFileSync(path.join(d, 'passwd'), 'carol:x:4242:4242::/:/bin/false\n');
    resetOwners({ passwd: path.join(d, 'passwd'), group: path.join(d, 'missing') });
    assert.equal(userName(4242), 'carol');
    assert.equal(userId('carol'), 4242);
    assert.equal(groupName(0), null);
  } finally {
    resetOwners();
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('printable escapes control characters and invalid UTF-8 only', () => {
  assert.equal(printable(Buffer.from('a b/é')), 'a b/é');
  assert.equal(printable(Buffer.from('new\nline\\')), 'new\\nline\\\\');
  assert.equal(printable(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xc3])), 'a\\xffé\\xc3');
  assert.equal(printable(Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80])), '\\xc0\\x80\\xed\\xa0\\x80'); // overlong, surrogate
});
