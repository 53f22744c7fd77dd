// Where the repository password comes from (reference §0.4), with Tardis bug #5 fixed
// (--password-prog works) and the interactive prompt done without echo on /dev/tty.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';
import { PasswordUnavailableError, UsageError } from '../errors/errors.ts';
import { getDefault, systemDefault } from './defaults.ts';
import { parseDuration } from './duration.ts';

export interface PasswordOptions {
  /** A string is the password; `true` (--password without a value) asks for it. */
  password?: string | true;
  passwordFile?: string;
  passwordProg?: string;
  noPassword?: boolean;
}

/** A terminal to prompt on: /dev/tty normally, fake streams in tests. */
export interface PromptTerminal {
  input: NodeJS.ReadableStream & { setRawMode?(raw: boolean): unknown };
  output: NodeJS.WritableStream;
  close(): void;
}

export interface GetPasswordContext {
  /** Ask twice when prompting (new repository, new password). */
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
  prompt?: string;
  /** Return null instead of failing when no source is given and there is no terminal. */
  allowNone?: boolean;
  /** Stands in for process.stdin: its isTTY decides whether to prompt; `--password-file -` reads it. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Opens the terminal to prompt on (default: /dev/tty). */
  openTerminal?: () => PromptTerminal;
  /** The config file's Password, PasswordFile, PasswordProg: after the environment, before system defaults. */
  config?: { password?: Configured; passwordFile?: Configured; passwordProg?: Configured };
  /** Seconds a prompt waits (default: TARDIS_PWTIMEOUT). */
  timeoutSeconds?: number;
}

/** A value from a config file and where it is ("tardis.cfg:4: Password"). */
export interface Configured {
  value: string;
  where: string;
}

const NO_PASSWORD = 'no password given: use --password, --password-file, --password-prog or TARDIS_PASSWORD';
// Only when creating does --no-password make sense as a way out.
const NO_PASSWORD_CREATE = `${NO_PASSWORD} (or --no-password to create an unprotected repository)`;

/**
 * Find the password: --password / --password-file / --password-prog (mutually exclusive),
 * else TARDIS_PASSWORD, TARDIS_PASSWORD_FILE (or TARDIS_PWFILE), TARDIS_PASSWORD_PROG, else a
 * prompt when stdin is a terminal. Returns null for --no-password, or with `allowNone` when
 * nothing was given. Throws UsageError for conflicts, empty passwords and failing sources.
 */
export async function getPassword(opts: PasswordOptions, ctx: GetPasswordContext = {}): Promise<string | null> {
  const env = ctx.env ?? process.env;
  const stdin = ctx.stdin ?? process.stdin;
  const given = [opts.password !== undefined, opts.passwordFile !== undefined, opts.passwordProg !== undefined];
  if (given.filter(Boolean).length > 1) {
    throw new UsageError('--password, --password-file and --password-prog are mutually exclusive');
  }
  if (opts.noPassword) {
    if (given.some(Boolean)) {
      throw new UsageError('--no-password cannot be combined with --password, --password-file or --password-prog');
    }
    return null; // explicit: neither the environment nor a prompt can override it
  }
  const prompt = (): Promise<string> =>
    promptPassword((ctx.openTerminal ?? openDevTty)(), {
      prompt: ctx.prompt ?? 'Password: ',
      confirm: ctx.confirm ?? false,
      timeoutMs: ctx.timeoutSeconds !== undefined ? ctx.timeoutSeconds * 1000 : promptTimeout(env),
    });

  if (opts.password === true) return prompt();
  if (opts.password !== undefined) return nonEmpty(opts.password, '--password');
  if (opts.passwordFile !== undefined) return readPasswordFile(opts.passwordFile, stdin, '--password-file');
  if (opts.passwordProg !== undefined) return runPasswordProg(opts.passwordProg, '--password-prog');

  // Empty variables count as unset, as a shell user expects of `TARDIS_PASSWORD=`.
  if (env.TARDIS_PASSWORD) return env.TARDIS_PASSWORD;
  if (env.TARDIS_PASSWORD_FILE) return readPasswordFile(env.TARDIS_PASSWORD_FILE, stdin, 'TARDIS_PASSWORD_FILE');
  if (env.TARDIS_PWFILE) return readPasswordFile(env.TARDIS_PWFILE, stdin, 'TARDIS_PWFILE');
  if (env.TARDIS_PASSWORD_PROG) return runPasswordProg(env.TARDIS_PASSWORD_PROG, 'TARDIS_PASSWORD_PROG');

  const cfg = ctx.config ?? {};
  const configured = [cfg.password, cfg.passwordFile, cfg.passwordProg].filter((c) => c !== undefined);
  if (configured.length > 1) {
    throw new UsageError(`${configured.map((c) => c.where).join(' and ')}: Password, PasswordFile and PasswordProg are mutually exclusive`);
  }
  if (cfg.password) return nonEmpty(cfg.password.value, cfg.password.where);
  if (cfg.passwordFile) return readPasswordFile(cfg.passwordFile.value, stdin, cfg.passwordFile.where);
  if (cfg.passwordProg) return runPasswordProg(cfg.passwordProg.value, cfg.passwordProg.where);

  const pwfile = systemDefault('TARDIS_PWFILE', env);
  if (pwfile) return readPasswordFile(pwfile, stdin, 'TARDIS_PWFILE (system defaults)');

  if (stdin.isTTY) return prompt();
  if (ctx.allowNone) return null;
  throw new PasswordUnavailableError(ctx.confirm ? NO_PASSWORD_CREATE : NO_PASSWORD);
}

function nonEmpty(pw: string, source: string): string {
  if (pw === '') throw new PasswordUnavailableError(`empty password from ${source}`);
  return pw;
}

/** The first line, without trailing whitespace (so CRLF files and `echo` output work). */
function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return (nl < 0 ? text : text.slice(0, nl)).replace(/\s+$/, '');
}

function promptTimeout(env: NodeJS.ProcessEnv): number {
  const v = getDefault('TARDIS_PWTIMEOUT', env);
  try {
    return parseDuration(v);
  } catch {
    throw new UsageError(`TARDIS_PWTIMEOUT: '${v}' is not a number of seconds`);
  }
}

async function readPasswordFile(spec: string, stdin: NodeJS.ReadableStream, source: string): Promise<string> {
  let text: string;
  if (spec === '-') {
    text = await readFirstLine(stdin);
  } else {
    let file = spec;
    if (/^(https?|ftp):\/\//i.test(spec)) {
      throw new UsageError(`${source}: only local files are supported, not '${spec}'`);
    }
    if (/^file:/i.test(spec)) {
      try {
        file = fileURLToPath(spec);
      } catch (e) {
        throw new UsageError(`${source}: bad file URL '${spec}': ${(e as Error).message}`);
      }
    }
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new PasswordUnavailableError(`${source}: cannot read password file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return nonEmpty(firstLine(text), spec === '-' ? `${source} - (standard input)` : `${source} '${spec}'`);
}

/** Read up to the first newline (or EOF); what follows it is pushed back for later readers. */
function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (err?: Error): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.pause();
      if (err) return reject(new PasswordUnavailableError(`cannot read the password from standard input: ${err.message}`));
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(0x0a);
      if (nl >= 0 && nl + 1 < all.length) stream.unshift(all.subarray(nl + 1));
      resolve((nl < 0 ? all : all.subarray(0, nl)).toString('utf8'));
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      if (b.includes(0x0a)) finish();
    };
    const onEnd = (): void => finish();
    const onError = (e: Error): void => finish(e);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}

/** Run CMD with /bin/sh -c; its stdin and stderr stay ours so it can ask the user itself. */
function runPasswordProg(cmd: string, source: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['inherit', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (e) => reject(new PasswordUnavailableError(`${source}: cannot run '${cmd}': ${e.message}`)));
    child.on('close', (code, signal) => {
      if (signal) return reject(new PasswordUnavailableError(`${source}: password program '${cmd}' was killed by ${signal}`));
      if (code !== 0) return reject(new PasswordUnavailableError(`${source}: password program '${cmd}' exited with status ${code}`));
      const pw = firstLine(Buffer.concat(chunks).toString('utf8'));
      if (pw === '') return reject(new PasswordUnavailableError(`${source}: password program '${cmd}' printed no password`));
      resolve(pw);
    });
  });
}

function openDevTty(): PromptTerminal {
  let inFd: number;
  let outFd: number;
  try {
    inFd = fs.openSync('/dev/tty', 'r');
  } catch (e) {
    throw new PasswordUnavailableError(`cannot ask for the password: no terminal (${(e as NodeJS.ErrnoException).code}); use --password-file or --password-prog`);
  }
  try {
    outFd = fs.openSync('/dev/tty', 'w');
  } catch (e) {
    fs.closeSync(inFd);
    throw new PasswordUnavailableError(`cannot ask for the password: no terminal (${(e as NodeJS.ErrnoException).code})`);
  }
  // Separate descriptors: each stream closes its own.
  const input = new tty.ReadStream(inFd);
  const output = new tty.WriteStream(outFd);
  return {
    input,
    output,
    close() {
      input.destroy();
      output.destroy();
    },
  };
}

export interface PromptOptions {
  prompt: string;
  confirm: boolean;
  /** 0 = wait forever. */
  timeoutMs: number;
}

/**
 * Ask for a password on a terminal without echo (raw mode, so the characters never reach
 * the screen), once or twice with confirmation. Handles backspace, Ctrl-U, Ctrl-C (exit
 * code 130) and Ctrl-D. Closes the terminal when done.
 */
export function promptPassword(term: PromptTerminal, opts: PromptOptions): Promise<string> {
  const { input, output } = term;
  const prompts = opts.confirm ? [opts.prompt, 'Confirm password: '] : [opts.prompt];
  const answers: string[] = [];
  let line = '';
  let timer: NodeJS.Timeout | undefined;
  const decoder = new StringDecoder('utf8');
  let settled = false;

  return new Promise<string>((resolve, reject) => {
    const cleanup = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onEnd);
      input.setRawMode?.(false);
      output.write('\n');
      term.close();
    };
    const fail = (msg: string, exitCode = 1): void => {
      if (settled) return;
      cleanup();
      const err = new UsageError(msg);
      err.exitCode = exitCode;
      reject(err);
    };
    const ask = (): void => {
      line = '';
      output.write(prompts[answers.length]);
      if (timer) clearTimeout(timer);
      if (opts.timeoutMs > 0) {
        timer = setTimeout(() => fail(`no password entered within ${Number((opts.timeoutMs / 1000).toFixed(1))} seconds`), opts.timeoutMs);
      }
    };
    const enter = (): boolean => {
      answers.push(line);
      if (answers.length < prompts.length) {
        output.write('\n');
        ask();
        return false;
      }
      if (answers[0] === '') fail('empty password');
      else if (answers.some((a) => a !== answers[0])) fail('passwords do not match');
      else {
        cleanup();
        resolve(answers[0]);
      }
      return true;
    };
    const onData = (chunk: Buffer | string): void => {
      if (settled) return;
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === '\r' || c === '\n') {
          if (c === '\n' && text[i - 1] === '\r') continue;
          if (enter()) return;
        } else if (c === '\u0003') {
          return fail('password entry interrupted', 130);
        } else if (c === '\u0004') {
          if (line === '') return fail('no password entered (end of input)');
          if (enter()) return;
        } else if (c === '\u007f' || c === '\b') {
          line = Array.from(line).slice(0, -1).join('');
        } else if (c === '\u0015') {
          line = '';
        } else if (c === '\u001b') {
          break; // an escape sequence (arrow keys...): drop the rest of this read
        } else if (c >= ' ') {
          line += c;
        }
      }
    };
    const onEnd = (): void => fail('no password entered (end of input)');
    input.setRawMode?.(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onEnd);
    input.resume();
    ask();
  });
}
