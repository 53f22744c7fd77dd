export { Excluder, CVS_PATTERNS, CACHEDIR_SIGNATURE, CACHEDIR_TAG, expandPath } from './exclude.ts';
export type { DirRules, ExcludeOptions, ExcludeProblem, PatternSource, Verdict } from './exclude.ts';
export { matchRules, parseRule, parseRules, toPicomatch } from './patterns.ts';
export type { ParseOptions, Rule } from './patterns.ts';
