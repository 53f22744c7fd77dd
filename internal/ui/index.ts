export { Logger, setProgramName, getProgramName } from './log.ts';
export type { LoggerOptions, LogLevel, LineSink } from './log.ts';
export { Progress } from './progress.ts';
export type { ProgressState, ProgressOptions, ProgressStream } from './progress.ts';
export { renderTable } from './table.ts';
export type { TableOptions } from './table.ts';
export { formatTime, formatBytes, formatDuration, escapeControl, displayWidth, truncateEnd, truncateMiddle, formatMode, formatLsTime } from './format.ts';
export { colorWanted, paint, parseColorTable, parseStyle } from './color.ts';
