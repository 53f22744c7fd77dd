export * from './db.ts';
export * from './sets.ts';
export * from './tree.ts';
export * from './chunks.ts';
export * from './settings.ts';
