// A deterministic "day of changes" on the dataset: about 1 % of the files appended to, edited in
// the middle (bytes inserted) or overwritten in place, some deleted, some added, one directory
// renamed, and a few bytes changed in the middle of the large file.
import { readdirSync, type Stats, lstatSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './dataset.ts';
import { Prng } from './prng.ts';

export interface ChangeSummary {
  appended: number;
  edited: number;
  overwritten: number;
  deleted: number;
  added: number;
  renamedDir: string;
  renamedFiles: number;
  bigFileOffset: number;
  /** Bytes written by appends, inserts, overwrites and additions. */
  bytesWritten: number;
}

function listTree(root: string): { files: string[]; dirs: { dir: string; files: number; depth: number }[] } {
  const files: string[] = [];
  const dirs: { dir: string; files: number; depth: number }[] = [];
  const visit = (dir: string, depth: number): void => {
    let n = 0;
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st: Stats = lstatSync(p);
      if (st.isDirectory()) visit(p, depth + 1);
      else if (st.isFile()) {
        files.push(p);
        n++;
      }
    }
    dirs.push({ dir, files: n, depth });
  };
  visit(root, 0);
  dirs.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  return { files, dirs };
}

export async function applyDayOfChanges(ds: Dataset, seed: string): Promise<ChangeSummary> {
  const rng = new Prng(`${seed}/changes`);
  const { files: all, dirs } = listTree(ds.root);
  const files = rng.shuffle(all.filter((f) => f !== ds.bigFile));
  const n = files.length;
  const count = (share: number) => Math.max(1, Math.round(n * share));
  let at = 0;
  const take = (k: number) => files.slice(at, (at += k));
  const appendSet = take(count(0.004));
  const editSet = take(count(0.003));
  const overwriteSet = take(count(0.003));
  const deleteSet = take(count(0.002));
  const addCount = count(0.002);
  let bytesWritten = 0;

  for (const f of appendSet) {
    const extra = rng.text(rng.int(64, 64 * 1024));
    await fsp.appendFile(f, extra);
    bytesWritten += extra.length;
  }
  for (const f of editSet) {
    const data = await fsp.readFile(f);
    const mid = Math.floor(data.length / 2);
    const insert = rng.text(rng.int(16, 4096));
    // Rewritten through the same inode, as an editor saving in place would.
    await fsp.writeFile(f, Buffer.concat([data.subarray(0, mid), insert, data.subarray(mid)]), { flag: 'r+' });
    bytesWritten += insert.length;
  }
  for (const f of overwriteSet) {
    const data = await fsp.readFile(f);
    // A byte substitution: entirely new content with the original's compressibility.
    for (let i = 0; i < data.length; i++) data[i] = (data[i]! + 1) & 0xff;
    await fsp.writeFile(f, data, { flag: 'r+' });
    bytesWritten += data.length;
  }
  for (const f of deleteSet) await fsp.unlink(f);

  const targets = dirs.filter((d) => d.depth >= 2 && d.dir !== path.dirname(ds.bigFile));
  for (let i = 0; i < addCount && i < ds.spares.length; i++) {
    const src = ds.spares[rng.int(0, ds.spares.length - 1)]!;
    const dst = path.join(rng.pick(targets).dir, `added-${i}-${path.basename(src)}`);
    await fsp.copyFile(src, dst);
    await fsp.chmod(dst, 0o644);
    bytesWritten += lstatSync(dst).size;
  }

  // A directory of a few dozen to a few hundred files gets a new name.
  const renamable = dirs.filter((d) => d.depth >= 3 && d.files >= 10 && d.files <= 300);
  const victim = renamable.length ? rng.pick(renamable) : rng.pick(targets);
  const renamedDir = `${victim.dir}.renamed`;
  await fsp.rename(victim.dir, renamedDir);

  // A few bytes in the middle of the large file, written in place.
  const size = lstatSync(ds.bigFile).size;
  const off = Math.floor(size / 2) + rng.int(0, 65536);
  const fh = await fsp.open(ds.bigFile, 'r+');
  try {
    const buf = Buffer.alloc(16);
    await fh.read(buf, 0, 16, off);
    for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! ^ 0x5a;
    await fh.write(buf, 0, 16, off);
  } finally {
    await fh.close();
  }
  bytesWritten += 16;

  return {
    appended: appendSet.length, edited: editSet.length, overwritten: overwriteSet.length, deleted: deleteSet.length,
    added: Math.min(addCount, ds.spares.length), renamedDir: path.relative(ds.root, victim.dir), renamedFiles: victim.files,
    bigFileOffset: off, bytesWritten,
  };
}
