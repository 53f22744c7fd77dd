// sonic tag, lock, unlock, priority and rename: one change to one set (chosen with -b or -d,
// default Current), made on the repository side so it works the same through tardisd.
import type { Connection } from '../../internal/connect/connect.ts';
import { UsageError } from '../../internal/errors/errors.ts';
import type { SetChange, SetInfo } from '../../internal/model/session.ts';
import { selectSet } from '../../internal/restore/index.ts';
import * as cli from '../../internal/cli/common.ts';

export interface SetFlags {
  backup?: unknown;
  date?: unknown;
  tag?: unknown;
  remove?: boolean;
  move?: boolean;
  priority?: unknown;
  name?: unknown;
}

function change(command: string, conn: Connection, f: SetFlags): SetChange {
  switch (command) {
    case 'lock': return { locked: true };
    case 'unlock': return { locked: false };
    case 'priority': {
      const p = Number(f.priority);
      if (f.priority === undefined || !Number.isInteger(p)) throw new UsageError('sonic priority needs --priority N (a whole number)');
      return { priority: p };
    }
    case 'rename': {
      if (f.name === undefined || String(f.name) === '') throw new UsageError('sonic rename needs --name NEW');
      return { name: String(f.name) };
    }
    case 'tag': {
      const tags = cli.list(f.tag);
      if (tags.length === 0) throw new UsageError('sonic tag needs --tag TAG (repeatable)');
      const enc = tags.map((t) => conn.keyring.encString(t)!);
      return f.remove ? { removeTags: enc } : { addTags: enc, moveTags: f.move === true };
    }
    default:
      throw new UsageError(`unknown set command ${command}`);
  }
}

export async function setCommand(command: string, conn: Connection, sets: SetInfo[], f: SetFlags, out: (l: string) => void): Promise<void> {
  const set = selectSet(sets, conn.keyring, {
    backup: f.backup === undefined ? undefined : String(f.backup),
    date: f.date === undefined ? undefined : String(f.date),
  });
  const c = change(command, conn, f);
  const after = await conn.session.updateSet(set.id, c);
  const tags = after.tags.map((t) => conn.keyring.decString(t)).join(', ');
  out(`${after.name} (id ${after.id}): priority ${after.priority}${after.locked ? ', locked' : ''}${tags ? `, tags ${tags}` : ''}`);
}
