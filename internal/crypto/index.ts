export {
  type AeadAlg,
  type AeadBackend,
  aeadBackend,
  aeadDecrypt,
  aeadEncrypt,
  BLOB_OVERHEAD,
  blobAlg,
  isAeadAlg,
  openBlob,
  sealBlob,
  setAeadBackend,
} from './aead.ts';
export { ContentHasher, chunkId, fromHex, ID_LEN, KeyedHasher, listingHash, toHex } from './ids.ts';
export {
  createKeySlot,
  DEFAULT_SCRYPT_N,
  decodeMasterKeys,
  encodeMasterKeys,
  generateMasterKeys,
  type KeySlot,
  MASTER_KEYS_LEN,
  type MasterKeys,
  openAnyKeySlot,
  openKeySlot,
} from './keys.ts';
export { NAME_OVERHEAD, NameCipher } from './names.ts';
