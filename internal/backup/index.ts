export { runBackup, type BackupOptions, type BackupResult } from './backup.ts';
export type { BasePath } from './rooting.ts';
export type { Stats } from './stats.ts';
