export { Restorer, type ContentCheck, type Found, type OverwriteMode, type RestoreOptions, type RestoreStats, type VerifyAction } from './restore.ts';
export { components, lastSetWith, lookupPath, realpathLoose, reducePath, rootFound } from './resolve.ts';
export { CURRENT, namedSet, parseDate, selectSet, setAt, tryParseDate, tryParseWholeDate } from './select.ts';
