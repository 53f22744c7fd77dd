// lstardis' listing: for each path, the sets where it changed (or every set, or the last), then,
// for a directory, every name it held in any of the sets with the versions of each; optionally
// recursive, long (ls -l rows per version), coloured, or as JSON.
import picomatch from 'picomatch';
import type { Keyring } from '../keyring/keyring.ts';
import { T_DIR, T_FILE, T_SYMLINK, TYPE_NAMES, type VisibleEntry } from '../model/entry.ts';
import type { RepoSession, SetInfo } from '../model/session.ts';
import { components } from '../restore/index.ts';
import { displayWidth, formatBytes, formatLsTime, formatMode, paint } from '../ui/index.ts';
import { printable } from '../walk/index.ts';
import { chunkCount, classify, dirHistory, pathHistory, shownVersions, type Child, type History, type Version, type VersionsShown } from './history.ts';

/** Tardis' TARDIS_LS_COLORS default, except that "white" details stay the terminal's own colour. */
export const DEFAULT_LS_COLORS = 'gone=yellow:changed=cyan:full=cyan,,bold:moved=blue:header=green:name=yellow:details=none:error=red,,bold:default=none';

export interface ListOptions {
  long?: boolean;
  hidden?: boolean;
  reverse?: boolean;
  annotate?: boolean;
  size?: boolean;
  dsize?: boolean;
  human?: boolean;
  dirinfo?: boolean;
  checksums?: boolean;
  chainlen?: boolean;
  inode?: boolean;
  versions?: VersionsShown;
  deletions?: boolean;
  broken?: boolean;
  oneline?: boolean;
  times?: boolean;
  metadata?: boolean;
  headers?: boolean;
  /** SGR styles by role (gone, changed, full, moved, header, name, details, error, default); none: no colour. */
  colors?: Record<string, string> | null;
  /** Columns for version and name lists; default from `width`, else 1. */
  columns?: number;
  /** The terminal's width, when writing to one. */
  width?: number;
  /** Levels of subdirectories to list below each path (0: none). */
  recurse?: number;
  reduce?: number;
}

/** What --json prints for one path. */
export interface ListedPath {
  path: string;
  found: boolean;
  type?: string;
  versions?: ListedVersion[];
  children?: ListedPath[];
}

export interface ListedVersion {
  set: string;
  setId: number;
  status: string;
  full: boolean;
  type?: string;
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  user?: string | null;
  group?: string | null;
  size?: number;
  mtime?: string;
  inode?: number;
  checksum?: string | null;
  chunks?: number;
  newChunks?: number | null;
  target?: string | null;
}

const joinDisplay = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);
const sortKey = (s: string) => s.toLowerCase().replace(/^\.+/, '');
/** `s` padded with spaces to `width` terminal cells. */
const padCells = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - displayWidth(s)));

export class Lister {
  /** Paths not found in any of the sets. */
  notFound = 0;
  private readonly session: RepoSession;
  private readonly keyring: Keyring;
  private readonly sets: SetInfo[];
  private readonly o: ListOptions;
  private readonly out: (line: string) => void;
  private readonly now = Date.now();
  /** Whether to print text (else only the data list() returns, for --json). */
  private readonly text: boolean;
  /** Width of a set name cell: the longest name plus room for "(…)". */
  private readonly setCell: number;

  /** `out` receives each line of text; null for JSON only (list() returns the data either way). */
  constructor(session: RepoSession, keyring: Keyring, sets: SetInfo[], opts: ListOptions, out: ((line: string) => void) | null) {
    this.session = session;
    this.keyring = keyring;
    this.sets = sets;
    this.o = opts;
    this.out = out ?? (() => undefined);
    this.text = out !== null;
    this.setCell = Math.max(0, ...sets.map((s) => displayWidth(s.name))) + 2;
  }

  private paint(s: string, role: string): string {
    return this.o.colors ? paint(s, this.o.colors[role]) : s;
  }

  /** Lists the path `display` (absolute, as the user means it); `parts` are its components. */
  async list(display: string, parts: Buffer[], onMissing: (path: string) => void): Promise<ListedPath> {
    const history = await pathHistory(this.session, this.keyring, this.sets, parts, this.o.reduce ?? 0);
    if (!history.some(Boolean)) {
      this.notFound++;
      onMissing(display);
      return { path: display, found: false };
    }
    return this.path(display, history, this.o.recurse ?? 0);
  }

  /** The names in `dir` (absolute) matching the shell pattern `pattern` in any set, sorted. */
  async glob(dir: Buffer[], pattern: string): Promise<Buffer[]> {
    const history = await pathHistory(this.session, this.keyring, this.sets, dir, this.o.reduce ?? 0);
    const match = picomatch(pattern, { dot: true });
    return (await dirHistory(this.session, this.keyring, this.sets, history))
      .map((c) => c.name)
      .filter((n) => match(n.toString('utf8')))
      .sort(Buffer.compare);
  }

  /** Expands the shell patterns of an absolute path against the backed-up names (--glob). */
  async expand(abs: string): Promise<string[]> {
    const parts = components(abs).map((p) => p.toString('utf8'));
    const magic = parts.findIndex((p) => picomatch.scan(p).isGlob);
    if (magic < 0) return [abs];
    const dir = parts.slice(0, magic);
    const names = await this.glob(dir.map((p) => Buffer.from(p)), parts[magic]!);
    const rest = parts.slice(magic + 1);
    const out: string[] = [];
    for (const n of names) out.push(...(await this.expand('/' + [...dir, n.toString('utf8'), ...rest].join('/'))));
    return out;
  }

  /** One path's versions and contents; `top` for a path given (--no-headers drops its header, never a subdirectory's). */
  private async path(display: string, history: History, recurse: number, top = true): Promise<ListedPath> {
    const shown = this.shown(history);
    const node: ListedPath = { path: display, found: true, type: this.typeOf(history), versions: shown.map((v) => this.json(v)) };
    if (this.text) {
      const head = `${display}:`;
      if (this.o.oneline && !this.o.long) {
        this.out([this.o.headers !== false || !top ? this.paint(head, 'header') : '', ...this.versionCells(shown)].filter(Boolean).join('  '));
      } else {
        if (this.o.headers !== false || !top) this.out(this.paint(head, 'header'));
        this.versionLines(shown);
      }
    }
    if (!history.some((e) => e?.type === T_DIR)) return node;
    const children = await this.children(history);
    const paths = children.map((c) => joinDisplay(display, printable(c.name)));
    if (!this.o.dirinfo) {
      const kids = children.map((c) => this.shown(c.history));
      node.children = children.map((c, i) => ({ path: paths[i]!, found: true, type: this.typeOf(c.history), versions: kids[i]!.map((v) => this.json(v)) }));
      if (this.text) this.childLines(children, kids);
    }
    if (recurse > 0) {
      const subs = new Map<string, ListedPath>();
      for (const [i, c] of children.entries()) {
        if (!c.history.some((e) => e?.type === T_DIR)) continue;
        if (this.text) this.out('');
        subs.set(paths[i]!, await this.path(paths[i]!, c.history, recurse - 1, false));
      }
      // In JSON a subdirectory's own listing stands in for its short entry.
      node.children = node.children ? node.children.map((c) => subs.get(c.path) ?? c) : [...subs.values()];
    }
    return node;
  }

  /** The names of a directory across the sets: dot files only with -a, sorted as Tardis (case and leading dots ignored). */
  private async children(history: History): Promise<Child[]> {
    const all = await dirHistory(this.session, this.keyring, this.sets, history);
    const kids = all.filter((c) => this.o.hidden || c.name[0] !== 0x2e);
    kids.sort((a, b) => {
      const ka = sortKey(printable(a.name));
      const kb = sortKey(printable(b.name));
      return (ka < kb ? -1 : ka > kb ? 1 : Buffer.compare(a.name, b.name)) * (this.o.reverse ? -1 : 1);
    });
    return kids;
  }

  /** The versions -V and --deletions/--broken ask for. */
  private shown(history: History): Version[] {
    return shownVersions(classify(this.sets, history, this.o), this.o.versions ?? 'change', this.o);
  }

  /** The type of the newest version. */
  private typeOf(history: History): string | undefined {
    const latest = history.filter(Boolean).pop();
    return latest ? TYPE_NAMES[latest.type] : undefined;
  }

  /** -f: "/" for a directory, "@" for a symlink, "*" for an executable file (by the newest version). */
  private annotated(name: string, history: History): string {
    if (!this.o.annotate) return name;
    const e = history.filter(Boolean).pop();
    if (!e) return name;
    if (e.type === T_DIR) return `${name}/`;
    if (e.type === T_SYMLINK) return `${name}@`;
    return e.type === T_FILE && e.mode & 0o111 ? `${name}*` : name;
  }

  private childLines(children: Child[], shown: Version[][]): void {
    const names = children.map((c) => this.annotated(printable(c.name), c.history));
    const cell = Math.max(0, ...names.map(displayWidth)) + 2;
    const mode = this.o.versions ?? 'change';
    if (mode === 'none' && !this.o.oneline) {
      // Names only, in columns as ls lays them out (row by row).
      const cols = this.columnsFor(cell);
      this.columnLines(names.map((n) => ({ text: n, role: 'name' })), cols, cell, '');
      return;
    }
    names.forEach((name, i) => {
      if (this.o.oneline && !this.o.long) {
        this.out([this.paint(padCells(name, cell - 2), 'name'), ...this.versionCells(shown[i]!)].join('  ').trimEnd());
        return;
      }
      this.out(this.paint(name, 'name'));
      this.versionLines(shown[i]!);
    });
  }

  private columnsFor(cell: number): number {
    if (this.o.columns) return this.o.columns;
    if (!this.o.width) return 1;
    return Math.max(1, Math.floor((this.o.width - 2) / (cell + 2)));
  }

  private columnLines(cells: { text: string; role: string }[], cols: number, width: number, indent: string): void {
    for (let i = 0; i < cells.length; i += cols) {
      const row = cells.slice(i, i + cols);
      const line = row.map((c, j) => {
        return this.paint(c.text, c.role) + (j === row.length - 1 ? '' : padCells('', Math.max(1, width - displayWidth(c.text))));
      }).join('');
      this.out(indent + line);
    }
  }

  private role(v: Version): string {
    if (this.o.versions === 'last') return 'changed';
    switch (v.status) {
      case 'gone': return 'gone';
      case 'broken': return 'error';
      case 'moved': return 'moved';
      case 'new':
      case 'changed': return v.full ? 'full' : 'changed';
      default: return 'default';
    }
  }

  private setLabel(v: Version): string {
    return v.status === 'gone' ? `(${v.set.name})` : v.set.name;
  }

  private versionCells(shown: Version[]): string[] {
    return shown.map((v) => this.paint(this.setLabel(v), this.role(v)));
  }

  private size(n: number): string {
    return this.o.human ? formatBytes(n) : String(n);
  }

  /** The extra columns of -s, -D, -i, -c, -L. */
  private extras(e: VisibleEntry | null, v: Version, long: boolean): string[] {
    const cols: string[] = [];
    if (this.o.size && !long) cols.push((e ? this.size(e.size) : '').padStart(8));
    if (this.o.dsize) cols.push((v.newChunks === null ? '' : String(v.newChunks)).padStart(4));
    if (this.o.inode) cols.push((e ? String(e.ino) : '').padStart(8));
    if (this.o.checksums) cols.push((e?.hash ? e.hash.toString('hex') : '').padEnd(64));
    if (this.o.chainlen) cols.push((e?.type === T_FILE ? String(chunkCount(e)) : '').padStart(4));
    return cols;
  }

  private versionLines(shown: Version[]): void {
    if (shown.length === 0) return;
    const anyExtra = this.o.size || this.o.dsize || this.o.inode || this.o.checksums || this.o.chainlen;
    if (this.o.long) {
      for (const v of shown) {
        const e = v.entry;
        const label = this.paint(this.setLabel(v), this.role(v));
        if (!e) {
          this.out(`  ${label}`);
          continue;
        }
        const user = this.keyring.decString(e.user) ?? String(e.uid);
        const group = this.keyring.decString(e.group) ?? String(e.gid);
        const details = [
          formatMode(TYPE_NAMES[e.type] ?? 'file', e.mode), String(e.nlink).padStart(3), user.padEnd(8), group.padEnd(8),
          this.size(e.size).padStart(8), formatLsTime(e.mtimeS * 1000, this.now).padEnd(12), ...this.extras(e, v, true),
        ].join(' ');
        const link = e.type === T_SYMLINK && e.target ? ` -> ${printable(this.keyring.decName(e.target))}` : '';
        this.out(`  ${this.paint(details, 'details')}  ${label}${link}`);
      }
      return;
    }
    if (anyExtra) {
      for (const v of shown) {
        const label = this.setLabel(v);
        this.out(`  ${this.paint(label, this.role(v))}${padCells('', Math.max(1, this.setCell - displayWidth(label)))}${this.paint(this.extras(v.entry, v, false).join(' '), 'details')}`.trimEnd());
      }
      return;
    }
    this.columnLines(shown.map((v) => ({ text: this.setLabel(v), role: this.role(v) })), this.columnsFor(this.setCell), this.setCell, '  ');
  }

  private json(v: Version): ListedVersion {
    const e = v.entry;
    const base: ListedVersion = { set: v.set.name, setId: v.set.id, status: v.status, full: v.full };
    if (!e) return base;
    return {
      ...base,
      type: TYPE_NAMES[e.type], mode: e.mode, nlink: e.nlink, uid: e.uid, gid: e.gid,
      user: this.keyring.decString(e.user), group: this.keyring.decString(e.group), size: e.size,
      mtime: new Date(e.mtimeS * 1000 + Math.floor(e.mtimeNs / 1e6)).toISOString(), inode: e.ino,
      checksum: e.hash ? e.hash.toString('hex') : null, chunks: chunkCount(e), newChunks: v.newChunks,
      target: e.type === T_SYMLINK && e.target ? printable(this.keyring.decName(e.target)) : null,
    };
  }
}
