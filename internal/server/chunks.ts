// Sealed chunks read from their packs by the catalog's chunk index (sessions, and a rebuild
// reading snapshots from the catalog it is building).
import { chunkLocations, type CatalogDb } from '../catalog/index.ts';
import type { Store } from '../store/index.ts';

/** Blobs in the order asked; null where a chunk is unknown or its bytes cannot be read. */
export async function readStoredChunks(store: Store, db: CatalogDb, ids: Buffer[]): Promise<(Buffer | null)[]> {
  const where = await chunkLocations(db, ids);
  // One open per pack, not per chunk; a damaged pack is retried chunk by chunk so that only
  // the unreadable chunks come back as null.
  const byPack = new Map<string, number[]>();
  ids.forEach((id, i) => {
    const loc = where.get(id.toString('hex'));
    if (!loc) return;
    const list = byPack.get(loc.pack);
    if (list) list.push(i);
    else byPack.set(loc.pack, [i]);
  });
  const out: (Buffer | null)[] = ids.map(() => null);
  await Promise.all([...byPack].map(async ([pack, idx]) => {
    const ranges = idx.map((i) => where.get(ids[i]!.toString('hex'))!);
    try {
      (await store.getRanges('packs', pack, ranges)).forEach((b, k) => (out[idx[k]!] = b));
    } catch {
      await Promise.all(idx.map(async (i, k) => {
        out[i] = await store.getRange('packs', pack, ranges[k]!.offset, ranges[k]!.length).catch(() => null);
      }));
    }
  }));
  return out;
}
