// `tardisd --make-cert DIR`: a self-signed certificate and key for --ssl, so a server needs
// neither openssl nor a CA. Clients trust it by --validate-certs with the certificate as CA.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors/errors.ts';

export const CERT_FILE = 'tardisd.crt';
export const KEY_FILE = 'tardisd.key';

export interface MadeCert {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint, for clients to compare. */
  fingerprint: string;
  names: string[];
  validTo: string;
}

/**
 * Writes DIR/tardisd.crt (0644) and DIR/tardisd.key (0600): an ECDSA P-256 key and a
 * certificate for `names` (host names and IP addresses; default: this host's name, localhost,
 * 127.0.0.1, ::1), valid for `days`. Never overwrites either file.
 */
export async function makeCertificate(dir: string, names: string[] = [], days = 3650): Promise<MadeCert> {
  const all = [...new Set([...names, os.hostname(), 'localhost', '127.0.0.1', '::1'].filter((n) => n !== '' && n !== '::' && n !== '0.0.0.0'))];
  const certFile = path.join(dir, CERT_FILE);
  const keyFile = path.join(dir, KEY_FILE);
  for (const f of [certFile, keyFile]) {
    if (fs.existsSync(f)) throw new UsageError(`${f} exists already; remove it first to make a new certificate`);
  }
  // Loaded here only: the X.509 library is large and only this command needs it.
  const mod = await import('selfsigned');
  // A CommonJS module: bundled, its exports arrive as the default export.
  const generate = mod.generate ?? (mod as unknown as { default: typeof mod }).default.generate;
  const now = new Date();
  const pem = await generate([{ name: 'commonName', value: all[0] }, { name: 'organizationName', value: 'tardisd' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: all.map((n) => (net.isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  fs.mkdirSync(dir, { recursive: true });
  // The key first, exclusively and private from its first byte.
  fs.writeFileSync(keyFile, pem.private, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(certFile, pem.cert, { mode: 0o644, flag: 'wx' });
  const x = new X509Certificate(pem.cert);
  return { certFile, keyFile, fingerprint: x.fingerprint256, names: all, validTo: x.validTo };
}
