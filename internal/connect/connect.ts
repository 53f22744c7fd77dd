// Opens a repository by URL for a client: a session (in-process for file:, over the protocol
// for tardisd: tardis://, unix:, ssh://) plus the keyring unlocked by the password.
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { DEFAULT_CHUNKER, validateChunkerParams, type ChunkerParams } from '../chunker/index.ts';
import { getDefault } from '../config/defaults.ts';
import { parseDuration } from '../config/duration.ts';
import { parseRepositoryUrl, type RepoUrl } from '../config/url.ts';
import { createKeySlot, generateMasterKeys, openAnyKeySlot, type KeySlot, type MasterKeys } from '../crypto/index.ts';
import { UsageError } from '../errors/errors.ts';
import { Keyring } from '../keyring/keyring.ts';
import type { KeySlotData, RepoConfig, RepoSession } from '../model/session.ts';
import type { RepoPolicy } from '../retention/policy.ts';
import { keyFileSlots } from './keyfile.ts';
import type { CompressAlg } from '../compress/index.ts';
import { ConnectionError } from '../protocol/errors.ts';
import type { Connection as ProtocolConnection } from '../protocol/connection.ts';
import { authRecord, makeAuthSetup, writeAuthRecord } from '../remote/auth.ts';
import { RemoteSession } from '../remote/client.ts';
import { createRemote, dial, login, type DialOptions } from '../remote/dial.ts';
import { ServerRepository } from '../server/repository.ts';
import { RepositorySession } from '../server/session.ts';

export { serveConnection, RepositoryHost, type HostOptions, type HostLog } from '../remote/host.ts';

export interface Connection {
  url: RepoUrl;
  session: RepoSession;
  keyring: Keyring;
}

/** How to reach a tardisd (ignored for file: repositories), and where the keys are. */
export interface OpenOptions extends DialOptions {
  /** A key file (--keys) holding the repository's key slots, tried before the repository's own. */
  keyFile?: string;
  /** file: repositories: the policy the client's config gives (a tardisd has its own). */
  policy?: RepoPolicy;
}

export interface CreateOptions extends OpenOptions {
  aead?: RepoConfig['aead'];
  compression?: CompressAlg;
  chunker?: ChunkerParams;
  /** scrypt cost of the key slot and the login verifier (tests use a small one). */
  scryptN?: number;
}

type NetUrl = Exclude<RepoUrl, { kind: 'file' } | { kind: 'http' }>;

function network(url: RepoUrl): NetUrl {
  if (url.kind === 'http') throw new UsageError('http(s): repositories need tardisremote, which this build does not support yet');
  return url as NetUrl;
}

/** Defaults from TARDIS_VALIDATE_CERTS and TARDIS_TIMEOUT (a silent server is given up after it). */
function dialOptions(opts: OpenOptions): DialOptions {
  const env = opts.env ?? process.env;
  let idleTimeoutMs = opts.limits?.idleTimeoutMs;
  if (idleTimeoutMs === undefined) {
    try {
      idleTimeoutMs = parseDuration(getDefault('TARDIS_TIMEOUT', env));
    } catch {
      throw new UsageError(`TARDIS_TIMEOUT: '${getDefault('TARDIS_TIMEOUT', env)}' is not a duration`);
    }
  }
  return {
    ...opts,
    validateCerts: opts.validateCerts ?? /^(1|true|yes|on)$/i.test(getDefault('TARDIS_VALIDATE_CERTS', env)),
    limits: { ...opts.limits, idleTimeoutMs: idleTimeoutMs > 0 ? idleTimeoutMs : 300_000 },
  };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** A password getter that asks once and remembers the answer. */
function once(get: () => Promise<string | null>): { get: () => Promise<string | null>; asked: () => boolean } {
  let p: Promise<string | null> | null = null;
  return { get: () => (p ??= get()), asked: () => p !== null };
}

export async function createRepository(urlText: string, password: string | null, opts: CreateOptions = {}): Promise<Connection> {
  const url = parseRepositoryUrl(urlText);
  const chunker = opts.chunker ?? { ...DEFAULT_CHUNKER };
  validateChunkerParams(chunker);
  const keys = generateMasterKeys();
  const slot = await createKeySlot(keys, password, { n: opts.scryptN });
  const config: RepoConfig = {
    version: 1,
    id: randomBytes(16).toString('hex'),
    created: new Date().toISOString(),
    chunker,
    aead: opts.aead ?? 'chacha20-poly1305',
    compression: opts.compression ?? 'zstd',
    encrypted: password !== null,
  };
  // The login a tardisd will check, should this repository ever be served by one.
  const auth = password === null ? null : await makeAuthSetup(url.client, password, { scryptN: opts.scryptN });
  if (url.kind === 'file') {
    if (await exists(`${url.path}/config`)) throw new UsageError(`repository already exists: ${url.path}`);
    await mkdir(url.path, { recursive: true, mode: 0o700 });
    await writeAuthRecord(url.path, authRecord(auth));
    const repo = await ServerRepository.create(url.path, config, slot as unknown as Record<string, unknown>);
    return { url, session: new RepositorySession(repo, { policy: opts.policy }), keyring: new Keyring(keys, config) };
  }
  const conn = await dial(network(url), dialOptions(opts));
  try {
    await createRemote(conn, url.client, config, slot, auth);
  } catch (err) {
    conn.close();
    throw err;
  }
  return { url, session: new RemoteSession(conn), keyring: new Keyring(keys, config) };
}

/** Opens a repository; `password` null opens an unprotected one only. */
export async function openRepository(urlText: string, password: () => Promise<string | null>, opts: OpenOptions = {}): Promise<Connection> {
  const url = parseRepositoryUrl(urlText);
  if (url.kind === 'file') {
    const root = url.path;
    // Unlock the keys before opening the catalog: a wrong password leaves the repository untouched.
    const keyring = await unlockLocal(root, password, opts.keyFile);
    // An older catalog waits for `sonic upgrade`: other machines' older tools may still read it.
    const repo = await ServerRepository.open(root, { allowUpgrade: false });
    return { url, session: new RepositorySession(repo, { policy: opts.policy }), keyring };
  }
  const pw = once(password);
  const conn = await loggedIn(network(url), url.client, pw, dialOptions(opts));
  const session = new RemoteSession(conn);
  try {
    // Key slots come only after the login: the server gives them to no one else.
    const info = await session.info();
    const slots = slotsToTry(info.config.id, info.keySlots, opts.keyFile);
    const keys: MasterKeys = await openAnyKeySlot(slots, info.config.encrypted ? await pw.get() : null);
    return { url, session, keyring: new Keyring(keys, info.config) };
  } catch (err) {
    await session.close().catch(() => undefined);
    throw err;
  }
}

/** The keys of a repository directory, unlocked without opening (or needing) its catalog. */
export async function unlockLocal(root: string, password: () => Promise<string | null>, keyFile?: string): Promise<Keyring> {
  const { config, keySlots } = await ServerRepository.inspect(root);
  const slots = slotsToTry(config.id, keySlots, keyFile);
  const keys = await openAnyKeySlot(slots, config.encrypted ? await password() : null);
  return new Keyring(keys, config);
}

/** `sonic upgrade`: the password checked, then the catalog upgraded (file: repositories only). */
export async function upgradeRepository(urlText: string, password: () => Promise<string | null>, opts: OpenOptions = {}): Promise<{ from: number; to: number; saved: string | null }> {
  const url = parseRepositoryUrl(urlText);
  if (url.kind !== 'file') throw new UsageError('sonic upgrade runs where the repository is (file:); a tardisd upgrades its repositories with AllowSchemaUpgrades');
  await unlockLocal(url.path, password, opts.keyFile);
  return ServerRepository.upgrade(url.path);
}

/** The key file's slots (if one is given), then the repository's. */
function slotsToTry(id: string, repoSlots: KeySlotData[], keyFile: string | undefined): KeySlot[] {
  const slots = [...(keyFile ? keyFileSlots(keyFile, id) : []), ...repoSlots] as unknown as KeySlot[];
  if (slots.length === 0) throw new UsageError('the repository holds no keys (they were moved to a key file): give --keys FILE');
  return slots;
}

/**
 * Dials and logs in. If the password prompt outlasted the server's login timeout, the server has
 * hung up meanwhile: dial again once, with the password now known.
 */
async function loggedIn(url: NetUrl, client: string, pw: ReturnType<typeof once>, opts: DialOptions): Promise<ProtocolConnection> {
  for (let attempt = 0; ; attempt++) {
    const askedBefore = pw.asked();
    const conn = await dial(url, opts);
    try {
      await login(conn, client, pw.get);
      return conn;
    } catch (err) {
      conn.close();
      if (attempt === 0 && !askedBefore && pw.asked() && err instanceof ConnectionError) continue;
      throw err;
    }
  }
}
