// Repository URLs (reference §0.2 plus the transports of DESIGN §2). The last path component
// names the client; everything before it says where the repository lives.
import net from 'node:net';
import path from 'node:path';
import { UsageError } from '../errors/errors.ts';

export type RepoUrl =
  | { kind: 'file'; path: string; client: string }
  | { kind: 'tardis'; host: string; port: number; client: string; tls?: boolean }
  | { kind: 'unix'; socket: string; client: string }
  | { kind: 'ssh'; user?: string; host: string; port?: number; client: string }
  | { kind: 'http'; secure: boolean; host: string; port: number; client: string };

export interface ParseUrlOptions {
  /** Base for relative bare paths (default: process.cwd()). */
  cwd?: string;
  /** Port for `tardis://` without one (default 7420; callers pass getDefault('TARDIS_PORT')). */
  defaultPort?: number;
  /** Port for `http(s)://` without one (default 7430, TARDIS_REMOTE_PORT). */
  defaultRemotePort?: number;
}

export const DEFAULT_PORT = 7420;
export const DEFAULT_REMOTE_PORT = 7430;

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// scheme://[user@]host[:port][/path][?query][#fragment]
const AUTHORITY_URL = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/i;

/**
 * Check a client name: it becomes a directory name on the server, so it must be one plain,
 * visible path component.
 */
export function validateClientName(name: string, url: string): string {
  const bad = (why: string): never => {
    throw new UsageError(`invalid repository URL '${url}': ${why}`);
  };
  if (name === '') bad('no client name (the last path component names the client)');
  if (name === '.' || name === '..') bad(`'${name}' cannot be a client name`);
  if (name.includes('/')) bad(`client name '${name}' must not contain '/'`);
  if (name.startsWith('.')) bad(`client name '${name}' must not start with '.'`);
  if (/[\u0000-\u001f\u007f]/.test(name)) bad('client name contains control characters');
  if (Buffer.byteLength(name) > 255) bad('client name is longer than 255 bytes');
  return name;
}

function parsePort(s: string, url: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new UsageError(`invalid repository URL '${url}': port '${s}' is not a number from 1 to 65535`);
  }
  return Number(s);
}

function parseHost(s: string, url: string): string {
  if (s.startsWith('[')) {
    // A zone id is written %25 in URLs (RFC 6874): fe80::1%25eth0.
    const inner = s.slice(1, -1).replace(/%25/g, '%');
    if (!net.isIPv6(inner)) throw new UsageError(`invalid repository URL '${url}': '${s}' is not an IPv6 address`);
    return inner;
  }
  if (s === '') throw new UsageError(`invalid repository URL '${url}': no host name`);
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(s)) {
    throw new UsageError(`invalid repository URL '${url}': '${s}' is not a valid host name (IPv6 addresses go in [brackets])`);
  }
  return s;
}

function decodeComponent(s: string, url: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new UsageError(`invalid repository URL '${url}': bad %-escape in '${s}'`);
  }
}

/** The single client component of a network URL's path ("/CLIENT", a trailing "/" allowed). */
function singleClient(p: string, url: string): string {
  const parts = p.replace(/\/$/, '').split('/');
  if (p === '' || p === '/' || parts.length < 2) {
    throw new UsageError(`invalid repository URL '${url}': no client name (expected ${url.split(':')[0]}://host/CLIENT)`);
  }
  if (parts.length > 2) {
    throw new UsageError(`invalid repository URL '${url}': the path must be exactly one component, the client name`);
  }
  return validateClientName(decodeComponent(parts[1], url), url);
}

function fileUrl(p: string, url: string, cwd: string): RepoUrl {
  if (p === '') throw new UsageError(`invalid repository URL '${url}': empty path`);
  // The client name is the last component as written: resolving 'repo/..' first would
  // silently name a different client.
  const last = p.replace(/\/+$/, '').split('/').pop() ?? '';
  validateClientName(last, url);
  const abs = path.resolve(cwd, p);
  return { kind: 'file', path: abs, client: path.basename(abs) };
}

/**
 * Parse a repository URL: `file:/abs/path/CLIENT`, `file:///abs/path/CLIENT`, a bare path
 * (relative ones are made absolute), `tardis://host[:port]/CLIENT`, `unix:/run/x.sock/CLIENT`,
 * `ssh://[user@]host[:port]/CLIENT`, `http(s)://host[:port]/CLIENT`. Throws UsageError.
 */
export function parseRepositoryUrl(s: string, opts: ParseUrlOptions = {}): RepoUrl {
  const cwd = opts.cwd ?? process.cwd();
  if (s.trim() === '') {
    throw new UsageError('no repository given: use --repository URL or set TARDIS_REPO');
  }
  const scheme = SCHEME.exec(s)?.[1].toLowerCase();
  if (scheme === undefined) return fileUrl(s, s, cwd);

  if (scheme === 'file' || scheme === 'unix') {
    let rest = s.slice(scheme.length + 1);
    if (rest.startsWith('//')) {
      // file://localhost/x and file:///x; any other authority names a remote machine.
      const slash = rest.indexOf('/', 2);
      const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      if (authority !== '' && !(scheme === 'file' && authority === 'localhost')) {
        throw new UsageError(`invalid repository URL '${s}': ${scheme}: URLs take no host ('${authority}'); write ${scheme}:///path`);
      }
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    if (/[?#]/.test(rest)) {
      throw new UsageError(`invalid repository URL '${s}': ${scheme}: URLs take no '?' or '#' part (give a plain path instead)`);
    }
    // Like Python's urlparse, 'file:repo/CLIENT' is a relative path.
    if (scheme === 'file') return fileUrl(rest, s, cwd);
    const trimmed = rest.replace(/\/+$/, '');
    const cut = trimmed.lastIndexOf('/');
    if (!rest.startsWith('/') || cut <= 0) {
      throw new UsageError(`invalid repository URL '${s}': expected unix:/path/to/socket/CLIENT`);
    }
    const client = validateClientName(trimmed.slice(cut + 1), s);
    return { kind: 'unix', socket: path.normalize(trimmed.slice(0, cut)), client };
  }

  if (scheme !== 'tardis' && scheme !== 'ssh' && scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(
      `invalid repository URL '${s}': unknown scheme '${scheme}:' (use file:, tardis:, unix:, ssh:, http: or https:; write ./${s} for a local path)`,
    );
  }
  const m = AUTHORITY_URL.exec(s);
  if (!m) throw new UsageError(`invalid repository URL '${s}': expected ${scheme}://host[:port]/CLIENT`);
  const [, , user, hostPart, portPart, pathPart, query, fragment] = m;
  if (hostPart === '' && portPart?.includes(':')) {
    throw new UsageError(`invalid repository URL '${s}': IPv6 addresses go in brackets, e.g. ${scheme}://[::1]/CLIENT`);
  }
  if (query !== undefined || fragment !== undefined) {
    throw new UsageError(`invalid repository URL '${s}': no '?' or '#' part allowed`);
  }
  const host = parseHost(hostPart, s);
  const port = portPart === undefined ? undefined : parsePort(portPart, s);
  const client = singleClient(pathPart, s);

  if (scheme === 'ssh') {
    if (user !== undefined) {
      if (user === '') throw new UsageError(`invalid repository URL '${s}': empty user name before '@'`);
      if (user.includes(':')) throw new UsageError(`invalid repository URL '${s}': passwords in URLs are not supported`);
    }
    const u: RepoUrl = { kind: 'ssh', host, client };
    if (user !== undefined) u.user = decodeComponent(user, s);
    if (port !== undefined) u.port = port;
    return u;
  }
  if (user !== undefined) {
    throw new UsageError(`invalid repository URL '${s}': ${scheme}: URLs take no user name (the password is given separately)`);
  }
  if (scheme === 'tardis') return { kind: 'tardis', host, port: port ?? opts.defaultPort ?? DEFAULT_PORT, client };
  return { kind: 'http', secure: scheme === 'https', host, port: port ?? opts.defaultRemotePort ?? DEFAULT_REMOTE_PORT, client };
}

const hostForUrl = (h: string): string => (h.includes(':') ? `[${h.replace(/%/g, '%25')}]` : h);

/** A display form that parseRepositoryUrl reads back to the same value. */
export function formatRepositoryUrl(u: RepoUrl): string {
  const c = encodeURIComponent(u.client);
  switch (u.kind) {
    case 'file':
      // Paths with '?' or '#' cannot be file: URLs here; the bare path parses back the same.
      return /[?#]/.test(u.path) ? u.path : `file://${u.path}`;
    case 'unix':
      return `unix:${u.socket}/${u.client}`;
    case 'tardis':
      return `tardis://${hostForUrl(u.host)}:${u.port}/${c}`;
    case 'ssh':
      return `ssh://${u.user !== undefined ? `${encodeURIComponent(u.user)}@` : ''}${hostForUrl(u.host)}${u.port !== undefined ? `:${u.port}` : ''}/${c}`;
    case 'http':
      return `${u.secure ? 'https' : 'http'}://${hostForUrl(u.host)}:${u.port}/${c}`;
  }
}
