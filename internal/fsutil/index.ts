export { SafeRoot } from './safepath.ts';
export { SparseWriter, SPARSE_BLOCK } from './sparse.ts';
export type { MetaEntry, MetaOptions, TimesMethod } from './meta.ts';
export { applyMetadata, applyMetadataAt, applyMetadataFd, exactSeconds, ownerIds, setTimes } from './meta.ts';
export { native } from './native.ts';
