// A repository as the server side sees it: the store (packs, snapshots, keys, config) plus the
// catalog. It holds no keys: everything secret arrives sealed by the client.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CatalogDb, SCHEMA_VERSION } from '../catalog/index.ts';
import { BackupLock } from './lock.ts';
import { NotFoundError, TardisError } from '../errors/errors.ts';
import type { AuthSetup, KeySlotData, RepoConfig } from '../model/session.ts';
import { authRecord, writeAuthRecord } from './login.ts';
import { LocalStore } from '../store/index.ts';

export class ServerRepository {
  readonly root: string;
  readonly client: string;
  readonly store: LocalStore;
  readonly db: CatalogDb;
  config: RepoConfig;

  private constructor(root: string, store: LocalStore, db: CatalogDb, config: RepoConfig) {
    this.root = root;
    this.client = root.split('/').filter(Boolean).pop() ?? root;
    this.store = store;
    this.db = db;
    this.config = config;
  }

  /** Creates a repository. The config file is written last: its presence means "complete". */
  static async create(root: string, config: RepoConfig, keySlot: KeySlotData): Promise<ServerRepository> {
    const store = await LocalStore.init(root);
    // A backup of the disk that holds the repository leaves the repository out (reference §7).
    await writeFile(join(root, '.tardis-skip'), 'This directory is a Tardis repository; backups leave it out.\n');
    await store.put('keys', `${config.id.slice(0, 16)}-0`, Buffer.from(JSON.stringify(keySlot, null, 1)));
    const db = await CatalogDb.open(join(root, 'catalog.db'), { create: true });
    try {
      await store.put('config', 'config', Buffer.from(JSON.stringify(config, null, 1) + '\n'));
    } catch (err) {
      db.close();
      throw err;
    }
    return new ServerRepository(root, store, db, config);
  }

  static async open(root: string, opts: { allowUpgrade?: boolean } = {}): Promise<ServerRepository> {
    const config = await readConfig(root);
    // Opening would create an empty catalog: every set would vanish and gc would take every
    // pack for garbage. The config is written after the catalog, so this is a lost catalog.
    if (!existsSync(join(root, 'catalog.db'))) throw new TardisError(`the catalog of ${root} is missing: recreate it with \`sonic rebuild\``);
    const store = new LocalStore(root);
    await store.cleanTmp();
    const db = await CatalogDb.open(join(root, 'catalog.db'), { allowUpgrade: opts.allowUpgrade });
    return new ServerRepository(root, store, db, config);
  }

  /**
   * Upgrades the catalog to this version's schema (`sonic upgrade`) under the backup lock, after
   * copying it to catalog.db.schema-N, the way back should the new version misbehave.
   */
  static async upgrade(root: string): Promise<{ from: number; to: number; saved: string | null }> {
    await readConfig(root);
    const lock = await BackupLock.acquire(root, `upgrade-${randomBytes(6).toString('hex')}`);
    try {
      const file = join(root, 'catalog.db');
      let from = SCHEMA_VERSION;
      let saved: string | null = null;
      const db = await CatalogDb.open(file, {
        allowUpgrade: true,
        beforeUpgrade: async (v) => {
          from = v;
          saved = `${file}.schema-${v}`;
          await copyFile(file, saved);
          const fh = await open(saved, 'r');
          await fh.sync().finally(() => fh.close());
        },
      });
      db.close();
      return { from, to: SCHEMA_VERSION, saved };
    } finally {
      await lock.release();
    }
  }

  /**
   * Config and key slots only, read without writing anything (no catalog, no tmp cleanup), so a
   * client can check its password before the repository is opened for writing.
   */
  static async inspect(root: string): Promise<{ config: RepoConfig; keySlots: KeySlotData[] }> {
    const config = await readConfig(root);
    return { config, keySlots: await keySlotsOf(new LocalStore(root)) };
  }

  keySlots(): Promise<KeySlotData[]> {
    return keySlotsOf(this.store);
  }

  /**
   * Replaces every key slot (and the login, if given). Crash-safe in this order: the new slots
   * are written first, then the config and login, and only then do the old slots go; a crash
   * in between leaves old and new password both working, never neither.
   */
  async replaceKeys(slots: KeySlotData[], encrypted: boolean, login?: AuthSetup): Promise<void> {
    const old: string[] = [];
    for await (const name of this.store.list('keys')) old.push(name);
    for (const slot of slots) {
      await this.store.put('keys', `${this.config.id.slice(0, 16)}-${randomBytes(6).toString('hex')}`, Buffer.from(JSON.stringify(slot, null, 1)));
    }
    if (encrypted !== this.config.encrypted) {
      const config = { ...this.config, encrypted };
      await this.store.put('config', 'config', Buffer.from(JSON.stringify(config, null, 1) + '\n'));
      this.config = config;
    }
    if (login) await writeAuthRecord(this.root, authRecord(login));
    for (const name of old) await this.store.remove('keys', name);
  }

  close(): void {
    this.db.close();
  }
}

async function readConfig(root: string): Promise<RepoConfig> {
  let text: string;
  try {
    text = await readFile(join(root, 'config'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`no repository at ${root} (create one with --create or \`sonic create\`)`);
    }
    throw new TardisError(`cannot read repository config at ${root}: ${(err as Error).message}`);
  }
  let config: RepoConfig;
  try {
    config = JSON.parse(text) as RepoConfig;
  } catch {
    throw new TardisError(`repository config at ${root} is damaged`);
  }
  if (config.version !== 1) throw new TardisError(`repository format ${config.version} is not supported by this version`);
  return config;
}

async function keySlotsOf(store: LocalStore): Promise<KeySlotData[]> {
  const out: KeySlotData[] = [];
  for await (const name of store.list('keys')) {
    out.push(JSON.parse((await store.get('keys', name)).toString('utf8')) as KeySlotData);
  }
  return out;
}
