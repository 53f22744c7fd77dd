// Counters of one backup run (printed by --stats, returned by --json).
export interface Stats {
  dirs: number;
  files: number;
  symlinks: number;
  others: number;
  filesRead: number;
  filesUnchanged: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  chunks: number;
  chunksNew: number;
  dirsUnchanged: number;
  problems: number;
  vanished: number;
  unreadable: number;
  changedDuringRead: number;
  skipped: number;
  /** Entries left out by excludes (patterns, exclude files, skip files, cache directories). */
  excluded: number;
  snapshotBytes: number;
  snapshotNew: number;
  durationMs: number;
}

export function newStats(): Stats {
  return {
    dirs: 0, files: 0, symlinks: 0, others: 0, filesRead: 0, filesUnchanged: 0, bytesRead: 0, bytesNew: 0, bytesStored: 0,
    chunks: 0, chunksNew: 0, dirsUnchanged: 0, problems: 0, vanished: 0, unreadable: 0, changedDuringRead: 0, skipped: 0, excluded: 0,
    snapshotBytes: 0, snapshotNew: 0, durationMs: 0,
  };
}
