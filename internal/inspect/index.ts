export { DEFAULT_LS_COLORS, Lister } from './list.ts';
export type { ListedPath, ListedVersion, ListOptions } from './list.ts';
export { chunkCount, classify, dirHistory, pathHistory, shownVersions } from './history.ts';
export type { ChangeRules, Child, History, Status, Version, VersionsShown } from './history.ts';
export { dateRange, setRange } from './range.ts';
export { FsSide, SetSide, TreeDiff } from './compare.ts';
export type { DiffOptions, DiffOutput, Node, Side } from './compare.ts';
export { BINARY_PROBE, decodeText, isBinary, renderDiff } from './textdiff.ts';
export type { DiffFormat, DiffLabel } from './textdiff.ts';
