// The catalog database: @libsql/client over a file: URL (a libSQL server URL works the same).
// Every access is set-based (JSON in, JSON out): each client call costs ~80 µs.
import { createClient, type Client, type InStatement, type InValue, type ResultSet } from '@libsql/client';
import { TardisError } from '../errors/errors.ts';
import { loadMigrations } from './migrations.ts';

export const SCHEMA_VERSION = 1;

export class CatalogDb {
  readonly client: Client;
  readonly url: string;

  private constructor(client: Client, url: string) {
    this.client = client;
    this.url = url;
  }

  /** Opens (and with `create`, creates) the catalog, applying pending migrations. */
  static async open(url: string, opts: { create?: boolean; allowUpgrade?: boolean } = {}): Promise<CatalogDb> {
    const client = createClient({ url });
    const db = new CatalogDb(client, url);
    try {
      if (url.startsWith('file:')) {
        await client.execute('PRAGMA journal_mode=WAL');
        await client.execute('PRAGMA synchronous=FULL');
        await client.execute('PRAGMA busy_timeout=10000');
      }
      await client.execute('PRAGMA foreign_keys=ON');
      await db.migrate(opts.create === true || opts.allowUpgrade !== false);
    } catch (err) {
      client.close();
      throw err;
    }
    return db;
  }

  async version(): Promise<number> {
    await this.client.execute(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)',
    );
    const rs = await this.client.execute('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    return Number(rs.rows[0]!.v);
  }

  private async migrate(allow: boolean): Promise<void> {
    const current = await this.version();
    const pending = loadMigrations().filter((m) => m.version > current);
    if (current > SCHEMA_VERSION) {
      throw new TardisError(`catalog schema ${current} is newer than this program supports (${SCHEMA_VERSION}): upgrade tardis`);
    }
    if (pending.length === 0) return;
    if (current > 0 && !allow) {
      throw new TardisError(`catalog schema ${current} is older than ${SCHEMA_VERSION}: run \`sonic upgrade\``);
    }
    for (const m of pending) {
      // One transaction per migration: a crash leaves the previous version intact.
      const tx = await this.client.transaction('write');
      try {
        await tx.executeMultiple(m.sql);
        await tx.execute({
          sql: 'INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)',
          args: [m.version, m.name, Date.now()],
        });
        await tx.commit();
      } catch (err) {
        tx.close();
        throw new TardisError(`catalog migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  execute(sql: string, args: InValue[] = []): Promise<ResultSet> {
    return this.client.execute({ sql, args });
  }

  /** Runs one statement whose single row/column is JSON and parses it. */
  async json<T>(sql: string, args: InValue[] = []): Promise<T> {
    const rs = await this.client.execute({ sql, args });
    const v = rs.rows[0]?.[0];
    return JSON.parse(typeof v === 'string' ? v : 'null') as T;
  }

  /** Runs statements atomically in one transaction. */
  batch(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.client.batch(stmts, 'write');
  }

  close(): void {
    this.client.close();
  }
}

export function hex(b: Uint8Array | null | undefined): string | null {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : null;
}

/**
 * SQL for a nullable blob column as hex text. SQLite's hex(NULL) is '', which would read back
 * as an empty buffer and turn "no owner name" into an undecryptable one.
 */
export function hexCol(col: string): string {
  return `iif(${col} IS NULL, NULL, hex(${col}))`;
}

export function unhex(s: string | null | undefined): Buffer | null {
  return s == null ? null : Buffer.from(s, 'hex');
}
