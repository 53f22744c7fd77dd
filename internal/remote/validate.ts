// Checks of request bodies from the wire, before anything reaches the repository engine: every
// field's type, range and length, and only the known fields are passed on (a fresh object, so
// extra fields from a peer never reach the engine). A failure is a ProtocolError: a well-behaved
// client never sends such a request, so the connection ends.
import { ProtocolError } from '../protocol/errors.ts';
import type { Message } from '../protocol/codec.ts';
import type { NamedEntry } from '../model/entry.ts';
import type { BeginBackupRequest, ChunkUpload, DirRequest, FileCommit, FinishRequest, GcOptions, KeySlotData, KeysChange, PurgeRule, SetChange } from '../model/session.ts';
import { checkAuthSetup } from './auth.ts';
import { isValidName } from '../store/index.ts';

export const LIMITS = {
  /** Entries of one directory listing (the frame size bounds it further). */
  dirEntries: 1_000_000,
  /** Chunk ids in one have/need question or read. */
  ids: 100_000,
  /** Chunks in one upload. */
  uploads: 10_000,
  /** Files in one commit. */
  files: 100_000,
  /** Chunks of one file. */
  fileChunks: 2_000_000,
  name: 4096,
  target: 65_536,
  owner: 4096,
  hash: 64,
  tags: 256,
  tag: 4096,
  text: 4096,
  stats: 256,
  /** One sealed chunk. */
  blob: 64 << 20,
  snapshot: 64 << 20,
  versionsPage: 10_000,
  /** Sets named in one request. */
  sets: 100_000,
  /** One key slot, as JSON. */
  keySlot: 16 << 10,
  keySlots: 64,
  settings: 64,
} as const;

const U32 = 2 ** 32 - 1;

export class Check {
  private readonly what: string;

  constructor(what: string) {
    this.what = what;
  }

  fail(field: string, why: string): never {
    throw new ProtocolError(`bad ${this.what} request: ${field} ${why}`);
  }

  obj(v: unknown, field: string): Message {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) this.fail(field, 'is not a map');
    return v as Message;
  }

  int(v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `is not a whole number from ${min} to ${max}`);
    return v as number;
  }

  /** Integers that may exceed 2^53 (inode and device numbers arrive as rounded doubles). */
  bigint(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 64) this.fail(field, 'is not a whole number from 0 to 2^64');
    return v as number;
  }

  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'is not a number');
    return v as number;
  }

  bool(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'is not true or false');
    return v as boolean;
  }

  optBool(v: unknown, field: string): boolean | undefined {
    return v === undefined || v === null ? undefined : this.bool(v, field);
  }

  str(v: unknown, field: string, max: number): string {
    if (typeof v !== 'string' || v.length > max) this.fail(field, `is not a string of at most ${max} characters`);
    return v as string;
  }

  buf(v: unknown, field: string, max: number, min = 0): Buffer {
    if (!Buffer.isBuffer(v) || v.length > max || v.length < min) {
      this.fail(field, min === max ? `is not ${max} bytes` : `is not a byte string of ${min} to ${max} bytes`);
    }
    return v as Buffer;
  }

  bufOrNull(v: unknown, field: string, max: number, min = 0): Buffer | null {
    return v === null || v === undefined ? null : this.buf(v, field, max, min);
  }

  arr(v: unknown, field: string, max: number): unknown[] {
    if (!Array.isArray(v) || v.length > max) this.fail(field, `is not a list of at most ${max} items`);
    return v as unknown[];
  }

  ids(v: unknown, field: string, max: number = LIMITS.ids): Buffer[] {
    return this.arr(v, field, max).map((x, i) => this.buf(x, `${field}[${i}]`, 32, 32));
  }

  entry(v: unknown, field: string): NamedEntry {
    const e = this.obj(v, field);
    const f = (k: string) => `${field}.${k}`;
    return {
      name: this.buf(e.name, f('name'), LIMITS.name, 1),
      type: this.int(e.type, f('type'), 0, 5),
      mode: this.int(e.mode, f('mode'), 0, 0o177777),
      uid: this.int(e.uid, f('uid'), 0, U32),
      gid: this.int(e.gid, f('gid'), 0, U32),
      user: this.bufOrNull(e.user, f('user'), LIMITS.owner),
      group: this.bufOrNull(e.group, f('group'), LIMITS.owner),
      size: this.int(e.size, f('size')),
      mtimeS: this.int(e.mtimeS, f('mtimeS'), -Number.MAX_SAFE_INTEGER),
      mtimeNs: this.int(e.mtimeNs, f('mtimeNs'), 0, 999_999_999),
      ctimeS: this.int(e.ctimeS, f('ctimeS'), -Number.MAX_SAFE_INTEGER),
      ctimeNs: this.int(e.ctimeNs, f('ctimeNs'), 0, 999_999_999),
      atimeS: this.int(e.atimeS, f('atimeS'), -Number.MAX_SAFE_INTEGER),
      atimeNs: this.int(e.atimeNs, f('atimeNs'), 0, 999_999_999),
      ino: this.bigint(e.ino, f('ino')),
      dev: this.bigint(e.dev, f('dev')),
      nlink: this.int(e.nlink, f('nlink'), 0, U32),
      rdev: this.bigint(e.rdev, f('rdev')),
      target: this.bufOrNull(e.target, f('target'), LIMITS.target),
    };
  }
}

export function beginBackupReq(m: Message): BeginBackupRequest {
  const c = new Check('beginBackup');
  const req: BeginBackupRequest = {
    tags: c.arr(m.tags, 'tags', LIMITS.tags).map((t, i) => c.buf(t, `tags[${i}]`, LIMITS.tag, 1)),
    full: c.bool(m.full, 'full'),
    clientTime: c.num(m.clientTime, 'clientTime'),
    clientVersion: c.str(m.clientVersion, 'clientVersion', 64),
  };
  if (m.name !== undefined && m.name !== null) req.name = c.str(m.name, 'name', 255);
  const moveTags = c.optBool(m.moveTags, 'moveTags');
  if (moveTags !== undefined) req.moveTags = moveTags;
  const force = c.optBool(m.force, 'force');
  if (force !== undefined) req.force = force;
  return req;
}

export function dirReq(m: Message): DirRequest {
  const c = new Check('sendDir');
  const d = m.dir as Message | number;
  return {
    dir: typeof d === 'object' && d !== null ? { ref: c.int(d.ref, 'dir.ref'), index: c.int(d.index, 'dir.index') } : c.int(d, 'dir'),
    ...(m.ref === undefined || m.ref === null ? {} : { ref: c.int(m.ref, 'ref') }),
    partial: c.bool(m.partial, 'partial'),
    hash: c.bufOrNull(m.hash, 'hash', LIMITS.hash, 1),
    entries: c.arr(m.entries, 'entries', LIMITS.dirEntries).map((e, i) => c.entry(e, `entries[${i}]`)),
  };
}

export function idsReq(what: string, m: Message): Buffer[] {
  return new Check(what).ids(m.ids, 'ids');
}

export function putChunksReq(m: Message): ChunkUpload[] {
  const c = new Check('putChunks');
  return c.arr(m.chunks, 'chunks', LIMITS.uploads).map((v, i) => {
    const o = c.obj(v, `chunks[${i}]`);
    return { id: c.buf(o.id, `chunks[${i}].id`, 32, 32), type: c.int(o.type, `chunks[${i}].type`, 0, 255), blob: c.buf(o.blob, `chunks[${i}].blob`, LIMITS.blob, 1) };
  });
}

export function commitFilesReq(m: Message): FileCommit[] {
  const c = new Check('commitFiles');
  return c.arr(m.files, 'files', LIMITS.files).map((v, i) => {
    const o = c.obj(v, `files[${i}]`);
    return {
      dir: c.int(o.dir, `files[${i}].dir`),
      entry: c.entry(o.entry, `files[${i}].entry`),
      hash: c.bufOrNull(o.hash, `files[${i}].hash`, LIMITS.hash, 1),
      chunks: c.ids(o.chunks, `files[${i}].chunks`, LIMITS.fileChunks),
    };
  });
}

export function finishReq(m: Message): FinishRequest {
  const c = new Check('finishBackup');
  const statsIn = c.obj(m.stats, 'stats');
  const keys = Object.keys(statsIn);
  if (keys.length > LIMITS.stats) c.fail('stats', `has more than ${LIMITS.stats} fields`);
  const stats: Record<string, number> = {};
  for (const k of keys) {
    if (k.length > 64) c.fail('stats', 'has a field name over 64 characters');
    stats[k] = c.num(statsIn[k], `stats.${k}`);
  }
  const req: FinishRequest = { stats, snapshot: c.bufOrNull(m.snapshot, 'snapshot', LIMITS.snapshot, 1) };
  if (m.snapshotChunks !== undefined && m.snapshotChunks !== null) req.snapshotChunks = c.ids(m.snapshotChunks, 'snapshotChunks', LIMITS.snapshot / 32);
  return req;
}

export function reasonReq(m: Message): string {
  return new Check('abortBackup').str(m.reason, 'reason', LIMITS.text);
}

export function setDirReq(what: string, m: Message): { setId: number; dir: number } {
  const c = new Check(what);
  return { setId: c.int(m.setId, 'setId'), dir: c.int(m.dir, 'dir') };
}

export function lookupReq(m: Message): { setId: number; dir: number; name: Buffer } {
  const c = new Check('lookup');
  return { setId: c.int(m.setId, 'setId'), dir: c.int(m.dir, 'dir'), name: c.buf(m.name, 'name', LIMITS.name, 1) };
}

export function versionsReq(m: Message): { setId: number; after: number; limit: number } {
  const c = new Check('setVersions');
  return { setId: c.int(m.setId, 'setId'), after: c.int(m.after, 'after'), limit: c.int(m.limit, 'limit', 1, LIMITS.versionsPage) };
}

export function setReq(what: string, m: Message): number {
  return new Check(what).int(m.setId, 'setId');
}

export function setIdsReq(m: Message): number[] {
  const c = new Check('deleteSets');
  if (!Array.isArray(m.ids) || m.ids.length === 0 || m.ids.length > LIMITS.sets) c.fail('ids', `is not a list of 1 to ${LIMITS.sets} set ids`);
  return (m.ids as unknown[]).map((id, i) => c.int(id, `ids[${i}]`));
}

export function purgeReq(m: Message): { rule: PurgeRule; dryRun: boolean } {
  const c = new Check('purge');
  const r = c.obj(m.rule, 'rule');
  const rule: PurgeRule = {
    priority: c.int(r.priority, 'rule.priority', -(2 ** 31), 2 ** 31),
    before: c.int(r.before, 'rule.before', -(2 ** 52), 2 ** 52),
    belowId: c.int(r.belowId, 'rule.belowId'),
  };
  if (r.incompleteOnly !== undefined) rule.incompleteOnly = c.bool(r.incompleteOnly, 'rule.incompleteOnly');
  return { rule, dryRun: c.bool(m.dryRun, 'dryRun') };
}

export function gcReq(m: Message): GcOptions {
  const c = new Check('collectGarbage');
  const v = c.num(m.repackBelow, 'repackBelow');
  if (v < 0 || v > 1) c.fail('repackBelow', 'is not between 0 and 1');
  return { repackBelow: v };
}

export function updateSetReq(m: Message): { id: number; change: SetChange } {
  const c = new Check('updateSet');
  const x = c.obj(m.change, 'change');
  const change: SetChange = {};
  if (x.name !== undefined) change.name = c.str(x.name, 'change.name', 256);
  if (x.priority !== undefined) change.priority = c.int(x.priority, 'change.priority', -(2 ** 31), 2 ** 31);
  if (x.locked !== undefined) change.locked = c.bool(x.locked, 'change.locked');
  if (x.moveTags !== undefined) change.moveTags = c.bool(x.moveTags, 'change.moveTags');
  for (const k of ['addTags', 'removeTags'] as const) {
    if (x[k] === undefined) continue;
    if (!Array.isArray(x[k]) || (x[k] as unknown[]).length > LIMITS.tags) c.fail(`change.${k}`, `is not a list of at most ${LIMITS.tags} tags`);
    change[k] = (x[k] as unknown[]).map((t, i) => c.buf(t, `change.${k}[${i}]`, LIMITS.tag, 1));
  }
  return { id: c.int(m.id, 'id'), change };
}

/** A key slot is opaque to the server: a small map of strings and numbers. */
export function checkKeySlot(c: Check, v: unknown, field: string): KeySlotData {
  const o = c.obj(v, field);
  const keys = Object.keys(o);
  if (keys.length > 32) c.fail(field, 'has too many fields');
  for (const k of keys) {
    const x = o[k];
    if (!(x === null || typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) c.fail(`${field}.${k}`, 'is not a string or number');
  }
  if (JSON.stringify(o).length > LIMITS.keySlot) c.fail(field, 'is too large');
  return { ...o };
}

export function setKeysReq(m: Message): KeysChange {
  const c = new Check('setKeys');
  const slots = c.arr(m.slots, 'slots', LIMITS.keySlots).map((s, i) => checkKeySlot(c, s, `slots[${i}]`));
  const change: KeysChange = { slots, encrypted: c.bool(m.encrypted, 'encrypted') };
  if (m.login !== undefined && m.login !== null) change.login = checkAuthSetup(m.login)!;
  return change;
}

export function packReq(m: Message): string {
  const c = new Check('packChunkIds');
  const name = c.str(m.pack, 'pack', 128);
  if (!isValidName('packs', name)) c.fail('pack', 'is not a pack name');
  return name;
}

export function setSettingsReq(m: Message): Record<string, string | null> {
  const c = new Check('setSettings');
  const o = c.obj(m.changes, 'changes');
  const keys = Object.keys(o);
  if (keys.length > LIMITS.settings) c.fail('changes', `has more than ${LIMITS.settings} keys`);
  const out: Record<string, string | null> = {};
  for (const k of keys) {
    if (k.length > 64) c.fail('changes', 'has a key longer than 64 characters');
    out[k] = o[k] === null ? null : c.str(o[k], `changes.${k.slice(0, 64)}`, LIMITS.text);
  }
  return out;
}
