export { Restorer, type ContentCheck, type Found, type OverwriteMode, type RestoreOptions, type RestoreStats, type VerifyAction } from './restore.ts';
export { components, lastSetWith, lookupPath, reducePath, rootFound } from './resolve.ts';
export { CURRENT, parseDate, selectSet } from './select.ts';
