// User-facing error kinds. Commands print `message` as one line and map `exitCode`.

export class TardisError extends Error {
  exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The password does not open any key slot of the repository. */
export class WrongPasswordError extends TardisError {}

/** Stored data failed authentication (AEAD tag, keyed id, truncated or malformed blob). */
export class IntegrityError extends TardisError {}

/** A request names something that does not exist (set, path, repository). */
export class NotFoundError extends TardisError {
  override exitCode = 2;
}

/** Bad user input: options, URLs, patterns. */
export class UsageError extends TardisError {}

/** No password could be had (none given, no terminal, a failing --password-prog): exit 255, as in Tardis. */
export class PasswordUnavailableError extends UsageError {
  override exitCode = 255;
}

/** The storage device is full or over quota. */
export class DiskFullError extends TardisError {}

/** Another process holds a lock the operation needs. */
export class LockedError extends TardisError {}
