// Configuration through the real commands: every client tool (tardis, regenerate, sonic) reads
// --config/--job (or TARDIS_CONFIG/TARDIS_JOB), TARDIS_* variables and @argfiles, with
// command line > environment > config file > defaults, and rejects a bad file in one line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRepo, mustRun, PASSWORD, runTool, tempDir, type RunResult } from '../../internal/testkit/testkit.ts';
import { write } from '../../internal/testkit/fixtures.ts';

// No system defaults file or global exclude file of the machine; no password in the environment.
const ENV: NodeJS.ProcessEnv = { TARDIS_DEFAULTS: '/nonexistent/system.defaults', TARDIS_PASSWORD: '', TARDIS_REPO: '', TARDIS_CONFIG: '', TARDIS_JOB: '' };

let dir = '';
let repo = '';
let src = '';
let cleanup = () => {};
before(async () => {
  ({ dir, cleanup } = tempDir('tardis-config-'));
  repo = await createRepo(dir);
  src = path.join(dir, 'src');
  write(path.join(src, 'a.txt'), 'a\n');
  write(path.join(src, 'skip.tmp'), 'tmp\n');
  fs.writeFileSync(path.join(dir, 'password'), `${PASSWORD}\n`);
  ENV.TARDIS_GLOBAL_EXCLUDES = path.join(dir, 'no-global-excludes');
  fs.writeFileSync(ENV.TARDIS_GLOBAL_EXCLUDES, '');
});
after(() => cleanup());

/** Writes a config file into the test directory. */
function cfgFile(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** A run that failed with exit 1 and one line on stderr matching `re`. */
function oneLineError(r: RunResult, re: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

test('a job section gives every tool its repository, password and settings (no -R, no TARDIS_PASSWORD)', async () => {
  const cfg = cfgFile('job.cfg', [
    '# the laptop job',
    '[Tardis]',
    `Repository = ${repo}`,
    `PasswordFile = ${path.join(dir, 'password')}`,
    `Directories = ${src}`,
    'ExcludePatterns = *.tmp',
    'Stats = yes',
    '',
  ].join('\n'));
  const b = await mustRun('tardis', ['--config', cfg], { env: ENV });
  assert.match(b.stdout, /^Files: +1 /m, 'Directories, ExcludePatterns and Stats came from the file');
  const list = await mustRun('sonic', ['list', '--config', cfg, '--json'], { env: ENV });
  assert.equal((JSON.parse(list.stdout) as unknown[]).length, 1);
  const out = path.join(dir, 'out-job');
  await mustRun('regenerate', ['--config', cfg, '-o', out, src], { env: ENV });
  assert.deepEqual(fs.readdirSync(out), ['a.txt']);
});

test('--job picks the section; TARDIS_CONFIG and TARDIS_JOB do the same; a missing section is an error', async () => {
  const missing = path.join(dir, 'no-such-repo', 'c');
  const cfg = cfgFile('jobs.cfg', `[Tardis]\nRepository = ${repo}\n[other]\nRepository = ${missing}\n[Daemon]\nPort = 7420\n`);
  const other = await runTool('sonic', ['list', '--config', cfg, '--job', 'other'], { env: ENV });
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, new RegExp(`no repository at ${missing}`));
  const viaEnv = await runTool('sonic', ['list'], { env: { ...ENV, TARDIS_CONFIG: cfg, TARDIS_JOB: 'other' } });
  assert.equal(viaEnv.code, 2);
  assert.match(viaEnv.stderr, new RegExp(`no repository at ${missing}`));
  oneLineError(await runTool('regenerate', ['--config', cfg, '--job', 'weekly', src], { env: ENV }),
    new RegExp(`^regenerate: error: ${cfg}: no section \\[weekly\\] \\(it has \\[Tardis\\], \\[other\\], \\[Daemon\\]; choose one with --job\\)$`));
  oneLineError(await runTool('sonic', ['list', '--job', 'other'], { env: ENV }), /^sonic: error: --job needs a config file: give --config FILE or set TARDIS_CONFIG$/);
});

test('precedence: command line > TARDIS_* environment > config file > defaults', async () => {
  const at = (w: string) => path.join(dir, `repo-${w}`, 'c');
  const cfg = cfgFile('precedence.cfg', `[Tardis]\nRepository = ${at('config')}\n`);
  const which = async (args: string[], env: NodeJS.ProcessEnv) => {
    const r = await runTool('sonic', ['list', '--config', cfg, ...args], { env: { ...ENV, ...env } });
    return /no repository at .*repo-(\w+)\/c/.exec(r.stderr)?.[1];
  };
  assert.equal(await which(['-R', at('cli')], { TARDIS_REPO: at('env') }), 'cli');
  assert.equal(await which([], { TARDIS_REPO: at('env') }), 'env');
  assert.equal(await which([], {}), 'config');
  oneLineError(await runTool('sonic', ['list'], { env: ENV }), /^sonic: error: no repository given: use --repository URL, set TARDIS_REPO, or set Repository in the config file$/);
});

test('an unknown key or a bad value is one line naming the file and line, in every tool', async () => {
  const typo = cfgFile('typo.cfg', `[Tardis]\nRepository = ${repo}\nExcludeNoAcess = yes\n`);
  for (const [tool, args] of [['tardis', [src]], ['regenerate', [src]], ['sonic', ['list']]] as const) {
    const r = await runTool(tool, [...args, '--config', typo], { env: ENV });
    oneLineError(r, new RegExp(`^${tool}: error: ${typo}:3: unknown key 'ExcludeNoAcess' in \\[Tardis\\] \\(did you mean ExcludeNoAccess\\?\\)$`));
  }
  const bad = cfgFile('bad.cfg', `[Tardis]\nRepository = ${repo}\n\nMaxDepth = deep\n`);
  oneLineError(await runTool('tardis', ['--config', bad, src], { env: ENV }), new RegExp(`^tardis: error: ${bad}:4: MaxDepth: 'deep' is not a whole number \\(0 or more\\)$`));
  oneLineError(await runTool('sonic', ['list', '--config', path.join(dir, 'nope.cfg')], { env: ENV }), /^sonic: error: cannot read config file '.*nope\.cfg': no such file$/);
});

test('a Tardis config file loads: [Daemon] and [Remote] sections and keys without effect here are accepted, -v names them', async () => {
  const cfg = cfgFile('tardis19.cfg', [
    '[Tardis]', `Repository = ${repo}`, 'MaxDeltaChain = 5', 'CompressMsgs = snappy',
    '[Daemon]', 'Port = 7420', 'BaseDir = /srv/tardis', '[Remote]', 'Port = 7430', 'AllowCache = True', '',
  ].join('\n'));
  const quiet = await mustRun('sonic', ['list', '--config', cfg], { env: { ...ENV, TARDIS_PASSWORD: PASSWORD } });
  assert.equal(quiet.stderr, '');
  const loud = await mustRun('sonic', ['-v', 'list', '--config', cfg], { env: { ...ENV, TARDIS_PASSWORD: PASSWORD } });
  assert.match(loud.stderr, new RegExp(`${cfg}:3: MaxDeltaChain has no effect: tardis-ts stores content-defined chunks, not deltas`));
});

test('@argfile works in every tool (comments and quotes allowed)', async () => {
  const args = path.join(dir, 'common.args');
  fs.writeFileSync(args, `# shared options\n-R '${repo}'   # the repository\n--password-file "${path.join(dir, 'password')}"\n`);
  const b = await mustRun('tardis', [`@${args}`, '--json', src], { env: ENV });
  assert.equal((JSON.parse(b.stdout) as { stats: { files: number } }).stats.files, 2);
  const list = await mustRun('sonic', ['list', `@${args}`, '--json'], { env: ENV });
  assert.ok((JSON.parse(list.stdout) as unknown[]).length >= 2);
  const out = path.join(dir, 'out-args');
  await mustRun('regenerate', [`@${args}`, '-o', out, src], { env: ENV });
  assert.deepEqual(fs.readdirSync(out).sort(), ['a.txt', 'skip.tmp']);
});
