// The catalog database: one SQLite file (see sql.ts for why libsql's synchronous API). Reads are
// set-based (JSON in, JSON out); bulk writes are single-row statements prepared once.
import { DiskFullError, TardisError } from '../errors/errors.ts';
import { loadMigrations } from './migrations.ts';
import { SqlConn, type ResultSet, type SqlValue, type Stmt } from './sql.ts';

export type { ResultSet, SqlValue, Stmt } from './sql.ts';

export const SCHEMA_VERSION = 2;

// TARDIS_SQL_PROFILE=1 prints, at exit, the time spent per statement: the catalog is the usual
// suspect when a backup is slow.
const profile = process.env.TARDIS_SQL_PROFILE ? new Map<string, [number, number]>() : null;
if (profile) {
  process.on('exit', () => {
    const rows = [...profile].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25);
    for (const [sql, [n, ms]] of rows) process.stderr.write(`${ms.toFixed(0).padStart(7)} ms ${String(n).padStart(7)}x  ${sql.replace(/\s+/g, ' ').slice(0, 110)}\n`);
  });
}

/** SQLite's "disk full" and I/O failures as the one-line errors the rest of the program reports. */
function catalogError(err: unknown): unknown {
  const code = String((err as { code?: unknown })?.code ?? '');
  const message = (err as Error)?.message ?? String(err);
  if (code.startsWith('SQLITE_FULL')) return new DiskFullError(`repository disk full: catalog: ${message}`, { cause: err });
  if (code.startsWith('SQLITE_IOERR')) return new TardisError(`catalog I/O error (disk full or failing?): ${message}`, { cause: err });
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) return new TardisError(`catalog is damaged: ${message}`, { cause: err });
  return err;
}

function timed<T>(sql: string, run: () => T): T {
  const t0 = profile ? performance.now() : 0;
  try {
    return run();
  } catch (err) {
    throw catalogError(err);
  } finally {
    if (profile) {
      const e = profile.get(sql) ?? [0, 0];
      profile.set(sql, [e[0] + 1, e[1] + performance.now() - t0]);
    }
  }
}

export class CatalogDb {
  readonly #conn: SqlConn;
  // synchronous=NORMAL is left set between lazy batches (a backup runs thousands of them);
  // anything else that may write puts FULL back first.
  #lazy = false;

  private constructor(conn: SqlConn) {
    this.#conn = conn;
  }

  /** Opens (and with `create`, creates) the catalog file, applying pending migrations. */
  static async open(file: string, opts: { create?: boolean; allowUpgrade?: boolean; beforeUpgrade?: (from: number) => Promise<void> } = {}): Promise<CatalogDb> {
    let conn: SqlConn;
    try {
      conn = new SqlConn(file);
    } catch (err) {
      throw catalogError(err);
    }
    const db = new CatalogDb(conn);
    try {
      // busy_timeout first: opening a WAL database while other processes open it too (several
      // restores at once) can meet a lock, and without a busy handler that is SQLITE_BUSY.
      conn.exec('PRAGMA busy_timeout=10000');
      conn.exec('PRAGMA journal_mode=WAL');
      conn.exec('PRAGMA synchronous=FULL');
      conn.exec('PRAGMA foreign_keys=ON');
      await db.migrate(opts.create === true || opts.allowUpgrade !== false, opts.beforeUpgrade);
    } catch (err) {
      conn.close();
      throw catalogError(err);
    }
    return db;
  }

  version(): number {
    const c = this.#conn;
    c.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)');
    return Number(c.execute('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').rows[0]!.v);
  }

  private async migrate(allow: boolean, before?: (from: number) => Promise<void>): Promise<void> {
    const current = this.version();
    const pending = loadMigrations().filter((m) => m.version > current);
    if (current > SCHEMA_VERSION) {
      throw new TardisError(`catalog schema ${current} is newer than this program supports (${SCHEMA_VERSION}): upgrade tardis`);
    }
    if (pending.length === 0) return;
    if (current > 0 && !allow) {
      throw new TardisError(`catalog schema ${current} is older than ${SCHEMA_VERSION}: run \`sonic upgrade\` (then older versions of tardis cannot read it)`);
    }
    if (current > 0 && before) {
      // The whole catalog in the main file, so a copy of that file is a complete backup.
      this.#conn.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      await before(current);
    }
    for (const m of pending) {
      // One transaction per migration: a crash leaves the previous version intact.
      try {
        this.#conn.transaction(() => {
          this.#conn.exec(m.sql);
          this.#conn.execute({ sql: 'INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)', args: [m.version, m.name, Date.now()] });
        });
      } catch (err) {
        throw new TardisError(`catalog migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  async execute(sql: string, args: SqlValue[] = []): Promise<ResultSet> {
    this.#durable(true);
    return timed(sql, () => this.#conn.execute({ sql, args }));
  }

  #durable(on: boolean): void {
    if (this.#lazy !== on) return;
    this.#conn.exec(on ? 'PRAGMA synchronous=FULL' : 'PRAGMA synchronous=NORMAL');
    this.#lazy = !on;
  }

  /** Runs one read-only statement whose single row/column is JSON and parses it. */
  async json<T>(sql: string, args: SqlValue[] = []): Promise<T> {
    const v = timed(sql, () => this.#conn.execute({ sql, args })).rows[0]?.[0];
    return JSON.parse(typeof v === 'string' ? v : 'null') as T;
  }

  /**
   * Runs statements atomically in one transaction, durable when it returns. With `lazy`, the
   * commit skips the fsync: still atomic and crash-consistent (WAL), but a power cut may undo it
   * until the next durable commit, which syncs everything before it too. A backup's many small
   * commits are lazy and the commit that completes the set is durable.
   */
  async batch(stmts: Stmt[], opts: { lazy?: boolean } = {}): Promise<ResultSet[]> {
    this.#durable(opts.lazy !== true);
    // Profiling times each statement on its own line (and the whole batch as 'batch').
    return timed('batch', () => this.#conn.batch(stmts, profile ? (s, run) => timed(typeof s === 'string' ? s : s.sql, run) : undefined));
  }

  /**
   * Moves the write-ahead log into the database file and empties it. Called after a backup or a
   * gc, so a repository at rest is one file; best effort (a reader may hold the log).
   */
  async checkpoint(): Promise<void> {
    this.#durable(true);
    try {
      this.#conn.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // a reader holding the log keeps it; the next checkpoint takes it
    }
  }

  close(): void {
    this.#conn.close();
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
