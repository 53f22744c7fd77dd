// borg with zstd compression and authenticated encryption (repokey-blake2, which Debian 12's
// borg 1.2 supports). BORG_BASE_DIR keeps its cache, keys and security data in the work directory.
import path from 'node:path';
import type { CommandSpec } from '../measure.ts';
import { cleanEnv, type Tool, type ToolContext, versionOf } from './adapter.ts';

export class Borg implements Tool {
  readonly name = 'borg' as const;
  readonly label = 'borg';
  version = '';
  readonly #ctx: ToolContext;
  #last = 1;

  constructor(ctx: ToolContext) {
    this.#ctx = ctx;
  }

  #spec(args: string[], cwd?: string): CommandSpec {
    return {
      argv: ['borg', ...args],
      cwd,
      env: cleanEnv({
        BORG_REPO: this.repoDir(),
        BORG_PASSPHRASE: this.#ctx.password,
        BORG_BASE_DIR: this.cacheDir(),
        BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
      }),
    };
  }

  async prepare(): Promise<string | null> {
    const v = versionOf('borg', ['--version']);
    if (!v.ok) return 'borg is not installed (apt-get install borgbackup)';
    this.version = v.line;
    return null;
  }

  repoDir(): string {
    return path.join(this.#ctx.dir, 'repo');
  }

  cacheDir(): string {
    return path.join(this.#ctx.dir, 'base');
  }

  init(): CommandSpec {
    return this.#spec(['init', '--encryption', 'repokey-blake2']);
  }

  backup(n: number): CommandSpec {
    this.#last = n;
    return this.#spec(['create', '--compression', 'zstd', `::bench-${n}`, this.#ctx.dataset.root]);
  }

  list(): CommandSpec {
    return this.#spec(['list']);
  }

  /** The newest archive; borg extracts below the current directory, paths without their leading slash. */
  restore(target: string): CommandSpec {
    return this.#spec(['extract', `::bench-${this.#last}`], target);
  }

  restoredRoot(target: string): string {
    return path.join(target, this.#ctx.dataset.root);
  }
}
