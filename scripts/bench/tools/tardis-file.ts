// tardis to a local `file:` repository (the engine in-process, no server).
import path from 'node:path';
import type { CommandSpec } from '../measure.ts';
import { cleanEnv, type Tool, type ToolContext, versionOf } from './adapter.ts';

/** The tardis commands shared by the file: and the tardisd adapters; only the URL differs. */
export abstract class TardisBase implements Tool {
  abstract readonly name: 'tardis-file' | 'tardis-server';
  abstract readonly label: string;
  version = '';
  protected readonly ctx: ToolContext;
  /** Set when the repository is created by the first backup (--create). */
  protected createOnFirstBackup = false;

  constructor(ctx: ToolContext) {
    this.ctx = ctx;
  }

  protected bin(tool: string): string {
    return path.join(this.ctx.settings.root, 'bin', tool);
  }

  protected abstract url(): string;

  protected spec(tool: string, args: string[], okCodes: number[] = []): CommandSpec {
    return { argv: [this.bin(tool), ...args], env: cleanEnv({ TARDIS_PASSWORD: this.ctx.password }), okCodes };
  }

  async prepare(): Promise<string | null> {
    const v = versionOf(this.bin('tardis'), ['--version']);
    if (!v.ok) return `bin/tardis --version failed (${v.line}); run make build`;
    this.version = v.line;
    return null;
  }

  abstract repoDir(): string;

  cacheDir(): string | null {
    return null; // the client keeps no cache
  }

  init(): CommandSpec | null {
    return this.spec('sonic', ['create', '-R', this.url()]);
  }

  backup(n: number): CommandSpec {
    const create = n === 1 && this.createOnFirstBackup ? ['--create'] : [];
    // Exit 3: the set completed but a file could not be read; counted as a completed backup.
    return this.spec('tardis', ['-R', this.url(), ...create, '--name', `bench-${n}`, '--stats', this.ctx.dataset.root], [3]);
  }

  list(): CommandSpec {
    return this.spec('sonic', ['list', '-R', this.url()]);
  }

  restore(target: string): CommandSpec {
    return this.spec('regenerate', ['-R', this.url(), '-o', target, this.ctx.dataset.root]);
  }

  restoredRoot(target: string): string {
    return path.join(target, path.basename(this.ctx.dataset.root));
  }
}

export class TardisFile extends TardisBase {
  readonly name = 'tardis-file' as const;
  readonly label = 'tardis file:';

  protected url(): string {
    return `file:${this.repoDir()}`;
  }

  repoDir(): string {
    return path.join(this.ctx.dir, 'repo', 'bench');
  }
}
