// sonic upgrade: a catalog of an older schema is refused by the everyday tools until upgraded,
// and the upgrade keeps a copy of the old catalog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mustRun, runTool } from '../../internal/testkit/testkit.ts';
import { assertSameTree, backup, restore, setupRepo, write } from '../../internal/testkit/fixtures.ts';

/** Turns a catalog back into schema 1, as an older tardis left it. */
function downgrade(repo: string): void {
  const db = new DatabaseSync(path.join(repo, 'catalog.db'));
  try {
    db.exec('ALTER TABLE sets DROP COLUMN snapshot_chunks; DELETE FROM schema_migrations WHERE version >= 2;');
  } finally {
    db.close();
  }
}

test('an older catalog: tools say to run sonic upgrade; the upgrade keeps the old catalog and the data restores', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'sonic-upgrade-');
  write(path.join(src, 'f'), 'before the upgrade\n');
  await backup(repo, [src]);
  const current = await mustRun('sonic', ['upgrade', '-R', repo]);
  assert.match(current.stdout, /at schema \d+ already: nothing to do/);
  downgrade(repo);

  const refused = await runTool('tardis', ['-R', repo, src]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^tardis: error: catalog schema 1 is older than \d+: run `sonic upgrade`/);
  const wrong = await runTool('sonic', ['upgrade', '-R', repo], { env: { TARDIS_PASSWORD: 'not it' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong password/);

  const up = await mustRun('sonic', ['upgrade', '-R', repo]);
  assert.match(up.stdout, /upgraded the catalog from schema 1 to \d+; the old one is kept as .*catalog\.db\.schema-1/);
  assert.ok(fs.existsSync(path.join(repo, 'catalog.db.schema-1')));
  write(path.join(src, 'g'), 'after\n');
  await backup(repo, [src]);
  await restore(repo, ['-o', path.join(dir, 'out'), src]);
  await assertSameTree(src, path.join(dir, 'out'));

  const remote = await runTool('sonic', ['upgrade', '-R', 'tardis://127.0.0.1:1/client']);
  assert.equal(remote.code, 1);
  assert.match(remote.stderr, /AllowSchemaUpgrades/);
});
