// sonic files: what a set brought in (files first appearing in it, or changed in it), grouped by
// directory; with --previous also what the set before it had and it no longer has.
import { printable } from '../../internal/walk/names.ts';
import type { Connection } from '../../internal/connect/connect.ts';
import { T_DIR, TYPE_NAMES, type VisibleEntry } from '../../internal/model/entry.ts';
import type { ChangeStatus, SetInfo } from '../../internal/model/session.ts';
import { formatBytes, formatLsTime, formatMode } from '../../internal/ui/index.ts';

type Flags = Record<string, unknown>;
type Out = (line: string) => void;

const PAGE = 5000;

interface Row {
  dir: string;
  name: string;
  entry: VisibleEntry;
  status: ChangeStatus;
}

function pathOf(parts: Buffer[]): string {
  return '/' + parts.map((p) => printable(p)).join('/');
}

/** The columns the flags ask for, before the name. */
function details(r: Row, o: Flags, k: Connection['keyring']): string[] {
  const e = r.entry;
  const cols: string[] = [];
  if (o.status) cols.push(r.status.padEnd(7));
  if (o.inode) cols.push(String(e.ino).padStart(9));
  if (o.long) {
    const owner = (enc: Buffer | null, id: number) => (enc ? k.decString(enc)! : String(id));
    cols.push(formatMode(TYPE_NAMES[e.type] ?? 'file', e.mode), String(e.nlink).padStart(3), owner(e.user, e.uid).padEnd(8), owner(e.group, e.gid).padEnd(8));
  } else if (o.links) {
    cols.push(String(e.nlink).padStart(3));
  }
  if (o.long || o.size) cols.push((o.human ? formatBytes(e.size) : String(e.size)).padStart(o.human ? 9 : 12));
  if (o.long) cols.push(formatLsTime(e.mtimeS * 1000));
  if (o.checksums) cols.push(e.hash ? e.hash.toString('hex').slice(0, 32) : '-'.repeat(32));
  if (o.type) cols.push(TYPE_NAMES[e.type] ?? '?');
  return cols;
}

export async function filesCommand(conn: Connection, set: SetInfo, o: Flags, out: Out): Promise<void> {
  const k = conn.keyring;
  const rows: Row[] = [];
  for (let after = 0; ;) {
    const page = await conn.session.setChanges(set.id, after, PAGE);
    for (const c of page.entries) {
      if (c.status === 'deleted' && !o.previous) continue;
      if (c.entry.type === T_DIR && !o.dirs) continue;
      rows.push({ dir: pathOf(c.dir.map((p) => k.decName(p))), name: printable(k.decName(c.entry.name)), entry: c.entry, status: c.status });
    }
    if (page.next === null) break;
    after = page.next;
  }
  rows.sort((a, b) => (a.dir === b.dir ? (a.name < b.name ? -1 : 1) : a.dir < b.dir ? -1 : 1));
  if (o.json) {
    out(JSON.stringify(rows.map((r) => ({
      path: `${r.dir === '/' ? '' : r.dir}/${r.name}`, status: r.status, type: TYPE_NAMES[r.entry.type], size: r.entry.size,
      mode: r.entry.mode, mtime: r.entry.mtimeS, ino: r.entry.ino, nlink: r.entry.nlink, hash: r.entry.hash?.toString('hex') ?? null,
    }))));
    return;
  }
  let dir: string | null = null;
  for (const r of rows) {
    const full = `${r.dir === '/' ? '' : r.dir}/${r.name}`;
    const cols = details(r, o, k);
    if (o.fullpath) {
      out([...cols, full].join(' '));
      continue;
    }
    if (r.dir !== dir) {
      if (dir !== null) out('');
      out(`${r.dir}:`);
      dir = r.dir;
    }
    out('    ' + [...cols, r.name].join(' '));
  }
}
