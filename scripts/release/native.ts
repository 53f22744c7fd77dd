// Files the release executable carries as SEA assets and needs on disk: the libSQL addon (which
// process.dlopen loads from a file only) and the bundle itself (which the worker pools'
// threads run). Each is written once to a cache directory under a name holding its content
// hash, computed at build time (see the `manifest.json` asset), and reused by later starts.
// Outside a SEA (the bundle run by node, bun or deno) the usual resolution applies.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What the release build writes as the `manifest.json` asset: asset key → cache file name. */
export type Manifest = Record<'addon' | 'bundle', { asset: string; file: string }>;

interface SeaApi {
  isSea(): boolean;
  getAsset(key: string, encoding?: string): ArrayBuffer | string;
  getRawAsset(key: string): ArrayBuffer;
}

let seaApi: SeaApi | null | undefined;

/** node:sea when running as a single executable, else null (also under Bun and Deno). */
function sea(): SeaApi | null {
  if (seaApi === undefined) {
    try {
      const s = require('node:sea') as SeaApi;
      seaApi = s.isSea() ? s : null;
    } catch {
      seaApi = null;
    }
  }
  return seaApi;
}

function manifest(s: SeaApi): Manifest {
  return JSON.parse(s.getAsset('manifest.json', 'utf8') as string) as Manifest;
}

/**
 * Where extracted files go, most specific first: systemd's CacheDirectory=, the XDG cache,
 * ~/.cache, then a per-user directory in /tmp (a hardened unit may leave only that writable).
 */
function cacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.CACHE_DIRECTORY) dirs.push(env.CACHE_DIRECTORY.split(':')[0]!);
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) dirs.push(path.join(env.XDG_CACHE_HOME, 'tardis'));
  const home = env.HOME || safeHomedir();
  if (home && path.isAbsolute(home)) dirs.push(path.join(home, '.cache', 'tardis'));
  dirs.push(path.join(os.tmpdir(), `tardis-${process.getuid?.() ?? 'user'}`));
  return dirs;
}

function safeHomedir(): string {
  try {
    return os.homedir();
  } catch {
    return '';
  }
}

/**
 * mkdir -p, one level at a time: Node 26's `recursive: true` spins forever where mkdir says
 * ENOENT under a parent that exists (HOME=/proc).
 */
function mkdirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** A directory of ours that no one else can write to, created if missing; else throws. */
function ownDir(dir: string): void {
  mkdirs(dir);
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a private directory of this user`);
  }
}

/** Writes `data` as DIR/NAME unless a file of that name and size is there already. */
function place(dir: string, name: string, data: ArrayBuffer): string {
  ownDir(dir);
  const file = path.join(dir, name);
  try {
    if (fs.statSync(file).size === data.byteLength) return file;
  } catch {
    // not there yet
  }
  // A temporary name and a rename: a concurrent start never sees half a file.
  const tmp = path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    fs.writeFileSync(tmp, new Uint8Array(data), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return file;
}

/** The asset's file in the first usable cache directory; `transient` if it had to go to a fresh one. */
function extract(s: SeaApi, which: keyof Manifest): { file: string; transient: boolean } {
  const m = manifest(s)[which];
  const data = s.getRawAsset(m.asset);
  const tried: string[] = [];
  for (const dir of cacheDirs()) {
    try {
      return { file: place(dir, m.file, data), transient: false };
    } catch (err) {
      tried.push(`${dir}: ${(err as Error).message}`);
    }
  }
  // No cache directory at all: a private one for this process only.
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-'));
    return { file: place(dir, m.file, data), transient: true };
  } catch (err) {
    tried.push(`${os.tmpdir()}: ${(err as Error).message}`);
  }
  throw new Error(`cannot write ${m.file} to a cache directory (${tried.join('; ')})`);
}

/** The libSQL addon: from the executable's asset in a SEA, else `@libsql/<target>` as usual. */
export function loadLibsqlAddon(target: string): unknown {
  const s = sea();
  if (!s) return require(`@libsql/${target}`);
  const { file, transient } = extract(s, 'addon');
  const mod = { exports: {} as unknown };
  process.dlopen(mod, file);
  // A loaded library stays mapped after its file is gone.
  if (transient) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return mod.exports;
}

/**
 * The URL a worker thread starts to run this bundle: the bundle file itself, or in a SEA its
 * copy in the cache. The release build makes it the bundle's `import.meta.url`.
 */
export function bundleUrl(): string {
  const s = sea();
  if (!s) return pathToFileURL(__filename).href;
  return pathToFileURL(extract(s, 'bundle').file).href;
}
