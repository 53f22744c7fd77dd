export { checkKind, checkName, CONFIG_NAME, FILE_KINDS, IMMUTABLE_KINDS, isValidName } from './store.ts';
export type { FileKind, Store } from './store.ts';
export { LocalStore } from './local.ts';
