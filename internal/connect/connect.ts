// Opens a repository by URL for a client: a session (in-process for file:, over the protocol
// for tardisd) plus the keyring unlocked by the password.
import { randomBytes } from 'node:crypto';
import { DEFAULT_CHUNKER, validateChunkerParams, type ChunkerParams } from '../chunker/index.ts';
import { parseRepositoryUrl, type RepoUrl } from '../config/url.ts';
import { createKeySlot, generateMasterKeys, openAnyKeySlot, type KeySlot } from '../crypto/index.ts';
import { UsageError } from '../errors/errors.ts';
import { Keyring } from '../keyring/keyring.ts';
import type { RepoConfig, RepoSession } from '../model/session.ts';
import type { CompressAlg } from '../compress/index.ts';
import { ServerRepository } from '../server/repository.ts';
import { RepositorySession } from '../server/session.ts';

export interface Connection {
  url: RepoUrl;
  session: RepoSession;
  keyring: Keyring;
}

export interface CreateOptions {
  aead?: RepoConfig['aead'];
  compression?: CompressAlg;
  chunker?: ChunkerParams;
  /** scrypt cost (tests use a small one). */
  scryptN?: number;
}

function local(url: RepoUrl): string {
  if (url.kind !== 'file') throw new UsageError(`${url.kind}: repositories need tardisd, which this build does not support yet`);
  return url.path;
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
  const repo = await ServerRepository.create(local(url), config, slot as unknown as Record<string, unknown>);
  return { url, session: new RepositorySession(repo), keyring: new Keyring(keys, config) };
}

/** Opens a repository; `password` null opens an unprotected one only. */
export async function openRepository(urlText: string, password: () => Promise<string | null>): Promise<Connection> {
  const url = parseRepositoryUrl(urlText);
  const root = local(url);
  // Unlock the keys before opening the catalog: a wrong password leaves the repository untouched.
  const { config, keySlots } = await ServerRepository.inspect(root);
  const pw = config.encrypted ? await password() : null;
  const keys = await openAnyKeySlot(keySlots as unknown as KeySlot[], pw);
  const repo = await ServerRepository.open(root);
  return { url, session: new RepositorySession(repo), keyring: new Keyring(keys, repo.config) };
}
