// tardiff's comparison: a path as a backup set holds it against the live file system or another
// set. Files are compared by keyed content hash first (nothing is read when they match), then
// shown as a text diff or reported as differing binaries; directories name by name (the top
// directory always, subdirectories with --recurse), by the same byte names on both sides.
import type { Stats } from 'node:fs';
import { lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { IntegrityError, TardisError } from '../errors/errors.ts';
import type { Keyring } from '../keyring/keyring.ts';
import { TYPE_NAMES, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession, SetInfo } from '../model/session.ts';
import { components, lookupPath, reducePath, Restorer, rootFound } from '../restore/index.ts';
import { formatTime, paint } from '../ui/index.ts';
import { entryTypeOf, joinPath, printable } from '../walk/index.ts';
import { BINARY_PROBE, decodeText, isBinary, renderDiff, type DiffFormat } from './textdiff.ts';

/** One entry on one side: what the comparison looks at; `ref` is the side's own handle. */
export interface Node {
  type: string;
  size: number;
  mtimeMs: number;
  /** A symlink's target, plain. */
  target: Buffer | null;
  rdev: number;
  ref: unknown;
}

/** A tree to compare: a backup set, or the file system. */
export interface Side {
  /** The set's name, or "filesystem". */
  readonly label: string;
  /** The diff header of a file from this side: which version it is. */
  header(node: Node): string;
  find(path: Buffer): Promise<Node | null>;
  list(dir: Node): Promise<{ name: Buffer; node: Node }[]>;
  /** The keyed content hash (the one backups record). */
  hash(node: Node): Promise<Buffer>;
  read(node: Node): Promise<Buffer>;
  /** At least the first `n` bytes (less for a shorter file). */
  head(node: Node, n: number): Promise<Buffer>;
}

/** A backup set (with --reduce-path's leading components stripped in it). */
export class SetSide implements Side {
  readonly label: string;
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly set: SetInfo;
  private readonly reduce: number;
  private readonly restorer: Restorer;

  constructor(session: RepoSession, keyring: Keyring, set: SetInfo, reduce = 0) {
    this.session = session;
    this.keyring = keyring;
    this.set = set;
    this.reduce = reduce;
    this.label = set.name;
    this.restorer = new Restorer(session, keyring, { setId: set.id });
  }

  header(): string {
    return `${formatTime(this.set.startTime)} (${this.set.name})`;
  }

  private node(e: VisibleEntry): Node {
    return {
      type: TYPE_NAMES[e.type] ?? 'file', size: e.size, mtimeMs: e.mtimeS * 1000, rdev: e.rdev, ref: e,
      target: e.target ? this.keyring.decName(e.target) : null,
    };
  }

  async find(path: Buffer): Promise<Node | null> {
    const parts = await reducePath(this.session, this.keyring, this.set.id, components(path), this.reduce);
    const found = parts.length === 0 ? rootFound() : await lookupPath(this.session, this.keyring, this.set.id, parts);
    return found ? this.node(found.entry) : null;
  }

  async list(dir: Node): Promise<{ name: Buffer; node: Node }[]> {
    return (await this.restorer.children((dir.ref as VisibleEntry).node)).map((f) => ({ name: f.name, node: this.node(f.entry) }));
  }

  private entry(node: Node): VisibleEntry {
    const e = node.ref as VisibleEntry;
    if (e.hash === null) throw new TardisError(`no content in set ${this.set.name}: the file could not be read when it was backed up`);
    return e;
  }

  async hash(node: Node): Promise<Buffer> {
    return this.entry(node).hash!;
  }

  private async collect(node: Node, limit: number): Promise<Buffer> {
    const e = this.entry(node);
    const check = { bad: 0, mismatch: false };
    const parts: Buffer[] = [];
    let size = 0;
    for await (const data of this.restorer.content(e, check)) {
      parts.push(data);
      size += data.length;
      if (size >= limit) break;
    }
    if (check.bad) throw new IntegrityError(`${check.bad} damaged chunk(s) in set ${this.set.name}`);
    if (check.mismatch) throw new IntegrityError(`its content in set ${this.set.name} does not match its checksum`);
    return Buffer.concat(parts);
  }

  read(node: Node): Promise<Buffer> {
    return this.collect(node, Infinity);
  }

  head(node: Node, n: number): Promise<Buffer> {
    return this.collect(node, n);
  }
}

/** The live file system, read without following symlinks. */
export class FsSide implements Side {
  readonly label = 'filesystem';
  private readonly keyring: Keyring;

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  header(node: Node): string {
    return `${formatTime(node.mtimeMs)} (filesystem)`;
  }

  async find(path: Buffer): Promise<Node | null> {
    let st: Stats;
    try {
      st = await lstat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
    const type = entryTypeOf(st.mode) ?? 'socket';
    return { type, size: st.size, mtimeMs: st.mtimeMs, rdev: st.rdev, ref: path, target: type === 'symlink' ? await readlink(path, { encoding: 'buffer' }) : null };
  }

  async list(dir: Node): Promise<{ name: Buffer; node: Node }[]> {
    const out: { name: Buffer; node: Node }[] = [];
    for (const name of await readdir(dir.ref as Buffer, { encoding: 'buffer' })) {
      const node = await this.find(joinPath(dir.ref as Buffer, name));
      if (node) out.push({ name, node });
    }
    return out;
  }

  async hash(node: Node): Promise<Buffer> {
    const hasher = this.keyring.contentHasher();
    const fh = await open(node.ref as Buffer, 'r');
    try {
      for await (const data of fh.createReadStream({ highWaterMark: 1 << 20 })) hasher.update(data as Buffer);
    } finally {
      await fh.close();
    }
    return hasher.digest();
  }

  read(node: Node): Promise<Buffer> {
    return readFile(node.ref as Buffer);
  }

  async head(node: Node, n: number): Promise<Buffer> {
    const fh = await open(node.ref as Buffer, 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
}

export interface DiffOptions {
  format: DiffFormat;
  /** Lines of context (unified, context). */
  context: number;
  /** Compare subdirectories too (the directory given is always compared). */
  recurse?: boolean;
  /** Only name what differs. */
  list?: boolean;
  /** Diff binary files as text instead of only saying they differ. */
  binary?: boolean;
  color?: boolean;
}

/** Tardis' colours: removals red, additions green, changes and hunk marks yellow, guides cyan. */
function lineStyle(line: string): string {
  switch (line[0]) {
    case '-': return '31';
    case '+': return '32';
    case '!':
    case '@': return '33';
    case '?':
    case '*': return '36';
    default: return '';
  }
}

export interface DiffOutput {
  /** One line of the comparison, on stdout. */
  line(text: string): void;
  /** A path that could not be compared (exit status 2). */
  problem(message: string): void;
  /** A note for -v. */
  detail(message: string): void;
}

export class TreeDiff {
  /** Entries that differ. */
  differences = 0;
  /** Paths that could not be compared. */
  troubles = 0;
  private readonly a: Side;
  private readonly b: Side;
  private readonly o: DiffOptions;
  private readonly out: DiffOutput;

  /** Compares `a` (the older side, a set) with `b` (another set or the file system). */
  constructor(a: Side, b: Side, opts: DiffOptions, out: DiffOutput) {
    this.a = a;
    this.b = b;
    this.o = opts;
    this.out = out;
  }

  /** Compares an absolute path given by the user. */
  async compare(path: Buffer): Promise<void> {
    let na: Node | null;
    let nb: Node | null;
    try {
      [na, nb] = await Promise.all([this.a.find(path), this.b.find(path)]);
    } catch (err) {
      this.failed(printable(path), err);
      return;
    }
    await this.entry(path, na, nb, true);
  }

  private say(text: string, style: string): void {
    this.out.line(this.o.color ? paint(text, style) : text);
  }

  /** Something differs: `p` alone with --list, else `message`. */
  private differ(p: string, message: string, style = '31'): void {
    this.differences++;
    this.say(this.o.list ? p : message, this.o.list ? '33' : style);
  }

  private failed(p: string, err: unknown): void {
    if (!(err instanceof TardisError) && !(err instanceof Error && 'code' in err)) throw err;
    this.troubles++;
    this.out.problem(`${p}: ${err.message}`);
  }

  private async entry(path: Buffer, na: Node | null, nb: Node | null, top: boolean): Promise<void> {
    const p = printable(path);
    const { a, b } = this;
    try {
      if (!na || !nb) {
        if (top) {
          this.troubles++;
          this.out.problem(!na && !nb ? `${p}: not in ${a.label}, nor in ${b.label}` : `${p}: not in ${(na ? b : a).label}`);
        } else {
          this.differ(p, `${p} in ${(na ? a : b).label}, not in ${(na ? b : a).label}`);
        }
        return;
      }
      if (na.type !== nb.type) {
        this.differ(p, `${p} is a ${na.type} in ${a.label}, a ${nb.type} in ${b.label}`);
        return;
      }
      switch (na.type) {
        case 'dir':
          if (top || this.o.recurse) await this.dir(path, na, nb);
          else this.out.detail(`${p}: a subdirectory, not compared without --recurse`);
          return;
        case 'file':
          await this.file(p, na, nb);
          return;
        case 'symlink':
          if (!na.target!.equals(nb.target!)) {
            this.differ(p, `Symbolic links ${p} differ: ${printable(na.target!)} in ${a.label}, ${printable(nb.target!)} in ${b.label}`, '33');
          }
          return;
        default:
          if (na.rdev !== nb.rdev) this.differ(p, `${p}: device numbers differ (${na.rdev} in ${a.label}, ${nb.rdev} in ${b.label})`, '33');
      }
    } catch (err) {
      this.failed(p, err);
    }
  }

  private async dir(path: Buffer, na: Node, nb: Node): Promise<void> {
    const [la, lb] = await Promise.all([this.a.list(na), this.b.list(nb)]);
    // Names are bytes on both sides (Tardis compared decoded names with raw ones, so every entry
    // of a two-set directory diff looked missing).
    const names = new Map<string, { name: Buffer; a: Node | null; b: Node | null }>();
    for (const [side, list] of [['a', la], ['b', lb]] as const) {
      for (const { name, node } of list) {
        const k = name.toString('latin1');
        const slot = names.get(k) ?? { name, a: null, b: null };
        slot[side] = node;
        names.set(k, slot);
      }
    }
    for (const s of [...names.values()].sort((x, y) => Buffer.compare(x.name, y.name))) {
      await this.entry(joinPath(path, s.name), s.a, s.b, false);
    }
  }

  private async file(p: string, na: Node, nb: Node): Promise<void> {
    const { a, b } = this;
    if (na.size === nb.size) {
      const [ha, hb] = await Promise.all([a.hash(na), b.hash(nb)]);
      if (ha.equals(hb)) return;
    }
    if (this.o.list) {
      this.differ(p, p);
      return;
    }
    if (!this.o.binary) {
      const [ha, hb] = await Promise.all([a.head(na, BINARY_PROBE), b.head(nb, BINARY_PROBE)]);
      if (isBinary(ha) || isBinary(hb)) {
        this.differ(p, `Binary files ${p} (${a.label}) and ${p} (${b.label}) differ`, '33');
        return;
      }
    }
    const [da, db] = await Promise.all([a.read(na), b.read(nb)]);
    const lines = renderDiff(decodeText(da), decodeText(db), this.o.format, this.o.context, {
      a: { name: p, header: a.header(na) },
      b: { name: p, header: b.header(nb) },
    });
    this.differences++;
    // Bytes that differ can decode alike (an invalid byte and its "\xNN" spelt out).
    if (lines.length === 0) this.say(`Files ${p} (${a.label}) and ${p} (${b.label}) differ`, '33');
    for (const l of lines) this.say(l, lineStyle(l));
  }
}
