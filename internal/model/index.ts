export * from './entry.ts';
export * from './session.ts';
