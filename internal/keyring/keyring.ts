// Everything a client does with the master keys of one repository: name encryption, chunk ids,
// content and listing hashes, sealing and opening chunks.
import { Chunker, type ChunkerParams } from '../chunker/index.ts';
import { compressBlob, decompressBlob, type CompressAlg } from '../compress/index.ts';
import { chunkId, ContentHasher, createKeySlot, listingHash, NameCipher, openBlob, sealBlob, type KeyedHasher, type KeySlot, type MasterKeys } from '../crypto/index.ts';
import { IntegrityError } from '../errors/errors.ts';
import type { RepoConfig } from '../model/session.ts';

/** What sealing a chunk needs: a worker thread gets only this, not the other keys. */
export interface SealKeys {
  dataKey: Uint8Array;
  aead: RepoConfig['aead'];
  compression: CompressAlg;
}

/** What reading files on a worker thread needs besides: chunker and keyed-hash keys. */
export interface FileKeys extends SealKeys {
  idKey: Uint8Array;
  chunkerSeed: Uint8Array;
  chunker: RepoConfig['chunker'];
}

/** Compress-then-encrypt; the chunk id is the AAD, so a blob cannot stand in for another. */
export function sealChunkWith(k: SealKeys, id: Buffer, plain: Uint8Array, compression: CompressAlg = k.compression): Buffer {
  return sealBlob(k.dataKey, compressBlob(plain, compression), id, k.aead);
}

/** What opening a chunk needs: a worker thread gets only this. */
export interface OpenKeys {
  dataKey: Uint8Array;
  idKey: Uint8Array;
}

/** Opens a sealed chunk and checks that its plaintext has the keyed id it was asked for. */
export function openChunkWith(k: OpenKeys, id: Buffer, blob: Uint8Array): Buffer {
  const plain = decompressBlob(openBlob(k.dataKey, blob, id));
  if (!chunkId(k.idKey, plain).equals(id)) throw new IntegrityError(`chunk ${id.toString('hex').slice(0, 16)} does not match its id`);
  return plain;
}

export class Keyring {
  readonly config: RepoConfig;
  private readonly keys: MasterKeys;
  private readonly names: NameCipher;

  constructor(keys: MasterKeys, config: RepoConfig) {
    this.keys = keys;
    this.config = config;
    this.names = new NameCipher(keys.nameKey);
  }

  /** A new key slot holding these keys under `password` (null: unprotected). */
  wrap(password: string | null): Promise<KeySlot> {
    return createKeySlot(this.keys, password);
  }

  encName(plain: Uint8Array): Buffer {
    return Buffer.from(this.names.encrypt(plain));
  }

  decName(enc: Uint8Array): Buffer {
    return Buffer.from(this.names.decrypt(enc));
  }

  encString(s: string | null): Buffer | null {
    return s === null ? null : this.encName(Buffer.from(s, 'utf8'));
  }

  decString(b: Buffer | null): string | null {
    return b === null ? null : this.decName(b).toString('utf8');
  }

  chunkId(data: Uint8Array): Buffer {
    return chunkId(this.keys.idKey, data);
  }

  contentHasher(): ContentHasher {
    return new ContentHasher(this.keys.idKey);
  }

  listingHasher(): KeyedHasher {
    return listingHash(this.keys.idKey);
  }

  /** A chunker with this repository's gear table; `params` other than its own for trees. */
  newChunker(params: ChunkerParams = this.config.chunker): Chunker {
    return new Chunker(params, this.keys.chunkerSeed);
  }

  get sealKeys(): SealKeys {
    return { dataKey: this.keys.dataKey, aead: this.config.aead, compression: this.config.compression };
  }

  get fileKeys(): FileKeys {
    return { ...this.sealKeys, idKey: this.keys.idKey, chunkerSeed: this.keys.chunkerSeed, chunker: this.config.chunker };
  }

  sealChunk(id: Buffer, plain: Uint8Array, compression?: CompressAlg): Buffer {
    return sealChunkWith(this.sealKeys, id, plain, compression);
  }

  /** Opens a sealed chunk and checks that its plaintext has the keyed id it was asked for. */
  openChunk(id: Buffer, blob: Uint8Array): Buffer {
    return openChunkWith(this.openKeys, id, blob);
  }

  get openKeys(): OpenKeys {
    return { dataKey: this.keys.dataKey, idKey: this.keys.idKey };
  }

  seal(aad: string, plain: Uint8Array): Buffer {
    return sealBlob(this.keys.dataKey, compressBlob(plain, 'zstd'), Buffer.from(aad), this.config.aead);
  }

  open(aad: string, blob: Uint8Array): Buffer {
    return decompressBlob(openBlob(this.keys.dataKey, blob, Buffer.from(aad)));
  }
}
