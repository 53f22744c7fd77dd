// Syscalls Node's fs lacks, called in-process through node:ffi (built in, experimental in
// Node 26): utimensat with exact nanoseconds and mknodat. `native()` is null when FFI is
// unavailable (--no-experimental-ffi, or --permission without --allow-ffi); callers then fall
// back to coreutils through `runWithPath`. FFI calls are synchronous: single metadata syscalls.

import { spawn } from 'node:child_process';
import type * as Ffi from 'node:ffi';
import { getSystemErrorName } from 'node:util';

export interface Native {
  /** utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW): a final symlink is not followed. */
  utimens(path: Buffer, atimeNs: bigint, mtimeNs: bigint): void;
  /** futimens(fd, times): the same on an open file. */
  futimens(fd: number, atimeNs: bigint, mtimeNs: bigint): void;
  /** mknodat(AT_FDCWD, path, mode, dev); mode includes the file type bits. Null if libc lacks it. */
  mknod: ((path: Buffer, mode: number, dev: bigint) => void) | null;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const NS = 1_000_000_000n;

let cached: Native | null | undefined;

/** node:ffi without its one-time ExperimentalWarning, which would otherwise reach users' terminals. */
function loadFfi(): typeof Ffi | null {
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (/\bFFI\b/.test(String(warning))) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return (process.getBuiltinModule('node:ffi') as typeof Ffi | undefined) ?? null;
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}

function cString(path: Buffer): Buffer {
  return Buffer.concat([path, Buffer.alloc(1)]);
}

export function native(): Native | null {
  if (cached !== undefined) return cached;
  cached = null;
  const ffi = loadFfi();
  if (!ffi) return null;
  let lib: Ffi.DynamicLibrary;
  try {
    lib = new ffi.DynamicLibrary(null); // symbols of the process itself: node links libc
  } catch {
    return null; // ERR_ACCESS_DENIED under the permission model
  }
  const fn = <const S extends Ffi.FunctionSignature>(name: string, sig: S) => {
    try {
      return lib.getFunction(name, sig);
    } catch {
      return null;
    }
  };
  const errnoLocation = fn('__errno_location', { arguments: [], return: 'pointer' });
  const utimensat = fn('utimensat', { arguments: ['i32', 'pointer', 'pointer', 'i32'], return: 'i32' });
  const futimens = fn('futimens', { arguments: ['i32', 'pointer'], return: 'i32' });
  const mknodat = fn('mknodat', { arguments: ['i32', 'pointer', 'u32', 'u64'], return: 'i32' });
  if (!errnoLocation || !utimensat || !futimens) return null;

  const fail = (syscall: string): never => {
    const errno = ffi.getInt32(errnoLocation());
    const code = errno > 0 ? getSystemErrorName(-errno) : 'EUNKNOWN';
    throw Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: -errno, syscall });
  };
  const times = Buffer.alloc(32); // struct timespec[2]: { i64 tv_sec; i64 tv_nsec } x 2
  const put = (at: number, ns: bigint) => {
    let sec = ns / NS;
    let nsec = ns % NS;
    if (nsec < 0n) {
      sec -= 1n; // tv_nsec must be in [0, 1e9) also before 1970
      nsec += NS;
    }
    times.writeBigInt64LE(sec, at);
    times.writeBigInt64LE(nsec, at + 8);
  };
  cached = {
    utimens(path, atimeNs, mtimeNs) {
      put(0, atimeNs);
      put(16, mtimeNs);
      if (utimensat(AT_FDCWD, cString(path), times, AT_SYMLINK_NOFOLLOW) !== 0) fail('utimensat');
    },
    futimens(fd, atimeNs, mtimeNs) {
      put(0, atimeNs);
      put(16, mtimeNs);
      if (futimens(fd, times) !== 0) fail('futimens');
    },
    mknod: mknodat
      ? (path, mode, dev) => {
          if (mknodat(AT_FDCWD, cString(path), mode, dev) !== 0) fail('mknodat');
        }
      : null,
  };
  return cached;
}

/**
 * Runs `xargs -0 CMD... PATH` with the path fed as raw bytes on stdin, since argv strings cannot
 * carry non-UTF-8 names. A `{}` argument marks where the path goes (xargs -I), else it comes last.
 */
export async function runWithPath(cmd: string[], path: Buffer): Promise<void> {
  const args = cmd.includes('{}') ? ['-0', '-r', '-I{}', ...cmd] : ['-0', '-r', ...cmd];
  const child = spawn('xargs', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => {}); // EPIPE if xargs dies first; its exit status reports it
  child.stdin.end(Buffer.concat([path, Buffer.alloc(1)]));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${cmd[0]} failed: ${stderr.trim().split('\n')[0] || `exit ${code}`}`);
}
