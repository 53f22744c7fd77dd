// Micro-benchmarks: each stage of a backup alone, on one thread, over a sample of the dataset,
// against the plain read speed of the same files (page cache warm) as the reference.
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EntryEncoder } from '../../internal/backup/entries.ts';
import { CatalogDb, stmtInsertContents, stmtInsertNodes, stmtInsertVersions } from '../../internal/catalog/index.ts';
import { Chunker, DEFAULT_CHUNKER } from '../../internal/chunker/index.ts';
import { compressBlob } from '../../internal/compress/index.ts';
import { chunkId, generateMasterKeys } from '../../internal/crypto/index.ts';
import { Keyring, sealChunkWith } from '../../internal/keyring/keyring.ts';
import type { RepoConfig } from '../../internal/model/session.ts';
import { BLOB_DATA, PackBuilder } from '../../internal/pack/index.ts';
import { LocalStore } from '../../internal/store/index.ts';
import { walk, type FsEntry } from '../../internal/walk/index.ts';
import type { Dataset } from './dataset.ts';
import { Prng } from './prng.ts';

export interface MicroResult {
  stage: string;
  /** What was processed, e.g. "64.0 MiB" or "12,345 entries". */
  work: string;
  /** The stage's own rate, in its unit. */
  rate: number;
  unit: 'MiB/s' | 'entries/s' | 'rows/s';
  /** The rate as MiB of the dataset per second (entries at the dataset's mean bytes per entry). */
  mibPerS: number;
  /** mibPerS / the raw read speed: 1.0 = as fast as reading the files. */
  vsRead: number;
  note?: string;
}

const MiB = 2 ** 20;

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, (performance.now() - t0) / 1000];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

function listFiles(root: string, skip: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && p !== skip) out.push(p);
    }
  };
  visit(root);
  return out;
}

/** Plain readdir + lstat over the tree, one call at a time: the floor for any walk. */
function plainStatWalk(root: string): number {
  let n = 0;
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const st = lstatSync(path.join(dir, name));
      n++;
      if (st.isDirectory()) visit(path.join(dir, name));
    }
  };
  visit(root);
  return n;
}

export async function runMicro(ds: Dataset, sampleBytes: number, seed: string, tmp: string, log: (m: string) => void): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  const bytesPerEntry = ds.bytes / Math.max(1, ds.files + ds.dirs + ds.symlinks + ds.hardlinks);
  let readMiBs = 1;
  const add = (stage: string, work: string, rate: number, unit: MicroResult['unit'], mibPerS: number, note?: string) => {
    results.push({ stage, work, rate, unit, mibPerS, vsRead: mibPerS / readMiBs, ...(note ? { note } : {}) });
    log(`micro: ${stage}: ${rate.toFixed(unit === 'MiB/s' ? 1 : 0)} ${unit}`);
  };

  // The sample: dataset files in a seeded order up to sampleBytes.
  const files = new Prng(`${seed}/micro`).shuffle(listFiles(ds.root, ds.bigFile));
  const sample: string[] = [];
  let total = 0;
  for (const f of files) {
    if (total >= sampleBytes) break;
    sample.push(f);
    total += lstatSync(f).size;
  }
  for (const f of sample) readFileSync(f); // warm
  const [bufs, readS] = time(() => sample.map((f) => readFileSync(f)));
  const mib = total / MiB;
  readMiBs = mib / readS;
  add('raw read (readFileSync, page cache warm)', `${mib.toFixed(1)} MiB, ${sample.length} files`, readMiBs, 'MiB/s', readMiBs, 'the reference');

  // Chunking: a chunker per file fed 1 MiB at a time, as a backup streams a file.
  const keys = generateMasterKeys();
  const [chunks, chunkS] = time(() => {
    const out: Buffer[] = [];
    for (const b of bufs) {
      const c = new Chunker(DEFAULT_CHUNKER, keys.chunkerSeed);
      for (let p = 0; p < b.length; p += MiB) out.push(...c.push(b.subarray(p, p + MiB)));
      out.push(...c.finish());
    }
    return out;
  });
  add('chunking (internal/chunker FastCDC)', `${chunks.length} chunks`, mib / chunkS, 'MiB/s', mib / chunkS);

  const [ids, hashS] = time(() => chunks.map((c) => chunkId(keys.idKey, c)));
  add('keyed hashing (internal/crypto chunkId, HMAC-SHA256)', `${ids.length} chunks`, mib / hashS, 'MiB/s', mib / hashS);

  const [compressed, zS] = time(() => chunks.map((c) => compressBlob(c, 'zstd')));
  const zBytes = compressed.reduce((n, c) => n + c.length, 0);
  add('zstd level 3 (internal/compress)', `→ ${((100 * zBytes) / total).toFixed(0)} % of the input`, mib / zS, 'MiB/s', mib / zS);

  for (const aead of ['chacha20-poly1305', 'aes-256-gcm'] as const) {
    const sk = { dataKey: keys.dataKey, aead, compression: 'none' as const };
    const [, sS] = time(() => chunks.map((c, i) => sealChunkWith(sk, ids[i]!, c)));
    add(`AEAD sealing ${aead} (internal/keyring sealChunk, no compression)`, `${chunks.length} chunks`, mib / sS, 'MiB/s', mib / sS);
  }
  const full = { dataKey: keys.dataKey, aead: 'chacha20-poly1305' as const, compression: 'zstd' as const };
  const [sealed, fullS] = time(() => chunks.map((c, i) => sealChunkWith(full, ids[i]!, c)));
  add('sealChunk zstd + chacha20-poly1305 (what a seal worker does)', `${chunks.length} chunks`, mib / fullS, 'MiB/s', mib / fullS);

  // Pack writing: sealed blobs into 16 MiB packs, each written, fsynced and renamed into a store.
  const repo = path.join(tmp, 'micro-store');
  rmSync(repo, { recursive: true, force: true });
  const store = await LocalStore.init(repo);
  const sealedBytes = sealed.reduce((n, b) => n + b.length, 0);
  const [packs, packS] = await timeAsync(async () => {
    let pb = new PackBuilder();
    let n = 0;
    for (let i = 0; i < sealed.length; i++) {
      if (!pb.has(ids[i]!)) pb.add(ids[i]!, BLOB_DATA, sealed[i]!);
      if (pb.isFull() || i === sealed.length - 1) {
        if (pb.count > 0) {
          const p = pb.finish();
          await store.put('packs', p.name, p.data);
          n++;
        }
        pb = new PackBuilder();
      }
    }
    return n;
  });
  add('pack writing (internal/pack + internal/store, fsync)', `${packs} packs, ${(sealedBytes / MiB).toFixed(1)} MiB sealed`, sealedBytes / MiB / packS, 'MiB/s', mib / packS, 'rate of sealed bytes');

  // The walk: entries per second through internal/walk, and plain readdir + lstat as its floor.
  const entries: { dir: number; list: FsEntry[] }[] = [];
  const [walked, walkS] = await timeAsync(async () => {
    let n = 0;
    for await (const l of walk([Buffer.from(ds.root)])) {
      n += l.entries.length;
      entries.push({ dir: entries.length + 1, list: l.entries });
    }
    return n;
  });
  add('file-tree walk (internal/walk, lstat per entry)', `${walked} entries`, walked / walkS, 'entries/s', (walked / walkS) * bytesPerEntry / MiB);
  const [plain, plainS] = time(() => plainStatWalk(ds.root));
  add('plain readdirSync + lstatSync walk (the stat floor)', `${plain} entries`, plain / plainS, 'entries/s', (plain / plainS) * bytesPerEntry / MiB);

  // Entry encoding: every entry's name (AES-SIV) and owners, done for every entry on every backup.
  const config: RepoConfig = {
    version: 1, id: 'bench', created: new Date(0).toISOString(), chunker: { ...DEFAULT_CHUNKER },
    aead: 'chacha20-poly1305', compression: 'zstd', encrypted: true,
  };
  const keyring = new Keyring(keys, config);
  const enc = new EntryEncoder(keyring);
  const [encoded, encS] = time(() => entries.map((d) => ({ dir: d.dir, rows: d.list.map((e) => enc.encode(e)), hash: enc.listingHash(d.list) })));
  add('entry encoding (names AES-SIV + listing hash, internal/backup)', `${walked} entries`, walked / encS, 'entries/s', (walked / encS) * bytesPerEntry / MiB);

  // Catalog inserts: nodes, contents and versions as a backup writes them, ~500 entries a transaction.
  const dbDir = path.join(tmp, 'micro-catalog');
  rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dbDir, { recursive: true });
  const db = await CatalogDb.open(path.join(dbDir, 'catalog.db'), { create: true });
  try {
    // The statements are built first, so only the database's work is timed.
    const batches: ReturnType<typeof stmtInsertNodes>[][] = [];
    let batch: ReturnType<typeof stmtInsertNodes>[] = [];
    let pending = 0;
    let rows = 0;
    let nextNode = 2_000_000;
    for (const d of encoded) {
      const parent = 1_000_000 + d.dir;
      const files = d.rows.filter((e) => e.type === 0);
      const contents = files.map((e) => ({ hash: createHash('sha256').update(e.name).digest(), size: e.size, chunks: [randomBytes(32)] }));
      const byName = new Map(files.map((e, i) => [e.name.toString('hex'), contents[i]!.hash]));
      batch.push(stmtInsertNodes(d.rows.map((e) => [nextNode++, parent, e.name.toString('hex')])));
      if (contents.length) batch.push(stmtInsertContents(contents));
      batch.push(stmtInsertVersions(1, d.rows.map((e) => ({ parent, e, content: byName.get(e.name.toString('hex')) ?? null }))));
      pending += d.rows.length;
      rows += d.rows.length;
      if (pending >= 500) {
        batches.push(batch);
        batch = [];
        pending = 0;
      }
    }
    if (batch.length) batches.push(batch);
    const [, catS] = await timeAsync(async () => {
      for (let i = 0; i < batches.length; i++) await db.batch(batches[i]!, { lazy: i < batches.length - 1 });
    });
    add('catalog inserts (internal/catalog: nodes + contents + versions)', `${rows} versions`, rows / catS, 'rows/s', (rows / catS) * bytesPerEntry / MiB, '~500 a transaction');
  } finally {
    db.close();
    rmSync(dbDir, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
  }
  return results;
}
