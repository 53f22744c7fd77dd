import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryUrl, formatRepositoryUrl, type RepoUrl } from './url.ts';
import { UsageError } from '../errors/errors.ts';

const cwd = '/home/me/work';
const parse = (s: string): RepoUrl => parseRepositoryUrl(s, { cwd });

test('file URLs and bare paths', () => {
  const want = { kind: 'file', path: '/srv/tardis/laptop', client: 'laptop' };
  assert.deepEqual(parse('file:/srv/tardis/laptop'), want);
  assert.deepEqual(parse('file:///srv/tardis/laptop'), want);
  assert.deepEqual(parse('file://localhost/srv/tardis/laptop'), want);
  assert.deepEqual(parse('/srv/tardis/laptop'), want);
  assert.deepEqual(parse('/srv/tardis/laptop/'), want);
  assert.deepEqual(parse('/srv//tardis/../tardis/laptop'), want);
  assert.deepEqual(parse('repos/laptop'), { kind: 'file', path: '/home/me/work/repos/laptop', client: 'laptop' });
  assert.deepEqual(parse('laptop'), { kind: 'file', path: '/home/me/work/laptop', client: 'laptop' });
  assert.deepEqual(parse('../laptop'), { kind: 'file', path: '/home/me/laptop', client: 'laptop' });
  assert.deepEqual(parse('file:repos/laptop'), { kind: 'file', path: '/home/me/work/repos/laptop', client: 'laptop' });
  assert.deepEqual(parse('./a:b/laptop'), { kind: 'file', path: '/home/me/work/a:b/laptop', client: 'laptop' });
  assert.deepEqual(parse('FILE:/x/y'), { kind: 'file', path: '/x/y', client: 'y' });
  assert.deepEqual(parse('/srv/my client'), { kind: 'file', path: '/srv/my client', client: 'my client' });
});

test('tardis URLs', () => {
  assert.deepEqual(parse('tardis://nas/laptop'), { kind: 'tardis', host: 'nas', port: 7420, client: 'laptop' });
  assert.deepEqual(parse('tardis://nas.lan:9000/laptop/'), { kind: 'tardis', host: 'nas.lan', port: 9000, client: 'laptop' });
  assert.deepEqual(parse('tardis://[::1]:7421/c'), { kind: 'tardis', host: '::1', port: 7421, client: 'c' });
  assert.deepEqual(parse('tardis://[fe80::1%25eth0]/c'), { kind: 'tardis', host: 'fe80::1%eth0', port: 7420, client: 'c' });
  assert.deepEqual(parse('tardis://10.0.0.2/my%20laptop'), { kind: 'tardis', host: '10.0.0.2', port: 7420, client: 'my laptop' });
  assert.deepEqual(parseRepositoryUrl('tardis://nas/c', { defaultPort: 1234 }), { kind: 'tardis', host: 'nas', port: 1234, client: 'c' });
});

test('unix, ssh and http URLs', () => {
  assert.deepEqual(parse('unix:/run/tardisd.sock/laptop'), { kind: 'unix', socket: '/run/tardisd.sock', client: 'laptop' });
  assert.deepEqual(parse('unix:///run/tardisd.sock/laptop'), { kind: 'unix', socket: '/run/tardisd.sock', client: 'laptop' });
  assert.deepEqual(parse('ssh://backup@nas/laptop'), { kind: 'ssh', user: 'backup', host: 'nas', client: 'laptop' });
  assert.deepEqual(parse('ssh://nas:2222/laptop'), { kind: 'ssh', host: 'nas', port: 2222, client: 'laptop' });
  assert.deepEqual(parse('ssh://u@[2001:db8::7]:22/c'), { kind: 'ssh', user: 'u', host: '2001:db8::7', port: 22, client: 'c' });
  assert.deepEqual(parse('http://nas/laptop'), { kind: 'http', secure: false, host: 'nas', port: 7430, client: 'laptop' });
  assert.deepEqual(parse('HTTPS://nas:8443/laptop'), { kind: 'http', secure: true, host: 'nas', port: 8443, client: 'laptop' });
  assert.deepEqual(parseRepositoryUrl('https://nas/c', { defaultRemotePort: 99 }), { kind: 'http', secure: true, host: 'nas', port: 99, client: 'c' });
});

test('malformed URLs are UsageErrors with a reason', () => {
  const bad: [string, RegExp][] = [
    ['', /no repository given/],
    ['   ', /no repository given/],
    ['/', /no client name/],
    ['file:', /empty path/],
    ['file:///', /no client name/],
    ['.', /'\.' cannot be a client name/],
    ['/srv/tardis/..', /'\.\.' cannot be a client name/],
    ['/srv/tardis/.hidden', /must not start with '\.'/],
    ['/srv/tardis/a\nb', /control characters/],
    [`/srv/${'x'.repeat(256)}`, /longer than 255 bytes/],
    ['file://otherhost/srv/c', /take no host/],
    ['file:///srv/c?x=1', /no '\?' or '#'/],
    ['tardis://nas', /no client name/],
    ['tardis://nas/', /no client name/],
    ['tardis:///c', /no host name/],
    ['tardis://nas/a/b', /exactly one component/],
    ['tardis://nas/a?x', /no '\?' or '#'/],
    ['tardis://nas/a#f', /no '\?' or '#'/],
    ['tardis://nas:0/a', /port '0'/],
    ['tardis://nas:65536/a', /port '65536'/],
    ['tardis://nas:x/a', /port 'x'/],
    ['tardis://nas:/a', /port ''/],
    ['tardis://::1/a', /IPv6 addresses go in brackets/],
    ['tardis://[nope]/a', /not an IPv6 address/],
    ['tardis://bad_host!/a', /not a valid host name/],
    ['tardis://user@nas/a', /take no user name/],
    ['tardis://nas/..', /'\.\.' cannot be a client name/],
    ['tardis://nas/.x', /must not start with '\.'/],
    ['tardis://nas/a%2Fb', /must not contain '\/'/],
    ['tardis://nas/%zz', /bad %-escape/],
    ['ssh://@nas/c', /empty user name/],
    ['ssh://u:pw@nas/c', /passwords in URLs are not supported/],
    ['unix:/c', /expected unix:\/path\/to\/socket\/CLIENT/],
    ['unix:run/x.sock/c', /expected unix:/],
    ['unix://host/run/x.sock/c', /take no host/],
    ['ftp://nas/c', /unknown scheme 'ftp:'/],
    ['c:foo', /unknown scheme 'c:'.*\.\/c:foo/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => parse(s), (e: unknown) => e instanceof UsageError && re.test(e.message), `input ${JSON.stringify(s)}`);
  }
});

test('formatRepositoryUrl round-trips', () => {
  const inputs = [
    '/srv/tardis/laptop',
    '/srv/odd?dir/laptop',
    'unix:/run/tardisd.sock/laptop',
    'tardis://nas/laptop',
    'tardis://[::1]:9/my%20laptop',
    'tardis://[fe80::1%25eth0]/c',
    'ssh://nas/c',
    'ssh://bob@[::1]:2222/c',
    'http://nas/c',
    'https://nas:1/c',
  ];
  for (const s of inputs) {
    const u = parse(s);
    assert.deepEqual(parse(formatRepositoryUrl(u)), u, s);
  }
  assert.equal(formatRepositoryUrl(parse('/srv/tardis/laptop')), 'file:///srv/tardis/laptop');
  assert.equal(formatRepositoryUrl(parse('tardis://[::1]/c')), 'tardis://[::1]:7420/c');
  assert.equal(formatRepositoryUrl(parse('ssh://bob@nas/c')), 'ssh://bob@nas/c');
});
