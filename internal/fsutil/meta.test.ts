import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyMetadata, exactSeconds, ownerIds, setTimes, touchDate, type MetaEntry } from './meta.ts';
import { native } from './native.ts';
import { joinPath } from '../walk/names.ts';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tardis-meta-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const B = (s: string) => Buffer.from(s);
const ALL = { perms: true, times: true, owners: true };
const entry = (over: Partial<MetaEntry>): MetaEntry => ({
  type: 'file', mode: 0o644, uid: 0, gid: 0, user: null, group: null, mtimeNs: 0n, atimeNs: 0n, ...over,
});
function file(name: string | Buffer): Buffer {
  const p = joinPath(B(tmp), typeof name === 'string' ? B(name) : name);
  fs.writeFileSync(p, 'x');
  return p;
}

test('setuid, setgid and sticky bits survive the owner change', async () => {
  const f = file('suid');
  await applyMetadata(f, entry({ mode: 0o4755, uid: 4242, gid: 4243 }), ALL);
  let st = fs.statSync(f);
  assert.equal(st.mode & 0o7777, 0o4755);
  assert.equal(st.uid, 4242);
  assert.equal(st.gid, 4243);
  const g = file('sgid');
  await applyMetadata(g, entry({ mode: 0o2711, uid: 1, gid: 2 }), ALL);
  assert.equal(fs.statSync(g).mode & 0o7777, 0o2711);
  const d = path.join(tmp, 'sticky');
  fs.mkdirSync(d);
  await applyMetadata(B(d), entry({ type: 'dir', mode: 0o1777, uid: 4242 }), ALL);
  st = fs.statSync(d);
  assert.equal(st.mode & 0o7777, 0o1777);
  assert.equal(st.uid, 4242);
});

test('owners by name when the name exists here, else the recorded number', async () => {
  assert.deepEqual(ownerIds({ uid: 1234, gid: 1234, user: 'root', group: 'root' }), { uid: 0, gid: 0 });
  assert.deepEqual(ownerIds({ uid: 4242, gid: 4243, user: 'no-such-user', group: 'no-such-group' }), { uid: 4242, gid: 4243 });
  assert.deepEqual(ownerIds({ uid: 7, gid: 8, user: null, group: null }), { uid: 7, gid: 8 });
  const f = file('byname');
  fs.chownSync(f, 4242, 4242);
  await applyMetadata(f, entry({ uid: 1234, gid: 4343, user: 'nobody', group: null }), ALL);
  const st = fs.statSync(f);
  assert.equal(st.uid, 65534);
  assert.equal(st.gid, 4343);
  const only = file('perms-only');
  await applyMetadata(only, entry({ mode: 0o600, uid: 99 }), { perms: true, times: false, owners: false });
  assert.equal(fs.statSync(only).uid, 0);
  assert.equal(fs.statSync(only).mode & 0o7777, 0o600);
});

test('times round trip to the nanosecond, also before 1970 and on symlinks', async () => {
  const f = file('times');
  const mtimeNs = 1700000000123456789n;
  const atimeNs = 1600000000987654321n;
  await applyMetadata(f, entry({ mtimeNs, atimeNs }), ALL);
  const st = fs.statSync(f, { bigint: true });
  assert.equal(st.mtimeNs, mtimeNs);
  assert.equal(st.atimeNs, atimeNs);
  assert.match(execFileSync('stat', ['--format=%y', f.toString()]).toString(), /^2023-11-14 \d\d:13:20\.123456789 /);
  const old = file('old');
  await applyMetadata(old, entry({ mtimeNs: -4876543211n, atimeNs: -1n }), ALL);
  assert.equal(fs.statSync(old, { bigint: true }).mtimeNs, -4876543211n);
  assert.equal(fs.statSync(old, { bigint: true }).atimeNs, -1n);
  // A symlink gets its own times and owner; its target is untouched and chmod is skipped.
  const target = file('link-target');
  fs.chmodSync(target, 0o640);
  const before = fs.statSync(target, { bigint: true });
  const link = path.join(tmp, 'link');
  fs.symlinkSync(target, link);
  await applyMetadata(B(link), entry({ type: 'symlink', mode: 0o777, uid: 4242, mtimeNs: 42n, atimeNs: 43n }), ALL);
  const l = fs.lstatSync(link, { bigint: true });
  assert.equal(l.mtimeNs, 42n);
  assert.equal(l.uid, 4242n);
  const after = fs.statSync(target, { bigint: true });
  assert.equal(after.mtimeNs, before.mtimeNs);
  assert.equal(after.uid, before.uid);
  assert.equal(after.mode, before.mode);
});

test('errors name the path and the errno code', async () => {
  const missing = B(path.join(tmp, 'missing'));
  await assert.rejects(applyMetadata(missing, entry({}), { perms: false, times: true, owners: false }), /^TardisError: cannot set times of .*missing: ENOENT$/);
  await assert.rejects(applyMetadata(missing, entry({}), ALL), /cannot set owner of .*missing: ENOENT/);
});

test('a symlink in place of the expected file is not chmod-ed through', async () => {
  const target = file('victim');
  fs.chmodSync(target, 0o600);
  const link = path.join(tmp, 'trap');
  fs.symlinkSync(target, link);
  await assert.rejects(applyMetadata(B(link), entry({ mode: 0o4777 }), { perms: true, times: false, owners: false }), /cannot set mode of .*trap: ELOOP/);
  assert.equal(fs.statSync(target).mode & 0o7777, 0o600);
});

test('exactSeconds agrees with what fs.utimes really sets', () => {
  const f = file('exact');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let found = 0;
  for (let i = 0; i < 3000; i++) {
    const ns = BigInt(Math.floor(rnd() * 2e9)) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9));
    const d = exactSeconds(ns);
    const guess = d ?? Number(ns) / 1e9;
    fs.utimesSync(f, guess, guess);
    const got = fs.statSync(f, { bigint: true }).mtimeNs;
    assert.equal(got === ns, d !== null, `${ns}: exactSeconds ${d}, utimes set ${got}`);
    if (d !== null) found++;
  }
  assert.ok(found > 0);
  assert.equal(exactSeconds(1700000000000000000n), 1700000000);
  assert.equal(exactSeconds(-1n), null); // Node would set "now"
  assert.equal(touchDate(-4876543211n), '@-4.876543211');
  assert.equal(touchDate(5n), '@0.000000005');
});

test('without node:ffi: utimes when exact, touch otherwise; byte names work', (t) => {
  const dir = path.join(tmp, 'noffi');
  fs.mkdirSync(dir);
  const names = [Buffer.from([0x66, 0xff, 0x0a]), B('exact'), B('mixed'), B('old'), B('link')];
  for (const n of [...names.slice(0, 4), B('timing')]) fs.writeFileSync(joinPath(B(dir), n), 'x');
  fs.symlinkSync('/nonexistent', path.join(dir, 'link'));
  const cases = [
    { name: names[0], atime: 1700000000123456789n, mtime: 1700000000123456789n, method: 'touch' },
    { name: names[1], atime: 1700000000000000000n, mtime: 1000000000n, method: 'utimes' },
    { name: names[2], atime: 1600000000000000000n, mtime: 1700000000000000001n, method: 'touch' },
    { name: names[3], atime: -1n, mtime: -4876543211n, method: 'touch' },
    { name: names[4], atime: 3n, mtime: 1700000000999999999n, method: 'touch' },
  ];
  const here = (f: string) => JSON.stringify(fileURLToPath(new URL(f, import.meta.url)));
  const script = `
    import { setTimes } from ${here('./meta.ts')};
    import { native } from ${here('./native.ts')};
    import { SafeRoot } from ${here('./safepath.ts')};
    const dir = Buffer.from(process.argv[1]);
    const cases = JSON.parse(process.argv[2]);
    const out = { native: native() !== null, methods: [] };
    for (const c of cases) {
      const p = Buffer.concat([dir, Buffer.from('/'), Buffer.from(c.name, 'hex')]);
      out.methods.push(await setTimes(p, BigInt(c.atime), BigInt(c.mtime)));
    }
    const root = new SafeRoot(dir);
    await root.mkfifo([Buffer.from([0x70, 0xfe])], 0o640);
    await root.mknod([Buffer.from([0x6e, 0xfe])], 'chardev', 0o600, Number(process.argv[3]));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await setTimes(p0(), 1n, 1700000000123456789n);
    out.touchMs = (performance.now() - t0) / 20;
    function p0() { return Buffer.concat([dir, Buffer.from('/timing')]); }
    root.close();
    console.log(JSON.stringify(out));`;
  const arg = JSON.stringify(cases.map((c) => ({ ...c, name: c.name.toString('hex'), atime: `${c.atime}`, mtime: `${c.mtime}` })));
  const r = spawnSync(process.execPath, ['--no-experimental-ffi', '--input-type=module', '-e', script, dir, arg, `${fs.statSync('/dev/null').rdev}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.native, false);
  assert.deepEqual(out.methods, cases.map((c) => c.method));
  for (const c of cases) {
    const st = fs.lstatSync(joinPath(B(dir), c.name), { bigint: true });
    assert.equal(st.atimeNs, c.atime, `atime of ${c.name}`);
    assert.equal(st.mtimeNs, c.mtime, `mtime of ${c.name}`);
  }
  const fifo = fs.lstatSync(joinPath(B(dir), Buffer.from([0x70, 0xfe])));
  assert.ok(fifo.isFIFO());
  assert.equal(fifo.mode & 0o7777, 0o640);
  const dev = fs.lstatSync(joinPath(B(dir), Buffer.from([0x6e, 0xfe])));
  assert.ok(dev.isCharacterDevice());
  assert.equal(dev.rdev, fs.statSync('/dev/null').rdev);
  t.diagnostic(`touch fallback: ${out.touchMs.toFixed(2)} ms per setTimes`);
});

test('cost of setting times in-process', async (t) => {
  if (!native()) return t.skip('node:ffi unavailable');
  const f = file('cost');
  const n = 5000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await setTimes(f, 1n, 1700000000123456789n + BigInt(i));
  const ffiUs = ((performance.now() - t0) * 1000) / n;
  assert.equal(fs.statSync(f, { bigint: true }).mtimeNs, 1700000000123456789n + BigInt(n - 1));
  t0 = performance.now();
  for (let i = 0; i < n; i++) await fs.promises.lutimes(f, 1, 1700000000 + i);
  const utimesUs = ((performance.now() - t0) * 1000) / n;
  t.diagnostic(`setTimes via ffi: ${ffiUs.toFixed(1)} us/call; fs.promises.lutimes: ${utimesUs.toFixed(1)} us/call`);
});
