export type { EntryType, FsEntry } from './entry.ts';
export { entryFromStats, entryTypeOf } from './entry.ts';
export { groupId, groupName, parseIdFile, resetOwners, userId, userName } from './owners.ts';
export { joinPath, printable, utf8SeqLen } from './names.ts';
export type { DirListing, Problem, WalkOptions } from './walker.ts';
export { statRoot, walk } from './walker.ts';
