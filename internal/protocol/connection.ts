// One protocol connection over any byte stream (TCP, TLS, a Unix socket, an ssh child's stdio).
//
// Every message is a msgpack map {t: type, id, re?, ...} in its own frame. Both ends send a hello
// first (program, protocol versions, features, limits). A request carries a fresh id; its reply
// is {t:'ok', re: id, v} or {t:'error', re: id, code, message, exit}, so requests pipeline. An
// 'error' without `re` ends the connection and says why.
//
// Flow control: each end grants the other `window` bytes in its hello and more with {t:'credit',
// n} as it finishes with what it received — a request when its reply has gone out, a reply when
// it has been handed to its caller. A sender never has more than its credit in flight, and a
// receiver drops a peer that goes over. Control messages (hello, credit, ping) are small, exempt
// and carry id 0; every other message has an id greater than the one before it.
//
// Nothing throws out of the stream's event handlers: a malformed frame, a frame over the limit,
// an unknown, misplaced or out-of-order message ends this connection with a logged reason and an
// error message to the peer; requests still waiting are rejected with the reason.
import type { Duplex } from 'node:stream';
import { PROTOCOL_VERSION, VERSION } from '../version/version.ts';
import { TardisError } from '../errors/errors.ts';
import { decodeBody, encodeBody, type Message } from './codec.ts';
import { ConnectionError, errorFromWire, errorToWire, ProtocolError } from './errors.ts';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder, FrameMac, HEADER, sealFrame, zstdAvailable, type Frame } from './frame.ts';

/** The oldest protocol version this build still speaks. */
export const MIN_PROTOCOL_VERSION = 1;
export const PROGRAM = 'tardis-ts';

export interface Limits {
  /** Largest frame payload accepted (after decompression). */
  maxFrame: number;
  /** Bytes the peer may have in flight to us before we grant more (at least maxFrame + 4). */
  window: number;
  /** Requests from the peer in progress at once. */
  maxRequests: number;
  /** Drop the connection when the peer has sent nothing (not even a ping) for this long. */
  idleTimeoutMs: number;
  /** The peer's hello must arrive within this time. */
  handshakeTimeoutMs: number;
  /** Send a ping after this long without sending anything (default: idle timeout / 3, at most 30 s). */
  pingIntervalMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxFrame: DEFAULT_MAX_FRAME,
  window: DEFAULT_MAX_FRAME + HEADER,
  maxRequests: 256,
  idleTimeoutMs: 300_000,
  handshakeTimeoutMs: 60_000,
  pingIntervalMs: 0,
};

/** Control messages are at most this large. */
const MAX_CONTROL = 4096;

/** The two frame MAC keys of a logged-in connection, from this end's point of view. */
export interface FrameKeys {
  send: Buffer;
  recv: Buffer;
}
const RESERVED = new Set(['hello', 'credit', 'ping', 'ok', 'error']);
const MAX_TYPE = 64;

export interface Hello {
  program: string;
  release: string;
  role: 'client' | 'server';
  /** Newest and oldest protocol versions spoken. */
  version: number;
  min: number;
  features: string[];
  window: number;
  maxFrame: number;
  maxRequests: number;
}

/** What a handler learns about its request beyond the message. */
export interface RequestContext {
  /** Resolves once the reply has been handed to the stream (or the connection is gone). */
  sent: Promise<void>;
}

export type RequestHandler = (type: string, msg: Message, ctx: RequestContext) => unknown;
export type LogFn = (level: 'warn' | 'info' | 'debug', msg: string) => void;

export interface ConnectionOptions {
  role: 'client' | 'server';
  limits?: Partial<Limits>;
  /** How messages name the other end: "tardisd at host:7420", "client 10.0.0.5:51234". */
  peerName?: string;
  /** Serves the peer's requests; without one, a request from the peer is a protocol error. */
  onRequest?: RequestHandler;
  log?: LogFn;
  /** Features offered in the hello (default: 'zstd' where the runtime has it). */
  features?: string[];
}

interface Pending {
  type: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Outgoing {
  buf: Buffer;
  /** Counts against credit (everything but control messages). */
  counted: boolean;
  onSent?: () => void;
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkHello(m: Message): Hello {
  const bad = (what: string): never => {
    throw new ProtocolError(`malformed hello: ${what}`);
  };
  const str = (v: unknown, what: string): string => (typeof v === 'string' && v.length <= 64 ? v : bad(what));
  const int = (v: unknown, what: string, min: number): number => (isUint(v) && v >= min ? v : bad(what));
  const features = Array.isArray(m.features) && m.features.length <= 32 ? m.features.map((f) => str(f, 'features')) : bad('features');
  const role = m.role === 'client' || m.role === 'server' ? m.role : bad('role');
  return {
    program: str(m.program, 'program'),
    release: str(m.release, 'release'),
    role,
    version: int(m.version, 'version', 1),
    min: int(m.min, 'min', 1),
    features,
    window: int(m.window, 'window', 1024),
    maxFrame: int(m.maxFrame, 'maxFrame', 1024),
    maxRequests: int(m.maxRequests, 'maxRequests', 1),
  };
}

export class Connection {
  readonly role: 'client' | 'server';
  readonly limits: Limits;
  readonly peerName: string;
  /** Resolves with the peer's hello once both have been exchanged; rejects if that fails. */
  readonly ready: Promise<Hello>;
  /** Resolves when the connection is over: null after an orderly close, else why it ended. */
  readonly closed: Promise<Error | null>;
  /** The peer's hello, once received. */
  peer: Hello | null = null;
  /** The protocol version both ends speak, once known. */
  version = 0;

  private readonly stream: Duplex;
  private readonly decoder: FrameDecoder;
  /** After the login: MACs our requests and replies (control messages stay plain). */
  private sendMac: FrameMac | null = null;
  private readonly log: LogFn;
  private readonly features: string[];
  private handler: RequestHandler | undefined;
  private state: 'hello' | 'open' | 'closing' | 'closed' = 'hello';
  private closeError: Error | null = null;
  private resolveReady!: (h: Hello) => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (e: Error | null) => void;

  private nextId = 1;
  private lastPeerId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly slotWaiters: (() => void)[] = [];
  private readonly queue: Outgoing[] = [];
  /** Resolvers of the `sent` promises of requests still being served. */
  private readonly sentWaiters = new Set<() => void>();
  private credit = 0;
  /** Counted bytes received and not yet finished with. */
  private inFlight = 0;
  private toGrant = 0;
  private grantScheduled = false;
  private activeIn = 0;
  private lastRecv = Date.now();
  private lastSent = Date.now();
  private readonly timer: NodeJS.Timeout;
  private handshakeTimer: NodeJS.Timeout | null;
  private endTimer: NodeJS.Timeout | null = null;

  constructor(stream: Duplex, opts: ConnectionOptions) {
    this.stream = stream;
    this.role = opts.role;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    // Room for one frame of the largest size, unless more is asked for.
    this.limits.window = Math.max(opts.limits?.window ?? 0, this.limits.maxFrame + HEADER);
    if (!this.limits.pingIntervalMs) this.limits.pingIntervalMs = Math.max(10, Math.min(30_000, Math.floor(this.limits.idleTimeoutMs / 3)));
    this.peerName = opts.peerName ?? (this.role === 'client' ? 'the server' : 'the client');
    this.handler = opts.onRequest;
    this.log = opts.log ?? (() => undefined);
    this.features = opts.features ?? (zstdAvailable ? ['zstd'] : []);
    this.decoder = new FrameDecoder(this.limits.maxFrame);
    this.ready = new Promise<Hello>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });

    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.terminate(new ConnectionError(`connection closed by ${this.peerName}${this.pending.size ? ' before it replied' : ''}`), false));
    stream.on('error', (err: Error) => this.terminate(new ConnectionError(`connection to ${this.peerName} failed: ${err.message}`), false));
    stream.on('close', () => this.terminate(new ConnectionError(`connection to ${this.peerName} closed${this.pending.size ? ' before it replied' : ''}`), false));
    stream.on('drain', () => this.pump());
    stream.resume(); // readBanner leaves the stream paused

    const tick = Math.max(5, Math.min(this.limits.pingIntervalMs, 1000));
    this.timer = setInterval(() => this.tick(), tick);
    this.timer.unref();
    this.handshakeTimer = setTimeout(() => {
      this.fail(new ConnectionError(`no hello from ${this.peerName} within ${this.limits.handshakeTimeoutMs / 1000} s (is it a Tardis peer?)`));
    }, this.limits.handshakeTimeoutMs);
    this.handshakeTimer.unref();

    this.sendControl({
      t: 'hello', id: 0, program: PROGRAM, release: VERSION, role: this.role, version: PROTOCOL_VERSION, min: MIN_PROTOCOL_VERSION,
      features: this.features, window: this.limits.window, maxFrame: this.limits.maxFrame, maxRequests: this.limits.maxRequests,
    });
  }

  /** Whether the connection can still carry requests. */
  get isOpen(): boolean {
    return this.state === 'hello' || this.state === 'open';
  }

  /** Why the connection ended, once it has. */
  get error(): Error | null {
    return this.closeError;
  }

  /** Sets (or replaces) the handler of the peer's requests. */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Caps incoming frames below the announced limit (e.g. before the peer has authenticated). */
  setFrameLimit(n: number): void {
    this.decoder.maxFrame = Math.min(n, this.limits.maxFrame);
  }

  /** Requests from the peer now in progress. */
  get activeRequests(): number {
    return this.activeIn;
  }

  /** Sends a request and resolves with its reply's value (or rejects with its error). */
  /**
   * Sends a request and waits for its reply. `thenAuthenticate`: the keys to MAC everything after
   * this request with (the SRP proof: the server answers it MACed already).
   */
  async request(type: string, body: Message = {}, opts: { thenAuthenticate?: FrameKeys } = {}): Promise<unknown> {
    if (RESERVED.has(type) || type.length > MAX_TYPE) throw new TypeError(`'${type}' is not a request type`);
    const peer = await this.ready;
    while (this.isOpen && this.pending.size >= peer.maxRequests) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    if (!this.isOpen) throw this.closeError ?? new ConnectionError(`connection to ${this.peerName} is closed`);
    const id = this.nextId++;
    const frame = this.frame({ ...body, t: type, id });
    if (frame.length - HEADER > peer.maxFrame || frame.length > peer.window) {
      throw new TardisError(`${type} request too large (${frame.length} bytes; ${this.peerName} accepts at most ${Math.min(peer.maxFrame, peer.window - HEADER)})`);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { type, resolve, reject });
      this.enqueue({ buf: frame, counted: true });
      if (opts.thenAuthenticate) this.authenticate(opts.thenAuthenticate);
    });
  }

  /**
   * From now on, MAC what we send and require a MAC on every request and reply we receive
   * (errors and control messages may still come plain: forging them can only end the connection).
   */
  authenticate(keys: FrameKeys): void {
    this.sendMac = new FrameMac(keys.send);
    this.decoder.mac = new FrameMac(keys.recv);
  }

  /** Whether the connection MACs its messages (after an SRP login). */
  get authenticated(): boolean {
    return this.sendMac !== null;
  }

  /**
   * Ends the connection in order: what is queued is sent first, then the stream is ended. With
   * an error, the peer is told why and requests still waiting are rejected with it.
   */
  close(err?: TardisError): void {
    if (err) {
      this.fail(err);
      return;
    }
    if (!this.isOpen) return;
    this.state = 'closing';
    this.pump();
  }

  /** Ends the connection because of `err`: logs it, tells the peer, rejects what waits. */
  fail(err: TardisError): void {
    if (this.state === 'closed') return;
    this.log('warn', `closing the connection to ${this.peerName}: ${err.message}`);
    this.terminate(err, true);
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      for (const f of this.decoder.push(chunk)) {
        if (!this.isOpen && this.state !== 'closing') return;
        this.onFrame(f);
      }
    } catch (err) {
      this.fail(err instanceof TardisError ? err : new ProtocolError(`internal error: ${(err as Error).message}`));
    }
  }

  private onFrame(f: Frame): void {
    this.lastRecv = Date.now();
    const msg = decodeBody(f.payload);
    if (msg.re === null) delete msg.re; // nil is msgpack's "absent"
    const t = msg.t;
    const id = msg.id;
    if (typeof t !== 'string' || t.length === 0 || t.length > MAX_TYPE) throw new ProtocolError('message without a type');
    if (!isUint(id)) throw new ProtocolError(`${t} message without a valid id`);
    const control = t === 'hello' || t === 'credit' || t === 'ping';
    if (this.decoder.mac && !f.authenticated && !control && t !== 'error') {
      throw new ProtocolError(`a '${t.slice(0, 64)}' message without a MAC after the login: the connection was tampered with`);
    }
    if (control) {
      if (id !== 0) throw new ProtocolError(`${t} message with id ${id} (control messages have id 0)`);
      if (f.wireBytes > MAX_CONTROL) throw new ProtocolError(`${t} message of ${f.wireBytes} bytes is too large`);
    } else if (id !== 0 || t !== 'error' || msg.re !== undefined) {
      // Only a final error may come without an id (from a peer failing before it counts).
      if (id <= this.lastPeerId) throw new ProtocolError(`message out of order (id ${id} after ${this.lastPeerId})`);
      this.lastPeerId = id;
    }

    if (this.state === 'hello') {
      if (t === 'error' && msg.re === undefined) {
        this.terminate(errorFromWire(msg.code, msg.message, msg.exit), false);
        return;
      }
      if (t !== 'hello') throw new ProtocolError(`expected a hello first, got '${t}'`);
      this.onHello(checkHello(msg));
      return;
    }
    if (t === 'hello') throw new ProtocolError('a second hello');
    if (t === 'ping') return;
    if (t === 'credit') {
      const n = msg.n;
      if (!isUint(n) || n === 0) throw new ProtocolError('malformed credit message');
      this.credit += n;
      this.pump();
      return;
    }

    if (t === 'error' && msg.re === undefined) {
      this.terminate(errorFromWire(msg.code, msg.message, msg.exit), false);
      return;
    }
    this.inFlight += f.wireBytes;
    if (this.inFlight > this.limits.window) {
      throw new ProtocolError(`${this.peerName} sent ${this.inFlight} bytes without credit for them (the window is ${this.limits.window})`);
    }
    if (t === 'ok' || t === 'error') {
      const re = msg.re;
      const p = isUint(re) ? this.pending.get(re) : undefined;
      if (!p) throw new ProtocolError(`reply to no request (re ${String(re)})`);
      this.pending.delete(re as number);
      this.release(f.wireBytes);
      this.freeSlot();
      if (t === 'ok') p.resolve(msg.v);
      else p.reject(errorFromWire(msg.code, msg.message, msg.exit));
      if (this.state === 'closing') this.pump();
      return;
    }
    if (msg.re !== undefined) throw new ProtocolError(`'${t}' is not a reply type`);
    this.dispatch(t, msg, f.wireBytes);
  }

  private onHello(h: Hello): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (!h.program.startsWith('tardis')) throw new ProtocolError(`${this.peerName} is not a Tardis program (it says '${h.program}')`);
    if (h.role === this.role) throw new ProtocolError(`${this.peerName} is a ${h.role} too`);
    const version = Math.min(h.version, PROTOCOL_VERSION);
    if (version < Math.max(h.min, MIN_PROTOCOL_VERSION)) {
      const older = h.version < MIN_PROTOCOL_VERSION ? (this.role === 'client' ? 'server' : 'client') : this.role;
      throw new ProtocolError(
        `incompatible protocol: ${this.peerName} (${h.program} ${h.release}) speaks versions ${h.min}-${h.version}, ` +
        `this ${this.role} (${PROGRAM} ${VERSION}) speaks ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}; upgrade the ${older}`,
      );
    }
    this.peer = h;
    this.version = version;
    this.credit = h.window;
    this.state = 'open';
    this.resolveReady(h);
  }

  private dispatch(type: string, msg: Message, bytes: number): void {
    const handler = this.handler;
    if (!handler) throw new ProtocolError(`unexpected request '${type}' from ${this.peerName}`);
    if (this.activeIn >= this.limits.maxRequests) throw new ProtocolError(`more than ${this.limits.maxRequests} requests in flight`);
    this.activeIn++;
    const id = msg.id as number;
    let resolveSent!: () => void;
    const ctx: RequestContext = { sent: new Promise<void>((r) => { resolveSent = r; }) };
    this.sentWaiters.add(resolveSent);
    let result: Promise<unknown>;
    if (this.state === 'closing') {
      result = Promise.reject(new ConnectionError('the connection is closing'));
    } else try {
      // Called at once, in arrival order: handlers rely on it to keep pipelined requests in order.
      result = Promise.resolve(handler(type, msg, ctx));
    } catch (err) {
      result = Promise.reject(err);
    }
    const done = () => {
      this.activeIn--;
      this.release(bytes);
      this.sentWaiters.delete(resolveSent);
      resolveSent();
    };
    result.then(
      (v) => this.reply(id, { t: 'ok', v }, done),
      (err: unknown) => {
        if (err instanceof ProtocolError) {
          done();
          this.fail(err);
          return;
        }
        if (!(err instanceof TardisError)) this.log('warn', `${type} failed: ${(err as Error)?.stack ?? String(err)}`);
        this.reply(id, { t: 'error', ...errorToWire(err) }, done);
      },
    );
  }

  private reply(re: number, body: Message, done: () => void): void {
    if (!this.isOpen && this.state !== 'closing') {
      done();
      return;
    }
    const id = this.nextId++;
    let frame: Buffer;
    try {
      frame = this.frame({ ...body, id, re });
      const peer = this.peer!;
      if (frame.length - HEADER > peer.maxFrame || frame.length > peer.window) {
        frame = this.frame({ t: 'error', id, re, ...errorToWire(new TardisError(`reply too large (${frame.length} bytes; ${this.peerName} accepts at most ${peer.maxFrame})`)) });
      }
    } catch (err) {
      frame = this.frame({ t: 'error', id, re, ...errorToWire(err) });
    }
    this.enqueue({ buf: frame, counted: true, onSent: done });
  }

  /** Done with `n` received bytes: give the peer that much credit back, in batches. */
  private release(n: number): void {
    this.inFlight -= n;
    this.toGrant += n;
    // Also while closing: the replies still awaited may need the credit.
    if (this.grantScheduled || this.state === 'closed') return;
    if (this.toGrant >= this.limits.window / 8 || this.inFlight === 0) {
      this.grantScheduled = true;
      setImmediate(() => {
        this.grantScheduled = false;
        if (this.toGrant > 0 && this.state !== 'closed') {
          const n = this.toGrant;
          this.toGrant = 0;
          this.sendControl({ t: 'credit', id: 0, n });
        }
      });
    }
  }

  private freeSlot(): void {
    const w = this.slotWaiters.shift();
    if (w) w();
  }

  // ---- sending ----

  private frame(msg: Message): Buffer {
    return encodeFrame(encodeBody(msg), this.peer?.features.includes('zstd') === true && zstdAvailable, this.sendMac !== null);
  }

  /** Queues a request or reply (sealed here, so MACs follow the order frames go out). */
  private enqueue(o: Outgoing): void {
    if (this.sendMac) sealFrame(o.buf, this.sendMac);
    this.queue.push(o);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && (this.state === 'open' || this.state === 'closing')) {
      const o = this.queue[0];
      if (o.counted && o.buf.length > this.credit) break;
      // A peer that grants credit but does not read: stop at the stream's buffer ('drain' resumes).
      if (this.stream.writableLength >= this.limits.window) break;
      this.queue.shift();
      if (o.counted) this.credit -= o.buf.length;
      this.write(o.buf);
      o.onSent?.();
    }
    if (this.state === 'closing' && this.queue.length === 0 && this.pending.size === 0 && this.activeIn === 0) this.finishClose();
  }

  private sendControl(msg: Message): void {
    this.write(encodeFrame(encodeBody(msg)));
  }

  private write(buf: Buffer): void {
    if (this.stream.destroyed || !this.stream.writable) return;
    this.lastSent = Date.now();
    this.stream.write(buf);
  }

  private tick(): void {
    if (this.state === 'closed') return;
    const now = Date.now();
    if (this.state !== 'hello' && now - this.lastRecv > this.limits.idleTimeoutMs && this.activeIn === 0) {
      this.fail(new ConnectionError(`${this.peerName} sent nothing for ${Math.round(this.limits.idleTimeoutMs / 1000)} s; connection dropped`));
      return;
    }
    if (this.state !== 'hello' && now - this.lastSent >= this.limits.pingIntervalMs) this.sendControl({ t: 'ping', id: 0 });
  }

  // ---- ending ----

  private finishClose(): void {
    if (this.endTimer) return;
    this.stream.end();
    this.endTimer = setTimeout(() => this.stream.destroy(), 2000);
    this.endTimer.unref();
  }

  /** Everything ends here, once. `tell`: send the peer the reason first. */
  private terminate(err: Error, tell: boolean): void {
    if (this.state === 'closed') return;
    const orderly = this.state === 'closing' && this.pending.size === 0;
    this.state = 'closed';
    this.closeError = orderly ? null : err;
    clearInterval(this.timer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.queue.length = 0;
    if (tell && !this.stream.destroyed && this.stream.writable) {
      try {
        this.stream.write(encodeFrame(encodeBody({ t: 'error', id: 0, ...errorToWire(err) })));
      } catch {
        // the reason could not be sent; the connection ends all the same
      }
      this.stream.end();
      const t = setTimeout(() => this.stream.destroy(), 1000);
      t.unref();
    } else if (!orderly) {
      this.stream.destroy();
    }
    this.rejectReady(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.slotWaiters.splice(0)) w();
    for (const w of this.sentWaiters) w();
    this.sentWaiters.clear();
    this.resolveClosed(this.closeError);
  }
}
