// Faults, end to end: wrong passwords, kill -9 mid-backup, damaged packs, hostile restore
// targets and catalog names, source files that change under the backup, and a full disk. Real
// processes (bin/), real files, real repositories; engine modules are imported only to forge
// damage that a user cannot produce through the commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, mustRun, PASSWORD, runTool, sh, tempDir } from '../../internal/testkit/testkit.ts';
import { backupKilled } from '../../internal/testkit/kill.ts';
import { assertSameTree, backup, restore, seededBytes, setupRepo, write, type BackupJson } from '../../internal/testkit/fixtures.ts';
import { openRepository } from '../../internal/connect/connect.ts';
import { parsePackTrailer, BLOB_DATA } from '../../internal/pack/index.ts';
import type { RepositorySession } from '../../internal/server/session.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Small, fast, seeded PRNG (mulberry32): the same seed gives the same faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes of numbered text lines: compresses well, yet no two chunks are the same. */
function textBytes(n: number, seed: string): Buffer {
  const lines: string[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const l = `${seed} line ${i} of some text that compresses well\n`;
    lines.push(l);
    len += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, n);
}

/** Every entry below `dir` (the files of a repository included) with type, size, mode and times. */
function treeState(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    for (const name of fs.readdirSync(p).sort()) {
      const full = path.join(p, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(full, { bigint: true });
      out.push(`${r} ${st.isDirectory() ? 'dir' : st.size} mode=${st.mode.toString(8)} mtime=${st.mtimeNs} ctime=${st.ctimeNs}`);
      if (st.isDirectory()) walk(full, r);
    }
  };
  walk(dir, '');
  return out;
}

/** Every regular file below `dir`. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

// ---------------------------------------------------------------------------------------------
// 1. Wrong password

test('wrong password: tardis, regenerate and sonic print one line, exit 1, and leave the repository untouched', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-faults-password-');
  for (let i = 0; i < 20; i++) write(path.join(src, `d${i % 3}`, `f${i}`), seededBytes(i * 3000, `pw${i}`));
  await backup(repo, [src]);
  // A backup killed mid-run leaves catalog.db-wal/-shm (the case where merely opening the
  // catalog would write: WAL recovery) and a stale lock.
  write(path.join(src, 'big'), seededBytes(24 * MiB, 'pw-big'));
  await backupKilled(repo, [src], 8 * MiB);
  const before = treeState(repo);
  assert.ok(before.some((l) => l.startsWith('catalog.db-wal ')), `fixture: a catalog WAL is left:\n${before.join('\n')}`);

  const pwFile = path.join(dir, 'wrong-password');
  fs.writeFileSync(pwFile, 'not the password\n');
  const out = path.join(dir, 'out');
  const runs: [string, string[], NodeJS.ProcessEnv][] = [];
  for (const [env, extra] of [[{ TARDIS_PASSWORD: 'not the password' }, []], [{ TARDIS_PASSWORD: undefined }, ['--password-file', pwFile]]] as const) {
    runs.push(
      ['tardis', ['-R', repo, ...extra, src], env],
      ['regenerate', ['-R', repo, ...extra, '-o', out, src], env],
      ['sonic', ['list', '-R', repo, ...extra], env],
      ['sonic', ['info', '-R', repo, ...extra], env],
    );
  }
  // Concurrently: none of them may write, so they cannot disturb each other either.
  const results = await Promise.all(runs.map(([tool, args, env]) => runTool(tool, args, { env })));
  results.forEach((r, i) => {
    const what = `${runs[i]![0]} ${runs[i]![1].join(' ')}`;
    assert.equal(r.code, 1, `${what}: exit code\n${r.stderr}`);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    assert.equal(lines(r.stderr).length, 1, `${what}: exactly one line on stderr:\n${r.stderr}`);
    assert.match(r.stderr, /^\S+: error: wrong password\n$/, what);
  });
  assert.deepEqual(treeState(repo), before, 'the repository changed');
  assert.ok(!fs.existsSync(out), 'regenerate created its output directory with a wrong password');
  // The right password still opens it.
  await mustRun('sonic', ['list', '-R', repo]);
});

// ---------------------------------------------------------------------------------------------
// 2. kill -9 during backups

/** Replaces a file by a new one (a new inode): hard-linked copies keep the old content. */
function replace(file: string, data: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.new`, data);
  fs.renameSync(`${file}.new`, file);
}

test('kill -9 at random points of a backup: the repository opens, the next run resumes and completes, restores verify', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-faults-kill-');
  const seed = Number(process.env.TARDIS_FAULT_SEED ?? 20261123);
  const rnd = prng(seed);
  t.diagnostic(`seed ${seed} (set TARDIS_FAULT_SEED to reproduce)`);
  // ~300 files of varied sizes (~64 MiB) in 5 groups; each later round rewrites one group, so
  // every round has real work to interrupt.
  const files: { rel: string; size: number }[] = [];
  for (let i = 0; i < 300; i++) {
    const r = rnd();
    const size = i % 61 === 0 ? Math.floor(6 * MiB + rnd() * 4 * MiB) // a few big, multi-chunk files, one per group
      : r < 0.1 ? 0
      : r < 0.7 ? Math.floor(rnd() * 64 * KiB)
      : Math.floor(64 * KiB + rnd() * 300 * KiB);
    files.push({ rel: `g${i % 5}/d${i % 7}/f${i}`, size });
  }
  /** Writes the round's new content; returns its size. */
  const fill = (round: number): number => {
    let bytes = 0;
    for (const [i, f] of files.entries()) {
      if (round > 0 && !f.rel.startsWith(`g${round}/`)) continue;
      replace(path.join(src, f.rel), seededBytes(f.size + round, `kill-${seed}-${round}-${i}`));
      bytes += f.size + round;
    }
    fs.rmSync(path.join(src, `gone-${round - 1}`), { force: true });
    write(path.join(src, `gone-${round}`), `round ${round}\n`);
    return bytes;
  };
  const total = files.reduce((n, f) => n + f.size, 0);
  assert.ok(total > 50 * MiB && total < 110 * MiB, `fixture: ${total} bytes`);

  // Each completed set is restored and compared with a hard-linked copy of the source as it
  // was backed up, in the background while the next round runs.
  const verifications: Promise<unknown>[] = [];
  const verify = async (setId: number, round: number) => {
    const snap = path.join(dir, `snap-${round}`);
    sh(`cp -al '${src}' '${snap}'`);
    const out = path.join(dir, `out-${round}`);
    await restore(repo, ['-b', String(setId), '-o', out, src]);
    await assertSameTree(snap, out);
    fs.rmSync(out, { recursive: true });
    fs.rmSync(snap, { recursive: true });
  };
  let interrupted = 0;
  let staleLocks = 0;
  for (let round = 0; round < 5; round++) {
    // The first round stores everything (~64 MiB), later rounds a fifth of it. The kill comes
    // after a random part of that has been read.
    const bytes = Math.floor(rnd() * fill(round));
    const k = await backupKilled(repo, [src], bytes);
    const what = `round ${round}, kill after ${(bytes / MiB).toFixed(1)} MiB read`;
    if (k.finished) assert.equal(k.result.code, 0, `${what}: finished by itself\n${k.result.stderr}`);
    else assert.equal(k.result.signal, 'SIGKILL', `${what}: killed`);

    const list = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; completed: boolean }[];
    const last = list[list.length - 1];
    const incomplete = last && !last.completed ? last.id : null;
    if (incomplete !== null) interrupted++;
    // A lock left by the killed run must not stop the next one (no --force here).
    if (fs.existsSync(path.join(repo, 'locks', 'backup'))) staleLocks++;
    const b: BackupJson = await backup(repo, [src]);
    t.diagnostic(`${what}: ${k.finished ? 'finished first' : incomplete === null ? 'killed, no set yet' : `killed, set ${incomplete} incomplete`}`);
    assert.equal(b.resumed, incomplete !== null, `${what}: resumed`);
    if (incomplete !== null) assert.equal(b.id, incomplete, `${what}: resumed the incomplete set`);
    assert.equal(b.stats.problems, 0);
    const v = verify(b.id, round);
    v.catch(() => undefined); // awaited below
    verifications.push(v);
  }
  await Promise.all(verifications);
  assert.ok(interrupted >= 3, `only ${interrupted} of 5 kills interrupted a backup`);
  assert.ok(staleLocks >= 1, 'no kill left a stale lock');
  const sets = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { completed: boolean }[];
  assert.ok(sets.every((s) => s.completed), 'every set completed in the end');
});

// ---------------------------------------------------------------------------------------------
// 3. A damaged pack

test('a flipped byte inside a chunk: regenerate names the damaged file, restores the rest, exits non-zero (keep, rename, delete)', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-faults-flip-');
  for (let i = 0; i < 12; i++) write(path.join(src, i % 2 ? 'sub' : '', `file${i}`), seededBytes(1000 + i * 20_000, `flip${i}`));
  const victimData = seededBytes(3 * MiB, 'victim');
  write(path.join(src, 'sub', 'victim'), victimData);
  await backup(repo, [src]);

  // Which stored blob holds a chunk of the victim: chunk it as the backup did, then read the
  // (plaintext) pack indexes.
  const conn = await openRepository(repo, async () => PASSWORD);
  let victimIds: Set<string>;
  try {
    const chunker = conn.keyring.newChunker();
    const chunks = [...chunker.push(victimData), ...chunker.finish()];
    assert.ok(chunks.length >= 2, 'fixture: the victim has several chunks');
    victimIds = new Set(chunks.map((c) => conn.keyring.chunkId(c).toString('hex')));
  } finally {
    await conn.session.close();
  }
  let flipped = false;
  for (const pack of filesUnder(path.join(repo, 'packs'))) {
    const data = fs.readFileSync(pack);
    const entries = parsePackTrailer(data, data.length);
    const e = entries.find((x) => x.type === BLOB_DATA && victimIds.has(x.id.toString('hex')));
    if (!e) continue;
    const at = e.offset + Math.floor(e.length / 2);
    const fd = fs.openSync(pack, 'r+');
    fs.writeSync(fd, Buffer.from([data[at]! ^ 0x10]), 0, 1, at);
    fs.closeSync(fd);
    flipped = true;
    break;
  }
  assert.ok(flipped, 'fixture: found a chunk of the victim in a pack');

  const actions = ['keep', 'rename', 'delete'] as const;
  const runs = await Promise.all(actions.map((action) =>
    runTool('regenerate', ['-R', repo, '--verify-action', action, '-o', path.join(dir, `out-${action}`), src])));
  for (const [i, action] of actions.entries()) {
    const r = runs[i]!;
    const out = path.join(dir, `out-${action}`);
    assert.notEqual(r.code, 0, `${action}: exit code`);
    const problems = lines(r.stderr).filter((l) => /error/.test(l));
    assert.equal(problems.length, 1, `${action}: one problem reported:\n${r.stderr}`);
    assert.ok(problems[0]!.includes(path.join(out, 'sub', 'victim')), `${action}: names the victim: ${problems[0]}`);
    const victim = path.join(out, 'sub', 'victim');
    const corrupt = `${victim}-CORRUPT`;
    if (action === 'keep') {
      assert.ok(fs.existsSync(victim) && !fs.existsSync(corrupt));
      assert.ok(!fs.readFileSync(victim).equals(victimData), 'the kept file is not passed off as good');
    } else if (action === 'rename') {
      assert.ok(!fs.existsSync(victim) && fs.existsSync(corrupt));
    } else {
      assert.ok(!fs.existsSync(victim) && !fs.existsSync(corrupt));
    }
    await assertSameTree(src, out, { ignore: (rel) => rel === 'sub/victim' || rel === 'sub/victim-CORRUPT' });
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Path safety of restores

test('restore never writes outside -o: symlinks in the target, forged ".." and "/" names in the catalog', async (t) => {
  const { dir, repo, src } = await setupRepo(t, 'tardis-faults-paths-');
  write(path.join(src, 'sub', 'inner', 'deep'), 'deep\n');
  write(path.join(src, 'sub', 'f'), 'in sub\n');
  write(path.join(src, 'top'), 'top\n');
  write(path.join(src, 'keep', 'ok'), 'fine\n');
  await backup(repo, [src]);

  // (a) A symlink where a restored directory or file goes.
  const outside = path.join(dir, 'outside');
  write(path.join(outside, 'top'), 'outside, must stay\n');
  fs.mkdirSync(path.join(outside, 'inner'));
  const outsideBefore = treeState(outside);
  for (const overwrite of [[], ['-O', 'always']]) {
    // -o names an existing directory: the tree lands in it as src/.
    const out = path.join(dir, `out-link${overwrite.length}`);
    const tree = path.join(out, 'src');
    fs.mkdirSync(tree, { recursive: true });
    fs.symlinkSync(outside, path.join(tree, 'sub'));
    fs.symlinkSync(path.join(outside, 'top'), path.join(tree, 'top'));
    const r = await runTool('regenerate', ['-R', repo, ...overwrite, '-o', out, src]);
    const what = `regenerate ${overwrite.join(' ')}`;
    assert.notEqual(r.code, 0, `${what}: exit code\n${r.stderr}`);
    assert.ok(r.stderr.includes(path.join(tree, 'sub')), `${what}: the symlinked directory is reported:\n${r.stderr}`);
    assert.deepEqual(treeState(outside), outsideBefore, `${what}: wrote outside -o`);
    assert.equal(fs.readFileSync(path.join(tree, 'keep', 'ok'), 'utf8'), 'fine\n', `${what}: the rest is restored`);
    if (overwrite.length) assert.equal(fs.readFileSync(path.join(tree, 'top'), 'utf8'), 'top\n', '-O always replaces the link itself');
    else assert.ok(fs.lstatSync(path.join(tree, 'top')).isSymbolicLink(), 'without -O the link is left alone');
  }

  // (b) Names that are not names: forged in the catalog through the engine (a client cannot
  // send them, but a damaged or hostile repository can hold them).
  write(path.join(src, 'evil-dir', 'payload'), 'escaped through ..\n');
  write(path.join(src, 'evil-file'), 'escaped through a slash\n');
  write(path.join(src, 'evil-deep'), 'escaped further\n');
  write(path.join(src, 'evil-dot'), 'dot\n');
  await backup(repo, [src]);
  const conn = await openRepository(repo, async () => PASSWORD);
  try {
    const db = (conn.session as RepositorySession).repo.db;
    const k = conn.keyring;
    for (const [from, to] of [['evil-dir', '..'], ['evil-file', '../escaped-file'], ['evil-deep', 'x/../../../escaped-deep'], ['evil-dot', '.']]) {
      const rs = await db.execute('UPDATE nodes SET name = ? WHERE name = ?', [k.encName(Buffer.from(to)), k.encName(Buffer.from(from))]);
      assert.equal(rs.rowsAffected, 1, `forged ${to}`);
    }
  } finally {
    await conn.session.close();
  }
  // -o names a new directory: the tree is restored as it, so ".." at its top is -o's parent.
  const base = path.join(dir, 'a', 'b');
  const out = path.join(base, 'out');
  fs.mkdirSync(base, { recursive: true });
  const r = await runTool('regenerate', ['-R', repo, '-o', out, src]);
  assert.notEqual(r.code, 0, `exit code\n${r.stderr}`);
  for (const bad of ['..', '../escaped-file', 'x/../../../escaped-deep', '.']) {
    assert.ok(r.stderr.includes(bad), `"${bad}" reported:\n${r.stderr}`);
  }
  assert.deepEqual(fs.readdirSync(base), ['out'], 'nothing written next to -o');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'a')), ['b'], 'nothing written above -o');
  assert.ok(!fs.existsSync(path.join(dir, 'escaped-deep')));
  assert.ok(!fs.existsSync(path.join(out, 'payload')), 'nothing written through ".."');
  await assertSameTree(src, out, { ignore: (rel) => rel.startsWith('evil-') });
});

// ---------------------------------------------------------------------------------------------
// 5. Source files that vanish, change or cannot be read

/** Paths of files `pid` has open. */
function openFiles(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

test('files that vanish, change while read or cannot be read: logged, counted, exit 3, the rest restores', async (t) => {
  // Root reads everything; without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH it obeys modes like anyone.
  const root = process.getuid?.() === 0;
  const noDac = ['setpriv', '--bounding-set=-dac_override,-dac_read_search'];
  if (root && spawnSync(noDac[0]!, [...noDac.slice(1), 'true']).status !== 0) return t.skip('root, and setpriv cannot drop CAP_DAC_OVERRIDE');
  const asUser = root ? noDac : [];

  // A real race made deterministic: tardis reads a few files of a directory at once, in name
  // order; while it reads the first a-slow* file, b-vanish (listed, not yet opened: more slow
  // files than readers come first) is deleted and the file being read grows. If the timing
  // did not work out (b-vanish already open, the read already over), the attempt is repeated.
  const SLOW = 8;
  for (let attempt = 1; ; attempt++) {
    const { dir, repo, src } = await setupRepo(t, 'tardis-faults-vanish-');
    for (let i = 0; i < SLOW; i++) {
      // Sparse: reading takes a while, storing and restoring hardly anything.
      write(path.join(src, `a-slow${i}`), `head ${i}\n`);
      fs.truncateSync(path.join(src, `a-slow${i}`), 12 * MiB);
    }
    write(path.join(src, 'b-vanish'), 'here when listed\n');
    write(path.join(src, 'c-secret'), 'unreadable\n');
    fs.chmodSync(path.join(src, 'c-secret'), 0);
    write(path.join(src, 'd-locked', 'inside'), 'behind a locked door\n');
    fs.chmodSync(path.join(src, 'd-locked'), 0);
    for (let i = 0; i < 10; i++) write(path.join(src, 'e-fine', `f${i}`), seededBytes(i * 1000, `fine${i}`));

    const cmd = [...asUser, path.join(BIN, 'tardis'), '-R', repo, '--json', src];
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARDIS_PASSWORD: PASSWORD } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    // setpriv and the sh wrapper exec, so the pid is node's.
    let changed: string | undefined;
    while (!exited && changed === undefined) {
      const open = openFiles(child.pid!);
      const slow = open.find((f) => path.basename(f).startsWith('a-slow'));
      if (slow && !open.includes(path.join(src, 'b-vanish'))) {
        fs.appendFileSync(slow, 'appended while read\n');
        fs.rmSync(path.join(src, 'b-vanish'));
        changed = path.basename(slow);
      } else await sleep(1);
    }
    const code = await closed;
    const stderr = Buffer.concat(err).toString();
    const r = changed && code === 3 ? JSON.parse(Buffer.concat(out).toString()) as BackupJson : null;
    if (attempt < 3 && (!r || r.stats.vanished !== 1 || r.stats.changedDuringRead !== 1)) {
      t.diagnostic(`attempt ${attempt}: the race did not work out (${changed ?? 'nothing done'}, exit ${code}):\n${stderr}`);
      continue;
    }
    assert.ok(changed, 'never caught tardis reading a slow file');
    assert.equal(code, 3, `exit code\n${stderr}`);
    assert.ok(r);
    assert.deepEqual(
      { problems: r.stats.problems, vanished: r.stats.vanished, unreadable: r.stats.unreadable, changed: r.stats.changedDuringRead },
      { problems: 4, vanished: 1, unreadable: 2, changed: 1 },
      stderr,
    );
    for (const name of [changed, 'b-vanish', 'c-secret', 'd-locked']) {
      assert.ok(lines(stderr).some((l) => l.includes(path.join(src, name))), `${name} logged:\n${stderr}`);
    }
    assert.equal(lines(stderr).length, 4, `one line per problem:\n${stderr}`);

    const outDir = path.join(dir, 'out');
    await restore(repo, ['-o', outDir, src]);
    // The set holds what was read of the changed file: the old content, perhaps with the append.
    const got = fs.readFileSync(path.join(outDir, changed));
    assert.ok(got.length >= 12 * MiB && got.equals(fs.readFileSync(path.join(src, changed)).subarray(0, got.length)), `${changed} restored as read`);
    assert.ok(!fs.existsSync(path.join(outDir, 'b-vanish')));
    assert.ok(!fs.existsSync(path.join(outDir, 'c-secret')), 'an unreadable file is not restored as empty');
    assert.deepEqual(fs.readdirSync(path.join(outDir, 'd-locked')), [], 'an unreadable directory is restored empty');
    // The top directory's mtime changed when b-vanish went.
    await assertSameTree(src, outDir, { ignore: (rel) => [changed, 'c-secret', 'd-locked/inside'].includes(rel), dirTimes: false });
    return;
  }
});

// ---------------------------------------------------------------------------------------------
// 6. Disk full

test('repository disk full: one error line, non-zero exit; with room again the repository opens, resumes, restores', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('mounting a small tmpfs needs root');
  const { dir, cleanup } = tempDir('tardis-faults-full-');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  // Smaller than one pack (16 MiB): the first pack write fails.
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  if (mounted.status !== 0) {
    cleanup();
    return t.skip(`cannot mount a tmpfs: ${mounted.stderr.toString().trim()}`);
  }
  t.after(() => {
    spawnSync('umount', ['-l', mnt]);
    cleanup();
  });
  const repo = path.join(mnt, 'client');
  await mustRun('sonic', ['create', '-R', repo]);
  // The client sends chunks and file commits in batches of ~32 MiB of plaintext; the server
  // packs sealed chunks into 16 MiB packs. a/: compressible text, a batch that leaves its
  // commits waiting on the server for a pack that is still being built; b/big*: random data
  // that makes that pack's write fail; b/sparse: read afterwards, long enough (in plaintext,
  // cheap as zeros) for the failure to reach the client while it reads a file.
  const src = path.join(dir, 'src');
  for (let i = 0; i < 8; i++) write(path.join(src, 'a', `text${i}`), textBytes(4 * MiB, `text${i}`));
  for (let i = 0; i < 6; i++) write(path.join(src, 'b', `big${i}`), seededBytes(3 * MiB + i, `full${i}`));
  write(path.join(src, 'b', 'sparse'));
  fs.truncateSync(path.join(src, 'b', 'sparse'), 64 * MiB);

  const r = await runTool('tardis', ['-R', repo, src]);
  assert.notEqual(r.code, 0, 'exit code');
  assert.equal(lines(r.stderr).length, 1, `one line on stderr:\n${r.stderr}`);
  assert.match(r.stderr, /^tardis: error: .*disk full/);

  sh(`mount -o remount,size=128m ${mnt}`);
  const list = JSON.parse((await mustRun('sonic', ['list', '-R', repo, '--json'])).stdout) as { id: number; completed: boolean }[];
  assert.equal(list.length, 1);
  assert.equal(list[0]!.completed, false);
  const b = await backup(repo, [src]);
  assert.equal(b.resumed, true);
  assert.equal(b.stats.problems, 0);
  const out = path.join(dir, 'out');
  await restore(repo, ['-o', out, src]);
  await assertSameTree(src, out);
});
