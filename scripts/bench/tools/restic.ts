// restic with its default settings (repository format and compression as `restic init` picks
// them); its cache stays in the work directory between steps, as in normal use.
import path from 'node:path';
import type { CommandSpec } from '../measure.ts';
import { cleanEnv, type Tool, type ToolContext, versionOf } from './adapter.ts';

export class Restic implements Tool {
  readonly name = 'restic' as const;
  readonly label = 'restic';
  version = '';
  readonly #ctx: ToolContext;

  constructor(ctx: ToolContext) {
    this.#ctx = ctx;
  }

  #spec(args: string[]): CommandSpec {
    return {
      argv: ['restic', ...args],
      env: cleanEnv({ RESTIC_REPOSITORY: this.repoDir(), RESTIC_PASSWORD: this.#ctx.password, RESTIC_CACHE_DIR: this.cacheDir() }),
    };
  }

  async prepare(): Promise<string | null> {
    const v = versionOf('restic', ['version']);
    if (!v.ok) return 'restic is not installed (apt-get install restic)';
    this.version = v.line;
    return null;
  }

  repoDir(): string {
    return path.join(this.#ctx.dir, 'repo');
  }

  cacheDir(): string {
    return path.join(this.#ctx.dir, 'cache');
  }

  init(): CommandSpec {
    return this.#spec(['init']);
  }

  backup(): CommandSpec {
    return this.#spec(['backup', '--quiet', this.#ctx.dataset.root]);
  }

  list(): CommandSpec {
    return this.#spec(['snapshots']);
  }

  restore(target: string): CommandSpec {
    return this.#spec(['restore', 'latest', '--target', target]);
  }

  restoredRoot(target: string): string {
    return path.join(target, this.#ctx.dataset.root);
  }
}
