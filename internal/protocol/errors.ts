// Errors of the wire and how TardisErrors cross it: the server sends the class name, the one-line
// message and the exit code; the client re-throws the same class with the same message.
import {
  DiskFullError, IntegrityError, LockedError, NotFoundError, TardisError, UsageError, WrongPasswordError,
} from '../errors/errors.ts';

/** The peer broke the protocol (malformed frame, over a limit, wrong or out-of-order message). */
export class ProtocolError extends TardisError {}

/** The connection failed, was closed, or timed out before a reply came. */
export class ConnectionError extends TardisError {}

type ErrorClass = new (message: string) => TardisError;

const CLASSES = new Map<string, ErrorClass>([
  ['TardisError', TardisError],
  ['WrongPasswordError', WrongPasswordError],
  ['IntegrityError', IntegrityError],
  ['NotFoundError', NotFoundError],
  ['UsageError', UsageError],
  ['DiskFullError', DiskFullError],
  ['LockedError', LockedError],
  ['ProtocolError', ProtocolError],
  ['ConnectionError', ConnectionError],
]);

const MAX_MESSAGE = 2000;

/** One printable line of at most MAX_MESSAGE characters. */
export function oneLine(s: string): string {
  const line = s.replace(/[\r\n]+/g, ' ').trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

export interface WireError {
  code: string;
  message: string;
  exit: number;
}

/** How an error travels. Anything but a TardisError is a server bug: its message only. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof TardisError) {
    const code = CLASSES.has(err.name) ? err.name : 'TardisError';
    return { code, message: oneLine(err.message), exit: err.exitCode };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: 'TardisError', message: oneLine(`server error: ${msg}`), exit: 1 };
}

/** The error a wire error stands for: the same class, message and exit code. */
export function errorFromWire(code: unknown, message: unknown, exit: unknown): TardisError {
  const C = (typeof code === 'string' && CLASSES.get(code)) || TardisError;
  const err = new C(typeof message === 'string' ? oneLine(message) : 'the peer reported an error');
  if (typeof exit === 'number' && Number.isInteger(exit) && exit >= 1 && exit <= 125) err.exitCode = exit;
  return err;
}
