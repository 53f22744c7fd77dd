import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { getPassword, promptPassword, type PromptTerminal } from './password.ts';
import { UsageError } from '../errors/errors.ts';

let dir = '';
let env: NodeJS.ProcessEnv = {};
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-password-'));
  env = { TARDIS_DEFAULTS: path.join(dir, 'no-system-defaults') };
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const notTty = (): PassThrough & { isTTY?: boolean } => new PassThrough();
const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);

/** A terminal whose keystrokes the test types; output is collected. */
function fakeTerminal(): PromptTerminal & { type(s: string): void; shown(): string; raw: boolean[]; closed: boolean } {
  const input = new PassThrough() as PassThrough & { setRawMode(raw: boolean): void };
  const out: string[] = [];
  const output = new PassThrough();
  output.on('data', (c: Buffer) => out.push(c.toString()));
  const t = {
    input,
    output,
    raw: [] as boolean[],
    closed: false,
    close() {
      t.closed = true;
    },
    type(s: string) {
      input.write(s);
    },
    shown: () => out.join(''),
  };
  input.setRawMode = (raw: boolean) => void t.raw.push(raw);
  return t;
}

test('--password VALUE, and empty passwords are refused', async () => {
  assert.equal(await getPassword({ password: 's3cret' }, { env, stdin: notTty() }), 's3cret');
  await assert.rejects(getPassword({ password: '' }, { env }), usage(/empty password from --password/));
});

test('sources are mutually exclusive', async () => {
  const msg = /^--password, --password-file and --password-prog are mutually exclusive$/;
  await assert.rejects(getPassword({ password: 'a', passwordFile: '/x' }, { env }), usage(msg));
  await assert.rejects(getPassword({ password: true, passwordProg: 'echo a' }, { env }), usage(msg));
  await assert.rejects(getPassword({ passwordFile: '/x', passwordProg: 'echo a' }, { env }), usage(msg));
  await assert.rejects(getPassword({ noPassword: true, password: 'a' }, { env }), usage(/--no-password cannot be combined/));
});

test('--no-password wins over the environment', async () => {
  assert.equal(await getPassword({ noPassword: true }, { env: { ...env, TARDIS_PASSWORD: 'x' } }), null);
});

test('--password-file: first line, trailing whitespace and CRLF stripped', async () => {
  const f = path.join(dir, 'pw.txt');
  fs.writeFileSync(f, ' pass word \t\r\nsecond line\r\n');
  assert.equal(await getPassword({ passwordFile: f }, { env }), ' pass word');
  assert.equal(await getPassword({ passwordFile: pathToFileURL(f).href }, { env }), ' pass word');
  const noNewline = path.join(dir, 'pw2.txt');
  fs.writeFileSync(noNewline, 'abc');
  assert.equal(await getPassword({ passwordFile: noNewline }, { env }), 'abc');
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '\nsecond\n');
  await assert.rejects(getPassword({ passwordFile: empty }, { env }), usage(/empty password from --password-file/));
  await assert.rejects(getPassword({ passwordFile: path.join(dir, 'nope') }, { env }), usage(/cannot read password file .*nope.*ENOENT/));
  await assert.rejects(getPassword({ passwordFile: 'https://example.com/pw' }, { env }), usage(/only local files/));
});

test('--password-file - reads the first line of stdin and leaves the rest', async () => {
  const stdin = notTty();
  stdin.write('from stdin\r\nrest');
  const pw = await getPassword({ passwordFile: '-' }, { env, stdin });
  assert.equal(pw, 'from stdin');
  stdin.end();
  assert.equal((await stdin.toArray()).join(''), 'rest');
  const eof = notTty();
  eof.end('only line');
  assert.equal(await getPassword({ passwordFile: '-' }, { env, stdin: eof }), 'only line');
});

test('--password-prog runs a real program (Tardis bug #5 fixed)', async () => {
  assert.equal(await getPassword({ passwordProg: 'echo secret' }, { env }), 'secret');
  assert.equal(await getPassword({ passwordProg: "printf 'two words \\r\\nsecond\\n'" }, { env }), 'two words');
  await assert.rejects(
    getPassword({ passwordProg: 'echo not-this; exit 3' }, { env }),
    usage(/^--password-prog: password program 'echo not-this; exit 3' exited with status 3$/),
  );
  await assert.rejects(getPassword({ passwordProg: 'true' }, { env }), usage(/password program 'true' printed no password/));
  await assert.rejects(getPassword({ passwordProg: 'kill -TERM $$' }, { env }), usage(/killed by SIGTERM/));
  await assert.rejects(getPassword({ passwordProg: 'no-such-program-xyz 2>/dev/null' }, { env }), usage(/exited with status 127/));
});

test('environment: explicit options first, then TARDIS_PASSWORD, _FILE, PWFILE, _PROG', async () => {
  const f1 = path.join(dir, 'env1');
  const f2 = path.join(dir, 'env2');
  fs.writeFileSync(f1, 'from-file\n');
  fs.writeFileSync(f2, 'from-pwfile\n');
  const all = {
    ...env,
    TARDIS_PASSWORD: 'from-env',
    TARDIS_PASSWORD_FILE: f1,
    TARDIS_PWFILE: f2,
    TARDIS_PASSWORD_PROG: 'echo from-prog',
  };
  const ctx = (e: NodeJS.ProcessEnv) => ({ env: e, stdin: notTty() });
  assert.equal(await getPassword({ password: 'cli' }, ctx(all)), 'cli');
  assert.equal(await getPassword({ passwordProg: 'echo cli-prog' }, ctx(all)), 'cli-prog');
  assert.equal(await getPassword({}, ctx(all)), 'from-env');
  assert.equal(await getPassword({}, ctx({ ...all, TARDIS_PASSWORD: '' })), 'from-file');
  assert.equal(await getPassword({}, ctx({ ...all, TARDIS_PASSWORD: undefined, TARDIS_PASSWORD_FILE: undefined })), 'from-pwfile');
  assert.equal(await getPassword({}, ctx({ ...env, TARDIS_PASSWORD_PROG: 'echo from-prog' })), 'from-prog');
  await assert.rejects(
    getPassword({}, ctx({ ...env, TARDIS_PASSWORD_FILE: path.join(dir, 'nope') })),
    usage(/^TARDIS_PASSWORD_FILE: cannot read password file/),
  );
});

test('config file: after the environment, before the system defaults file; its three keys exclude each other', async () => {
  const f = path.join(dir, 'cfg-pw');
  fs.writeFileSync(f, 'from-config-file\n');
  const sys = path.join(dir, 'system.defaults');
  const sysPw = path.join(dir, 'sys-pw');
  fs.writeFileSync(sysPw, 'from-system-defaults\n');
  fs.writeFileSync(sys, `[Tardis]\nTARDIS_PWFILE = ${sysPw}\n`);
  const e = { TARDIS_DEFAULTS: sys };
  const at = (k: string) => `t.cfg:3: ${k}`;
  const config = { passwordFile: { value: f, where: at('PasswordFile') } };
  assert.equal(await getPassword({}, { env: e, stdin: notTty(), config }), 'from-config-file');
  assert.equal(await getPassword({}, { env: { ...e, TARDIS_PASSWORD: 'env' }, stdin: notTty(), config }), 'env');
  assert.equal(await getPassword({ password: 'cli' }, { env: e, stdin: notTty(), config }), 'cli');
  assert.equal(await getPassword({}, { env: e, stdin: notTty(), config: { passwordProg: { value: 'echo prog', where: at('PasswordProg') } } }), 'prog');
  assert.equal(await getPassword({}, { env: e, stdin: notTty() }), 'from-system-defaults');
  await assert.rejects(
    getPassword({}, { env: e, stdin: notTty(), config: { ...config, password: { value: 'x', where: 't.cfg:2: Password' } } }),
    usage(/^t\.cfg:2: Password and t\.cfg:3: PasswordFile: Password, PasswordFile and PasswordProg are mutually exclusive$/),
  );
  await assert.rejects(
    getPassword({}, { env: e, stdin: notTty(), config: { passwordFile: { value: path.join(dir, 'nope'), where: at('PasswordFile') } } }),
    usage(/^t\.cfg:3: PasswordFile: cannot read password file/),
  );
});

test('nothing given and no terminal: error, or null when allowed', async () => {
  await assert.rejects(
    getPassword({}, { env, stdin: notTty() }),
    usage(/^no password given: use --password, --password-file, --password-prog or TARDIS_PASSWORD$/),
  );
  // Only when creating is --no-password a way out worth naming.
  await assert.rejects(
    getPassword({}, { env, stdin: notTty(), confirm: true }),
    usage(/^no password given: .* \(or --no-password to create an unprotected repository\)$/),
  );
  assert.equal(await getPassword({}, { env, stdin: notTty(), allowNone: true }), null);
});

test('prompt without echo on the terminal, with confirmation', async () => {
  const term = fakeTerminal();
  const stdin = Object.assign(notTty(), { isTTY: true });
  const p = getPassword({}, { env, stdin, confirm: true, openTerminal: () => term });
  term.type('hun\x7f\x7fello\x1b[D');
  term.type('\r');
  term.type('hello\r');
  assert.equal(await p, 'hello');
  assert.equal(term.shown(), 'Password: \nConfirm password: \n');
  assert.deepEqual(term.raw, [true, false]);
  assert.ok(term.closed);
});

test('prompt: both answers in one read, Ctrl-U, CRLF', async () => {
  const term = fakeTerminal();
  const p = promptPassword(term, { prompt: 'Key: ', confirm: true, timeoutMs: 0 });
  term.type('junk\x15pässwörd\r\npässwörd\n');
  assert.equal(await p, 'pässwörd');
});

test('prompt: mismatch, empty, Ctrl-C, Ctrl-D, timeout', async () => {
  const run = async (keys: string, confirm = false, timeoutMs = 0) => {
    const term = fakeTerminal();
    const p = promptPassword(term, { prompt: 'Password: ', confirm, timeoutMs });
    if (keys) term.type(keys);
    await p.finally(() => assert.ok(term.closed && term.raw.at(-1) === false, 'terminal restored and closed'));
  };
  await assert.rejects(run('one\rtwo\r', true), usage(/^passwords do not match$/));
  await assert.rejects(run('\r'), usage(/^empty password$/));
  await assert.rejects(run('abc\x03'), (e: unknown) => e instanceof UsageError && e.exitCode === 130);
  await assert.rejects(run('\x04'), usage(/end of input/));
  await assert.rejects(run('', false, 50), usage(/no password entered within/));
});

test('--password without a value prompts even when stdin is not a terminal', async () => {
  const term = fakeTerminal();
  const p = getPassword({ password: true }, { env, stdin: notTty(), openTerminal: () => term, prompt: 'Repo password: ' });
  term.type('x\r');
  assert.equal(await p, 'x');
  assert.equal(term.shown(), 'Repo password: \n');
});

test('TARDIS_PWTIMEOUT is checked', async () => {
  const term = fakeTerminal();
  await assert.rejects(
    getPassword({ password: true }, { env: { ...env, TARDIS_PWTIMEOUT: 'soon' }, openTerminal: () => term }),
    usage(/TARDIS_PWTIMEOUT: 'soon'/),
  );
});

// The real thing: a pseudo-terminal from util-linux `script`, /dev/tty, raw mode.
const haveScript = spawnSync('script', ['--version']).status === 0;

test('prompt on a real pseudo-terminal: no echo, mode restored', { skip: !haveScript && 'util-linux script not installed' }, async () => {
  const driver = path.join(dir, 'driver.mjs');
  const pwModule = pathToFileURL(path.join(import.meta.dirname, 'password.ts')).href;
  fs.writeFileSync(
    driver,
    `import { getPassword } from ${JSON.stringify(pwModule)};
import { execSync } from 'node:child_process';
try {
  const pw = await getPassword({}, { confirm: true, env: { TARDIS_DEFAULTS: '/nonexistent', TARDIS_PWTIMEOUT: process.env.TARDIS_PWTIMEOUT } });
  process.stdout.write('RESULT:' + JSON.stringify(pw) + '\\n');
} catch (e) {
  process.stdout.write('ERROR:' + e.message + ' exit=' + e.exitCode + '\\n');
}
const stty = execSync('stty -a', { stdio: ['inherit', 'pipe', 'pipe'] }).toString();
process.stdout.write('ECHO:' + (/(^|\\s)echo(\\s|$)/.test(stty) ? 'on' : 'off') + '\\n');
`,
  );
  const session = (steps: [string, string][], envExtra: Record<string, string> = {}) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(driver)}`, '/dev/null'], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, ...envExtra },
      });
      let out = '';
      let step = 0;
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`pty session stuck; output so far: ${JSON.stringify(out)}`));
      }, 20_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        // Type only after the prompt is shown, i.e. after raw mode is on.
        while (step < steps.length && out.split(steps[step][0]).length - 1 > countBefore(step)) {
          child.stdin.write(steps[step][1]);
          step++;
        }
      });
      const countBefore = (i: number) => steps.slice(0, i).filter(([w]) => w === steps[i][0]).length;
      child.on('close', () => {
        clearTimeout(timer);
        child.stdin.destroy();
        resolve(out);
      });
    });

  const ok = await session([
    ['Password: ', 'sekrit\r'],
    ['Confirm password: ', 'sekrit\r'],
  ]);
  assert.match(ok, /RESULT:"sekrit"/);
  assert.equal(ok.split('sekrit').length - 1, 1, `the password is never echoed: ${JSON.stringify(ok)}`);
  assert.match(ok, /ECHO:on/);

  const interrupted = await session([['Password: ', 'abc\x03']]);
  assert.match(interrupted, /ERROR:password entry interrupted exit=130/);
  assert.match(interrupted, /ECHO:on/);

  const timedOut = await session([], { TARDIS_PWTIMEOUT: '0.3' });
  assert.match(timedOut, /ERROR:no password entered within 0.3 seconds/);
  assert.match(timedOut, /ECHO:on/);
});
