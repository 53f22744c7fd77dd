// The release bundle (build/release/tardis.cjs, from `make release`) under Bun and Deno: a local
// round trip in each, and repositories written by one runtime read by another. Bun has no
// chacha20-poly1305 in node:crypto, so there the @noble implementation seals and opens. Deno's
// file APIs take only strings, so it cannot name a file whose name is not UTF-8, and its stat
// has no nanoseconds, so it records and sets times to the millisecond (README, "Bun and Deno").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { builtTools } from '../build-common.ts';
import { otherRuntime } from './fetch.ts';
import { BUNDLE } from './layout.ts';
import { assertSameTree, changeTree, makeTree, ok, PASSWORD } from './testkit.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-runtimes-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const runtimes: Record<string, string[]> = { node: [process.execPath, BUNDLE] };

before(() => {
  assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: run make release first`);
  const log = (m: string) => console.log(`# ${m}`);
  runtimes.bun = [otherRuntime('bun', log), BUNDLE];
  runtimes.deno = [otherRuntime('deno', log), 'run', '--allow-all', BUNDLE];
});

const env = () => ({ PATH: '/usr/bin:/bin', HOME: tmp, TARDIS_PASSWORD: PASSWORD, TARDIS_DEFAULTS: '/nonexistent', NO_COLOR: '1' });
const tardis = (rt: string, args: string[]) => ok([...runtimes[rt]!, ...args], env());

/** `writer` creates a repository and backs up; `other` restores it, backs up a change; `writer` restores that. */
async function crossRoundTrip(writer: string, other: string): Promise<void> {
  const dir = path.join(tmp, `${writer}-${other}`);
  const src = path.join(dir, 'src');
  const repo = path.join(dir, 'repo', 'client');
  const deno = writer === 'deno' || other === 'deno';
  makeTree(src, { nonUtf8: !deno });
  await tardis(writer, ['sonic', 'create', '-R', repo]);
  await tardis(writer, ['-R', repo, src]);
  await tardis(other, ['regenerate', '-R', repo, '-o', path.join(dir, 'out1'), src]);
  // Deno records and sets times to the millisecond only, whichever side it is on.
  await assertSameTree(src, path.join(dir, 'out1'), { msTimes: deno });
  changeTree(src);
  await tardis(other, ['-R', repo, src]);
  await tardis(writer, ['regenerate', '-R', repo, '-o', path.join(dir, 'out2'), src]);
  await assertSameTree(src, path.join(dir, 'out2'), { msTimes: deno });
}

for (const rt of ['bun', 'deno']) {
  describe(`the bundle under ${rt}`, () => {
    test('runs every tool', async () => {
      for (const name of builtTools()) {
        const r = await tardis(rt, [name, '--version']);
        assert.match(r.stdout, new RegExp(`^${name}/\\S+ linux-\\S+ ${rt}-v`));
      }
    });
    test(`a repository written by node is read and extended by ${rt}`, () => crossRoundTrip('node', rt));
    test(`a repository written by ${rt} is read and extended by node`, () => crossRoundTrip(rt, 'node'));
  });
}
