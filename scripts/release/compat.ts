// Start-up fixes for runtimes other than Node that run the release bundle. Each one works
// around a difference found by `make release-test`; none changes behaviour under Node.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

type MkdirOptions = fs.MakeDirectoryOptions | fs.Mode | null | undefined;
type MkdirCallback = (err: NodeJS.ErrnoException | null, path?: string) => void;

function isBytepath(p: unknown): boolean {
  return typeof p !== 'string' && !(p instanceof URL);
}

/** Deno 2.9: async mkdir of a Buffer path throws an uncatchable error; the sync one works. */
function denoBufferMkdir(): void {
  const mkdirAsync = fsp.mkdir;
  const patched = async (p: fs.PathLike, o?: MkdirOptions) => (isBytepath(p) ? fs.mkdirSync(p, o) : mkdirAsync(p, o));
  for (const target of new Set([fsp, fs.promises])) Object.assign(target, { mkdir: patched });
  const mkdirCb = fs.mkdir;
  Object.assign(fs, {
    mkdir(p: fs.PathLike, o: MkdirOptions | MkdirCallback, cb?: MkdirCallback) {
      const done = (typeof o === 'function' ? o : cb)!;
      const opts = typeof o === 'function' ? undefined : o;
      if (!isBytepath(p)) return mkdirCb(p, opts, done);
      let made: string | undefined;
      let err: NodeJS.ErrnoException | null = null;
      try {
        made = fs.mkdirSync(p, opts);
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      process.nextTick(done, err, made);
    },
  });
}

/**
 * Deno 2.9 exits when only an unref'd worker's reply is awaited (Node and Bun wait for it).
 * The seal pool unrefs its workers and terminates them when done: keep them ref'd here.
 */
function denoWorkerRef(): void {
  Worker.prototype.unref = function unref(this: Worker) {
    return undefined;
  };
}

export function applyRuntimeFixes(): void {
  if (process.versions.deno) {
    denoBufferMkdir();
    denoWorkerRef();
  }
}
