// A repository as the server side sees it: the store (packs, snapshots, keys, config) plus the
// catalog. It holds no keys: everything secret arrives sealed by the client.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CatalogDb } from '../catalog/index.ts';
import { NotFoundError, TardisError } from '../errors/errors.ts';
import type { KeySlotData, RepoConfig } from '../model/session.ts';
import { LocalStore } from '../store/index.ts';

export class ServerRepository {
  readonly root: string;
  readonly client: string;
  readonly store: LocalStore;
  readonly db: CatalogDb;
  readonly config: RepoConfig;

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
    const db = await CatalogDb.open(`file:${join(root, 'catalog.db')}`, { create: true });
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
    const store = new LocalStore(root);
    await store.cleanTmp();
    const db = await CatalogDb.open(`file:${join(root, 'catalog.db')}`, { allowUpgrade: opts.allowUpgrade });
    return new ServerRepository(root, store, db, config);
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
