// Logins: SRP-6a (RFC 5054 2048-bit group, SHA-256, via fast-srp-hap) with the password first
// stretched by scrypt. The server keeps, per client, only a salt and the verifier in
// BASEDIR/CLIENT/auth (written when the repository is created); it never sees the password, and
// a successful login proves both sides know it (the server answers with M2).
//
//   x = SHA256(salt | SHA256(client ":" P)),  P = scrypt(NFC(password), "tardis-srp-v1" | salt)
//   v = g^x mod N
//
// The scrypt salt is not the key slot's, so the verifier tells nothing about the key slot's KEK.
// A repository created without a password (--no-password) has {method: 'none'}: it logs in
// without proof, and only on a server that does not require passwords.
import { createHmac, randomBytes, scrypt } from 'node:crypto';
import srp from 'fast-srp-hap';
import { TardisError, WrongPasswordError } from '../errors/errors.ts';
import type { AuthSetup, ScryptParams } from '../model/session.ts';
import { SRP_GROUP, type AuthRecord } from '../server/login.ts';

export { AUTH_FILE, authRecord, readAuthRecord, SRP_GROUP, writeAuthRecord, type AuthRecord } from '../server/login.ts';
export type { AuthSetup, ScryptParams } from '../model/session.ts';
import type { FrameKeys } from '../protocol/connection.ts';
import { ProtocolError } from '../protocol/errors.ts';

const { SRP, SrpClient, SrpServer } = srp;

const PARAMS = SRP.params[2048];
/** Bytes of N: A, B and v are at most this long. */
export const SRP_N_BYTES = PARAMS.N_length_bits / 8;
const KDF_TAG = Buffer.from('tardis-srp-v1');
export const DEFAULT_AUTH_SCRYPT_N = 2 ** 15;
const SALT_LEN = 32;

/** The server's answer to a login request. */
export type Challenge = { method: 'none' } | { method: 'srp'; group: string; salt: Buffer; B: Buffer; kdf: ScryptParams };

/** Bounds on scrypt parameters from the other side, so neither can make the other exhaust memory. */
export function checkKdf(k: unknown): ScryptParams {
  const o = k as Partial<ScryptParams> | null;
  const ok = o !== null && typeof o === 'object' && [o.n, o.r, o.p].every((v) => Number.isSafeInteger(v)) &&
    o.n! >= 2 && (o.n! & (o.n! - 1)) === 0 && o.n! <= 2 ** 20 && o.r! >= 1 && o.r! <= 16 && o.p! >= 1 && o.p! <= 4 &&
    128 * o.n! * o.r! <= 2 ** 30;
  if (!ok) throw new ProtocolError('unsupported scrypt parameters for the login');
  return { n: o!.n!, r: o!.r!, p: o!.p! };
}

async function stretch(password: string, salt: Buffer, k: ScryptParams): Promise<Buffer> {
  const pw = Buffer.from(password.normalize('NFC'), 'utf8');
  const maxmem = 128 * k.r * (k.n + k.p + 2) + (1 << 20);
  return new Promise((resolve, reject) => {
    scrypt(pw, Buffer.concat([KDF_TAG, salt]), 32, { N: k.n, r: k.r, p: k.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A new login for `client`: salt and verifier for `password`, or no login for null. */
export async function makeAuthSetup(client: string, password: string, opts: { scryptN?: number } = {}): Promise<AuthSetup> {
  const kdf = checkKdf({ n: opts.scryptN ?? DEFAULT_AUTH_SCRYPT_N, r: 8, p: 1 });
  const salt = randomBytes(SALT_LEN);
  const P = await stretch(password, salt, kdf);
  return { salt, verifier: SRP.computeVerifier(PARAMS, salt, Buffer.from(client, 'utf8'), P), kdf };
}

/** Checks a setup received over the wire. */
export function checkAuthSetup(v: unknown): AuthSetup | null {
  if (v === null || v === undefined) return null;
  const o = v as Partial<AuthSetup>;
  if (typeof o !== 'object' || !Buffer.isBuffer(o.salt) || o.salt.length < 16 || o.salt.length > 64) throw new ProtocolError('malformed login setup: salt');
  if (!Buffer.isBuffer(o.verifier) || o.verifier.length === 0 || o.verifier.length > SRP_N_BYTES || o.verifier.every((b) => b === 0)) {
    throw new ProtocolError('malformed login setup: verifier');
  }
  return { salt: o.salt, verifier: o.verifier, kdf: checkKdf(o.kdf) };
}

/**
 * The frame MAC keys of a logged-in connection (see internal/protocol/frame.ts), one per
 * direction, from the SRP session key K that only the two ends of this login know.
 */
export function frameKeys(K: Buffer, role: 'client' | 'server'): FrameKeys {
  const derive = (dir: string) => createHmac('sha256', K).update(`tardis-ts frames ${dir}`).digest();
  const up = derive('client->server');
  const down = derive('server->client');
  return role === 'client' ? { send: up, recv: down } : { send: down, recv: up };
}

/** The server half of one SRP login. */
export class SrpVerifier {
  readonly challenge: Challenge & { method: 'srp' };
  private readonly server: InstanceType<typeof SrpServer>;

  private constructor(server: InstanceType<typeof SrpServer>, challenge: Challenge & { method: 'srp' }) {
    this.server = server;
    this.challenge = challenge;
  }

  static async start(client: string, record: AuthRecord & { method: 'srp' }): Promise<SrpVerifier> {
    const salt = Buffer.from(record.salt, 'base64');
    const verifier = Buffer.from(record.verifier, 'base64');
    const b = await SRP.genKey(32);
    const server = new SrpServer(PARAMS, { username: Buffer.from(client, 'utf8'), salt, verifier }, b);
    return new SrpVerifier(server, { method: 'srp', group: SRP_GROUP, salt, B: server.computeB(), kdf: checkKdf(record.kdf) });
  }

  /** Checks the client's proof; returns the server's proof M2. WrongPasswordError if it fails. */
  verify(A: unknown, M1: unknown): Buffer {
    if (!Buffer.isBuffer(A) || A.length === 0 || A.length > SRP_N_BYTES) throw new ProtocolError('malformed login proof: A');
    if (!Buffer.isBuffer(M1) || M1.length !== 32) throw new ProtocolError('malformed login proof: M1');
    try {
      this.server.setA(A);
      this.server.checkM1(M1);
    } catch {
      // A that is 0 mod N lands here too: the library refuses it.
      throw new WrongPasswordError('wrong password');
    }
    return this.server.computeM2();
  }

  /** After a successful verify: this end's frame MAC keys. */
  keys(): FrameKeys {
    return frameKeys(this.server.computeK(), 'server');
  }
}

/** The client half of one SRP login: the proof for a challenge, and the check of the answer. */
export class SrpProver {
  private readonly client: InstanceType<typeof SrpClient>;
  readonly A: Buffer;
  readonly M1: Buffer;

  private constructor(client: InstanceType<typeof SrpClient>) {
    this.client = client;
    this.A = client.computeA();
    this.M1 = client.computeM1();
  }

  static async prove(clientName: string, password: string, ch: { group: unknown; salt: unknown; B: unknown; kdf: unknown }): Promise<SrpProver> {
    if (ch.group !== SRP_GROUP) throw new TardisError(`the server asks for an unsupported login method (${String(ch.group)})`);
    if (!Buffer.isBuffer(ch.salt) || ch.salt.length < 16 || ch.salt.length > 64) throw new ProtocolError('malformed login challenge: salt');
    if (!Buffer.isBuffer(ch.B) || ch.B.length !== SRP_N_BYTES) throw new ProtocolError('malformed login challenge: B');
    const kdf = checkKdf(ch.kdf);
    const P = await stretch(password, ch.salt, kdf);
    const a = await SRP.genKey(32);
    const client = new SrpClient(PARAMS, ch.salt, Buffer.from(clientName, 'utf8'), P, a);
    try {
      client.setB(ch.B);
    } catch {
      throw new ProtocolError('the server sent an invalid login challenge');
    }
    return new SrpProver(client);
  }

  /** This end's frame MAC keys (known once the proof is computed, before the server answers). */
  keys(): FrameKeys {
    return frameKeys(this.client.computeK(), 'client');
  }

  /** Checks the server's M2: only a server holding the verifier can produce it. */
  check(M2: unknown): void {
    try {
      if (!Buffer.isBuffer(M2)) throw new Error('no M2');
      this.client.checkM2(M2);
    } catch {
      throw new TardisError('the server could not prove that it knows this client\'s login; refusing to continue');
    }
  }
}
