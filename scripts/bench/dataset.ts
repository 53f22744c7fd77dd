// The dataset: real files from this machine, copied into the work directory so the day of
// changes can modify them. Directories are the unit of choice (a directory with its own files,
// as a package installs them), picked in a seeded order until the size is reached; the next
// directories in that order make up one large tar file (a stand-in for a VM image or database)
// and the ones after that supply the files the day of changes adds. Same machine, same dataset.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, type Stats, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { eachLimit } from '../../internal/concurrency/each.ts';
import { Prng } from './prng.ts';
import type { BenchSettings } from './settings.ts';

interface Unit {
  dir: string;
  /** Regular files and symlinks directly in `dir`, sorted by name. */
  names: string[];
  bytes: number;
}

export interface Dataset {
  /** The directory every tool backs up. */
  root: string;
  /** The large file, inside root. */
  bigFile: string;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  bytes: number;
  bigBytes: number;
  /** Real files not in the dataset, for the day of changes to add. */
  spares: string[];
  /** Hash of the sorted (path, type, size) list: equal ids, equal datasets. */
  id: string;
  buildSeconds: number;
}

/** Directories under the sources with their own files, sorted by path. */
function listUnits(sources: string[], maxFileBytes: number): Unit[] {
  const units: Unit[] = [];
  const visit = (dir: string, dev: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return; // unreadable: not part of the dataset
    }
    const unit: Unit = { dir, names: [], bytes: 0 };
    const subdirs: string[] = [];
    for (const name of names) {
      let st: Stats;
      try {
        st = lstatSync(path.join(dir, name));
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (st.dev === dev) subdirs.push(name);
      } else if (st.isSymbolicLink() || (st.isFile() && st.size <= maxFileBytes)) {
        unit.names.push(name);
        unit.bytes += st.isFile() ? st.size : 0;
      }
    }
    units.push(unit);
    for (const s of subdirs) visit(path.join(dir, s), dev);
  };
  for (const src of sources) {
    try {
      visit(src, lstatSync(src).dev);
    } catch {
      // a missing source is skipped
    }
  }
  return units;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}… failed: ${r.stderr || r.error?.message}`);
}

export async function buildDataset(s: BenchSettings, log: (m: string) => void): Promise<Dataset> {
  const t0 = performance.now();
  const root = path.join(s.dir, 'data');
  const { treeBytes, bigBytes, maxFileBytes } = s.profile;
  const units = listUnits(s.sources, maxFileBytes);
  const order = new Prng(`${s.seed}/units`).shuffle([...units]);

  // The tree: whole directories, none bigger than an eighth of the budget.
  const tree: Unit[] = [];
  const rest: Unit[] = [];
  let total = 0;
  for (const u of order) {
    if (total < treeBytes * 0.99 && u.bytes <= treeBytes / 8 && total + u.bytes <= treeBytes) {
      tree.push(u);
      total += u.bytes;
    } else rest.push(u);
  }
  // The big file: the next directories' regular files, then spares for the day of changes.
  // Each inode once (tar stores a second hard link as a reference, without data), and no member
  // above a quarter of the tar, so it holds a mix of files.
  const tarList: string[] = [];
  const spares: string[] = [];
  const inodes = new Set<string>();
  let tarTotal = 0;
  for (const u of tree) {
    for (const name of u.names) {
      try {
        const st = lstatSync(path.join(u.dir, name));
        inodes.add(`${st.dev}:${st.ino}`);
      } catch {
        // gone: not copied either
      }
    }
  }
  for (const u of rest) {
    for (const name of u.names) {
      const p = path.join(u.dir, name);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (!st.isFile() || inodes.has(`${st.dev}:${st.ino}`)) continue;
      inodes.add(`${st.dev}:${st.ino}`);
      if (tarTotal < bigBytes) {
        if (st.size > bigBytes / 4) continue;
        tarList.push(p);
        tarTotal += 512 + Math.ceil(st.size / 512) * 512;
      } else if (spares.length < 4000 && st.size > 0 && st.size < 4 * 1024 * 1024) spares.push(p);
    }
    if (tarTotal >= bigBytes && spares.length >= 4000) break;
  }
  tree.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  log(`dataset: ${tree.length} directories (${(total / 2 ** 20).toFixed(0)} MiB) and a ${(tarTotal / 2 ** 20).toFixed(0)} MiB tar of ${tarList.length} files`);

  // Copy the tree: contents first, then directory modes and times deepest first.
  mkdirSync(root, { recursive: true });
  const links = new Map<string, string>();
  const copies: { src: string; dst: string; st: Stats }[] = [];
  const hardlinks: [string, string][] = [];
  const dirs = new Map<string, string>(); // dst -> src
  const counts = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0 };
  const fingerprint: string[] = [];
  const ensureDir = (srcDir: string): string => {
    const dst = path.join(root, srcDir);
    if (!dirs.has(dst)) {
      for (let d = srcDir; d !== '/' && !dirs.has(path.join(root, d)); d = path.dirname(d)) dirs.set(path.join(root, d), d);
      mkdirSync(dst, { recursive: true });
    }
    return dst;
  };
  for (const u of tree) {
    const dstDir = ensureDir(u.dir);
    for (const name of u.names) {
      const src = path.join(u.dir, name);
      const dst = path.join(dstDir, name);
      let st: Stats;
      try {
        st = lstatSync(src);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        await fsp.symlink(readlinkSync(src), dst);
        await fsp.lchown(dst, st.uid, st.gid);
        await fsp.lutimes(dst, st.atime, st.mtime);
        counts.symlinks++;
        fingerprint.push(`l ${src}`);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first) {
        hardlinks.push([first, dst]);
        counts.hardlinks++;
        fingerprint.push(`h ${src}`);
        continue;
      }
      if (st.nlink > 1) links.set(key, dst);
      copies.push({ src, dst, st });
      counts.files++;
      counts.bytes += st.size;
      fingerprint.push(`f ${src} ${st.size}`);
    }
  }
  await eachLimit(copies, 8, async ({ src, dst, st }) => {
    await fsp.copyFile(src, dst);
    await fsp.chown(dst, st.uid, st.gid);
    await fsp.chmod(dst, st.mode & 0o7777);
    await fsp.utimes(dst, st.atime, st.mtime);
  });
  for (const [first, dst] of hardlinks) await fsp.link(first, dst);

  // The big file, deterministic: sorted names, fixed owners and times, GNU format.
  const bigFile = path.join(root, 'images', 'vm-image.tar');
  mkdirSync(path.dirname(bigFile), { recursive: true });
  const listFile = path.join(s.dir, 'tar-files.lst');
  writeFileSync(listFile, tarList.sort().map((p) => p.slice(1) + '\0').join(''));
  run('tar', ['--create', `--file=${bigFile}`, '--format=gnu', '--no-recursion', '--mtime=@1700000000', '--owner=0', '--group=0',
    '--numeric-owner', '-C', '/', '--null', `--files-from=${listFile}`]);
  const bigSt = lstatSync(bigFile);
  await fsp.chmod(bigFile, 0o644);
  await fsp.utimes(bigFile, 1700000000, 1700000000);
  await fsp.utimes(path.dirname(bigFile), 1700000000, 1700000000);
  counts.files++;
  counts.bytes += bigSt.size;
  fingerprint.push(`f ${bigFile.slice(root.length)} ${bigSt.size}`);

  // Directory metadata last (children first), so copying into them does not move their mtimes.
  for (const [dst, src] of [...dirs].sort((a, b) => b[0].length - a[0].length)) {
    const st = lstatSync(src);
    await fsp.chown(dst, st.uid, st.gid);
    await fsp.chmod(dst, st.mode & 0o7777);
    await fsp.utimes(dst, st.atime, st.mtime);
  }
  counts.dirs = dirs.size + 2; // with the root and images/
  const id = createHash('sha256').update(fingerprint.join('\n')).digest('hex').slice(0, 12);
  return {
    root, bigFile, ...counts, bigBytes: bigSt.size, spares, id,
    buildSeconds: (performance.now() - t0) / 1000,
  };
}
