// One client connection: its socket, request reader, output (the reply
// writer over the shared reply buffer, views of large values, the output
// limits), and the per-connection state commands use: it is the
// CommandContext handlers run on. Replies produced while handling one read
// batch leave in one socket write.

import type { Socket } from 'node:net';
import { RequestReader, type RequestSink } from '../protocol/request-reader.js';
import { scanKeyHints } from '../protocol/key-hints.js';
import { ReplyWriter, type ViewedBlock } from '../protocol/reply-writer.js';
import type { Db } from '../store/db.js';
import type { AclUser } from '../acl/user.js';
import { processCommand } from '../commands/dispatch.js';
import { REPLY_OFF, REPLY_SKIP, REPLY_SKIP_NEXT, type CommandContext, type QueuedCommand } from '../commands/context.js';
import type { WatchedKey } from '../commands/watch-registry.js';
import type { OutputLimit } from '../config/directives.js';
import type { ServerContext } from '../commands/context.js';
import { adoptSocket } from './socket.js';
import type { SharedBuffers } from './shared-buffers.js';

/** What a connection needs of the server beyond what its commands see (the Server is one). */
export interface ConnectionHost extends ServerContext {
  readonly buffers: SharedBuffers;
  /** The store's clock, read per read batch (updateClock). */
  readonly clock: number;
  updateClock(): void;
  /** Bytes of all clients' buffers, kept up to date by each client, and their recent peak. */
  clientsMemory: number;
  clientsPeak: number;
  readonly outputLimitNormal: OutputLimit;
  /** Whether used_memory is over maxmemory now. */
  overBudget(): boolean;
  /** An error reply was sent (INFO errorstats). */
  recordError(msg: string): void;
  removeClient(c: Client): void;
  /** Writes `c`'s replies once the loop has handled every read it had ready (see shared-buffers.ts). */
  queueFlush(c: Client): void;
  /** Writes every queued client's replies now (the shared reply buffer is short of room). */
  flushQueued(): void;
}

/** What a connection's `out` is between reads: no buffer (a reply made then gets a buffer of its own). */
const NO_BUFFER = Buffer.alloc(0);

/** A read shorter than this holds one small request at most: no keys to read ahead. */
const PREFETCH_MIN_READ = 64;

/** Work a client keeps filling its reads for before others are served (ms). */
const FAIR_SLICE_MS = 1;

/** The longest a write waits for a slot migration's last keys before it gets TRYAGAIN (see park). */
const PARK_MS = 5000;

/** How long CLIENT LIST's rbp remembers a reply peak (Redis resets its buffer peak every 5 s). */
const REPLY_PEAK_MS = 5000;

export class Client extends ReplyWriter implements CommandContext, RequestSink {
  readonly id: number;
  readonly reader: RequestReader;
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  /** Whether AUTH (or a default user without password) let this connection in. */
  authenticated = false;
  /** The ACL user the connection runs as (the default user until AUTH). */
  user!: AclUser;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  /** Queued commands while in MULTI, null otherwise. */
  multi: QueuedCommand[] | null = null;
  /** A command failed to queue: EXEC must abort (EXECABORT). */
  multiError = false;
  watched: WatchedKey[] = [];
  /** A watched key changed: EXEC must fail. */
  dirtyCas = false;
  noEvict = false;
  importStream = false;
  /** CLIENT REPLY: 0 when replies flow normally (the hot path checks only this). */
  replyFlags = 0;
  /** Close once pending replies are written (QUIT, protocol error, CLIENT KILL). */
  closing = false;
  private closed = false;
  readonly addr: string;
  readonly laddr: string;
  /** Connected through the unix socket (CLIENT LIST flag U). */
  readonly unix: boolean;
  readonly tls: boolean;

  readonly socket: Socket;

  /** `accepted` is a connection accepted paused; the client takes it over and starts reading. */
  constructor(
    readonly server: ConnectionHost,
    accepted: Socket,
    id: number,
    /** "path:0" for a unix-socket client (its addr and laddr, as Redis shows them), else null. */
    unixPath: string | null = null,
  ) {
    super(NO_BUFFER);
    const socket = adoptSocket(accepted, server.buffers.read, (chunk, shared) => this.onData(chunk, shared));
    this.socket = socket;
    this.id = id;
    this.db = server.store.dbs[0];
    server.acl.resetSession(this);
    this.unix = unixPath !== null;
    this.tls = (accepted as { encrypted?: boolean }).encrypted === true;
    this.addr = unixPath ?? `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = unixPath ?? `${socket.localAddress}:${socket.localPort}`;
    const config = server.config;
    // Getters: CONFIG SET applies to connected clients too.
    this.reader = new RequestReader(this, {
      get protoMaxBulkLen() { return config.int('proto-max-bulk-len'); },
      get queryBufferLimit() { return config.int('client-query-buffer-limit'); },
    });
    socket.setNoDelay(true);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('drain', () => {
      // A client that is being sent a long reply is not idle (Redis counts writes as interaction).
      this.lastInteraction = Date.now();
      this.queuedWrites = 0;
      this.releaseViews();
      this.trackMemory();
    });
  }

  /** Loopback or the unix socket (Redis's islocalClient): "local" for protected features. */
  get local(): boolean {
    const a = this.socket.remoteAddress;
    // Only a unix-socket connection has no peer address.
    if (a === undefined) return true;
    return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
  }

  discardTransaction(): void {
    this.multi = null;
    this.multiError = false;
    this.server.watches.unwatchAll(this);
  }

  /** Bytes still arriving after the client was closed with a reply (see onData). */
  private sentAfterClose = 0;

  private onData(chunk: Buffer, shared: boolean): void {
    // Closed after its reply (a protocol error, QUIT), the socket is only
    // half-closed so that the reply arrives; a client that keeps sending
    // regardless is cut off, as Redis does at once (its reply may be lost then).
    if (this.closed) {
      this.sentAfterClose += chunk.length;
      if (this.sentAfterClose > 64 * 1024) this.socket.destroy();
      return;
    }
    // A read that filled the buffer means more is waiting (see the end).
    const full = shared && chunk.length === this.server.buffers.read.length;
    if (full && this.busySince === 0) this.busySince = performance.now();
    // One clock read per read batch: every command of a pipeline sees the same "now".
    this.server.updateClock();
    // Replies of an earlier read of this turn go first: the room after them is another client's now.
    if (this.outLen > 0 || this.views.length > 0) this.flush();
    this.borrowRoom();
    this.lastInteraction = this.server.clock;
    this.server.stats.netInputBytes += chunk.length;
    // Pipelined requests: the buckets of their keys are read together first (key-hints.ts).
    if (chunk.length >= PREFETCH_MIN_READ && this.reader.atRequestStart) {
      const b = this.server.buffers;
      const n = scanKeyHints(chunk, 0, b.keyStarts, b.keyEnds);
      if (n > 1) this.db.prefetch(chunk, b.keyStarts, b.keyEnds, n);
    }
    this.reader.feed(chunk);
    // The shared read buffer is reused by the next read of any client.
    if (shared) this.reader.releaseInput(this.server.buffers.readMemory);
    if (this.borrowed) this.server.buffers.claimReply(this.outLen);
    if (this.outLen > 0 || this.views.length > 0 || this.closing) this.queueFlush();
    else this.returnRoom();
    // While reads keep filling the buffer, the runtime goes on reading this
    // socket alone (up to 32 reads a turn): after a slice of work, the others
    // have their turn first. By time, not by read: a read of a few big values
    // is quick, and pausing after each costs more than it does.
    if (!full) this.busySince = 0;
    else if (!this.closed && performance.now() - this.busySince >= FAIR_SLICE_MS) {
      this.busySince = 0;
      this.yieldTurn();
    }
  }

  /** Replies are built in the room the shared reply buffer has left (shared-buffers.ts). */
  private borrowRoom(): void {
    const buffers = this.server.buffers;
    let room = buffers.replyRoom();
    if (room === null) {
      this.server.flushQueued();
      room = buffers.replyRoom() as Buffer;
    }
    this.out = room;
    this.borrowed = true;
  }

  /** No reply was made: the room is not held. */
  private returnRoom(): void {
    this.out = NO_BUFFER;
    this.borrowed = false;
  }

  /** Whether the server has this client in its queue of writes. */
  private queued = false;

  private queueFlush(): void {
    if (this.queued) return;
    this.queued = true;
    this.server.queueFlush(this);
  }

  /** When this client's current run of full reads began (0: not in one). */
  private busySince = 0;

  private yielding = false;

  private yieldTurn(): void {
    if (this.yielding) return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      // A client closed meanwhile (its replies are written after the loop's reads) reads on: what it still sends
      // is counted and cuts it off (see onData), where a paused socket would leave it blocked in its write.
      if (!this.socket.destroyed) this.socket.resume();
    });
  }

  // RequestSink
  onCommand(argv: Buffer[]): boolean {
    this.argv = argv;
    if (this.replyFlags === 0) processCommand(this, argv);
    else this.dispatchWithReplyFlags(argv);
    this.argv = null;
    // A pipeline of big replies must not pile up before the flush checks it (Redis checks each reply).
    if (this.outputLimited && this.overOutputLimit(0)) {
      this.closeForOutputLimit();
      return false;
    }
    return !this.closing;
  }

  /** The command being run (CLIENT LIST's argv-mem). */
  private argv: Buffer[] | null = null;

  /** Whether a normal-class output limit is set (read per command: CONFIG SET applies at once). */
  private get outputLimited(): boolean {
    const l = this.server.outputLimitNormal;
    return l.hard > 0 || l.soft > 0;
  }

  /**
   * Growing the reply buffer is where one command (MGET of many values) or one
   * read's pipeline makes memory grow: over the hard limit, what was built is
   * dropped (the client is closed after the command, unanswered, as Redis
   * does) and later replies overwrite the same buffer.
   */
  protected override ensure(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    if (this.outputLimited && this.overOutputLimit(n)) {
      this.outputOverflow = true;
      this.replyRollback(0);
      if (n <= this.out.length) return;
    }
    if (!this.borrowed) return super.ensure(n);
    // Out of the room in the shared buffer (the next client's replies go there): into the spare, or a buffer of our own.
    const buffers = this.server.buffers;
    const need = this.outLen + n;
    const own = buffers.takeSpare(need) ?? Buffer.allocUnsafe(Math.max(2 * need, 2 * this.out.length));
    this.out.copy(own, 0, 0, this.outLen);
    this.out = own;
    this.borrowed = false;
    buffers.spareAt = this.server.clock;
  }

  /** The reply went over the hard limit while being built: close after this command. */
  private outputOverflow = false;

  /**
   * client-output-buffer-limit for normal clients, counting what is queued in
   * the socket, what is built and not yet written, and `more` bytes about to
   * be: over the hard limit; over the soft limit for soft-seconds.
   */
  private overOutputLimit(more: number): boolean {
    if (this.outputOverflow) return true;
    const { hard, soft, softSeconds } = this.server.outputLimitNormal;
    const size = this.socket.writableLength + this.outLen + this.unsentViewBytes() + more;
    if (hard > 0 && size > hard) return true;
    if (soft === 0 || size <= soft) {
      this.softLimitSince = 0;
      return false;
    }
    const now = Date.now();
    if (this.softLimitSince === 0) this.softLimitSince = now;
    return now - this.softLimitSince >= softSeconds * 1000;
  }

  /** Bytes of the large-value views queued and not yet handed to the socket. */
  private unsentViewBytes(): number {
    const v = this.views;
    // Rolled back since last counted: count again.
    if (v.length < this.viewsCounted) this.viewsCounted = this.viewBytes = 0;
    for (let i = this.viewsCounted; i < v.length; i++) this.viewBytes += v[i].length;
    this.viewsCounted = v.length;
    return this.viewBytes;
  }

  private viewsCounted = 0;
  private viewBytes = 0;

  private closeForOutputLimit(): void {
    this.server.log('warning', `Client ${this.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.socket.destroy();
    this.close();
  }

  /**
   * CLIENT REPLY OFF/SKIP: the command runs, its output is dropped. The state
   * after the command decides, so CLIENT REPLY ON answers OK even when off.
   */
  private dispatchWithReplyFlags(argv: Buffer[]): void {
    const before = this.replyMark();
    if (this.replyFlags & REPLY_SKIP_NEXT) this.replyFlags = (this.replyFlags & ~REPLY_SKIP_NEXT) | REPLY_SKIP;
    processCommand(this, argv);
    if (this.replyFlags & (REPLY_OFF | REPLY_SKIP)) this.replyRollback(before);
    this.replyFlags &= ~REPLY_SKIP;
  }

  onProtocolError(msg: string): void {
    this.addError(`ERR ${msg}`);
    this.server.log('verbose', `Protocol error (${msg}) from client: id=${this.id} addr=${this.addr}`);
    this.closing = true;
  }

  onQueryBufferOverflow(size: number): void {
    this.server.log('warning', `Closing client that reached max query buffer length: id=${this.id} addr=${this.addr} qbuf=${size}`);
    this.closing = true;
  }

  /** Dynamic, as in Redis: a default user that stops needing a password lets waiting connections in. */
  authRequired(): boolean {
    return !this.authenticated && this.server.acl.authRequired();
  }

  protected override onError(msg: string): void {
    this.server.recordError(msg);
  }

  /** Writes pending replies in one write, then closes if asked to. */
  flush(): void {
    this.queued = false;
    if (this.closed) return;
    if (this.outLen > 0 || this.views.length > 0) {
      let queued = 1;
      if (this.views.length > 0) {
        queued = this.writeWithViews();
      } else {
        this.server.stats.netOutputBytes += this.outLen;
        this.socket.write(this.out.subarray(0, this.outLen));
      }
      this.notePeak(this.outLen);
      this.outLen = 0;
      // If the kernel took everything now, the buffer is free for the next
      // client; otherwise it belongs to the pending write.
      const pending = this.socket.writableLength > 0;
      // A pending write holds its bytes: the shared buffer's room, or our own buffer (else kept as the spare).
      const buffers = this.server.buffers;
      if (this.borrowed) {
        if (pending) buffers.holdReply();
      } else if (!pending) {
        buffers.giveSpare(this.out);
      }
      // Over maxmemory, a buffer kept for the next big reply goes back at once.
      if (this.server.overBudget()) buffers.dropSpare();
      this.returnRoom();
      if (pending) {
        if (this.outputLimited && this.overOutputLimit(0)) return this.closeForOutputLimit();
        this.queuedWrites += queued;
      } else {
        this.softLimitSince = 0;
        this.queuedWrites = 0;
        this.releaseViews();
      }
      this.trackMemory();
    }
    if (this.closing) {
      this.socket.end();
      this.close();
    }
  }

  /** One corked write of the reply bytes with the queued views of large values in their places; returns the parts. */
  private writeWithViews(): number {
    const s = this.socket;
    s.cork();
    let pos = 0;
    let bytes = this.outLen;
    let parts = this.views.length;
    for (let i = 0; i < this.views.length; i++) {
      const at = this.viewAt[i];
      if (at > pos) {
        s.write(this.out.subarray(pos, at));
        parts++;
      }
      s.write(this.views[i]);
      bytes += this.views[i].length;
      pos = at;
    }
    if (this.outLen > pos) {
      s.write(this.out.subarray(pos, this.outLen));
      parts++;
    }
    s.uncork();
    this.viewsCounted = this.viewBytes = 0;
    this.server.stats.netOutputBytes += bytes;
    for (const b of this.viewBlocks) this.sentBlocks.push(b);
    this.views.length = 0;
    this.viewAt.length = 0;
    this.viewBlocks.length = 0;
    return parts;
  }

  /** The most reply bytes built for one read lately (CLIENT LIST's rbp), and since when. */
  private replyPeak = 0;
  private replyPeakAt = 0;

  private notePeak(n: number): void {
    const now = this.server.clock;
    if (n < this.replyPeak && now - this.replyPeakAt < REPLY_PEAK_MS) return;
    this.replyPeak = n;
    this.replyPeakAt = now;
  }

  private replyPeakNow(): number {
    const recent = this.server.clock - this.replyPeakAt < REPLY_PEAK_MS ? this.replyPeak : 0;
    return Math.max(recent, this.outLen);
  }

  /** Writes (reply buffers, views of values) handed to the socket since it last drained: CLIENT LIST's oll. */
  private queuedWrites = 0;

  /** `out` is the shared reply buffer, taken for the read being handled. */
  private borrowed = false;

  /** Large blocks with views handed to the socket that may not have left yet. */
  private sentBlocks: ViewedBlock[] = [];

  /** Called when the socket drained: the views are sent, their blocks may change again. */
  private releaseViews(): void {
    for (const b of this.sentBlocks) b.readers--;
    this.sentBlocks.length = 0;
  }

  /** Bytes of this client's buffers last added to the server's count. */
  private memCounted = 0;

  /** Keeps the server's count of client buffer memory (part of used_memory) up to date. */
  private trackMemory(): void {
    const mem = this.socket.writableLength + this.reader.pendingBytes() + this.reader.spareBytes();
    const server = this.server;
    server.clientsMemory += mem - this.memCounted;
    if (server.clientsMemory > server.clientsPeak) server.clientsPeak = server.clientsMemory;
    this.memCounted = mem;
  }

  /** When the output first went over the soft limit (0: it is under). */
  private softLimitSince = 0;

  /**
   * When the client last did something, for the idle timeout: a read, or (as
   * Redis counts its writes) progress in sending a reply it is slow to read.
   */
  lastActive(now: number): number {
    const h = (this.socket as unknown as { _handle?: { writeQueueSize?: number } })._handle;
    const left = h?.writeQueueSize ?? this.socket.writableLength;
    if (left > 0 && left !== this.unsentSeen) this.lastInteraction = now;
    this.unsentSeen = left;
    return this.lastInteraction;
  }

  /** Gives back the request reader's spare payload buffer once the client has been idle a second (server cron). */
  releaseIdleBuffers(now: number): void {
    if (now - this.lastInteraction >= 1000 && this.reader.releaseSpare() > 0) this.trackMemory();
  }

  /** Bytes of the reply left to send when lastActive last looked. */
  private unsentSeen = 0;

  /** Bytes queued in the socket and not yet sent. */
  get pendingOutput(): number {
    return this.socket.writableLength + this.outLen;
  }

  /**
   * Parks the command being run until a slot migration's last keys are
   * across (its write would get TRYAGAIN, which not every client library
   * retries): nothing after it is read or run meanwhile, as Valkey pauses
   * writes. The migration wakes it (unpark), or PARK_MS does, after which it
   * gets its TRYAGAIN. False when it cannot wait (it waited once already).
   */
  park(argv: Buffer[]): boolean {
    const cluster = this.server.cluster;
    if (cluster === null || this.parkExpired || this.parked !== null) return false;
    // Copies: the arguments view the read buffer, which the next read reuses.
    this.parked = argv.map((a) => Buffer.from(a));
    this.reader.pauseAfterCommand();
    this.socket.pause();
    cluster.park(this);
    this.parkTimer = setTimeout(() => {
      this.parkExpired = true;
      this.unpark();
    }, PARK_MS);
    return true;
  }

  /** Runs the parked command again (it now gets MOVED, or runs here), then what the client sent since. */
  unpark(): void {
    const argv = this.parked;
    if (argv === null) return;
    this.parked = null;
    if (this.parkTimer !== null) clearTimeout(this.parkTimer);
    this.parkTimer = null;
    this.server.cluster?.unpark(this);
    if (this.closed) return;
    if (this.outLen === 0 && this.views.length === 0) this.borrowRoom();
    const goOn = this.onCommand(argv);
    this.parkExpired = false;
    if (goOn) this.reader.resume();
    this.flush();
    if (!this.closed && !this.reader.paused) this.socket.resume();
  }

  private parked: Buffer[] | null = null;
  private parkTimer: NodeJS.Timeout | null = null;
  private parkExpired = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.parked !== null) {
      this.parked = null;
      if (this.parkTimer !== null) clearTimeout(this.parkTimer);
      this.server.cluster?.unpark(this);
    }
    this.reader.stop();
    this.releaseViews();
    this.replyRollback(0);
    this.server.clientsMemory -= this.memCounted;
    this.memCounted = 0;
    this.server.watches.unwatchAll(this);
    this.server.removeClient(this);
    if (!this.socket.destroyed && !this.closing) this.socket.destroy();
  }

  get isClosed(): boolean { return this.closed; }

  /** The CLIENT LIST / CLIENT INFO line of this client: Redis 7.0's fields in its order, then 7.2's lib-name and lib-ver. */
  describe(now = Date.now()): string {
    const flags = `${this.multi ? 'x' : ''}${this.dirtyCas ? 'd' : ''}${this.closing ? 'c' : ''}${this.unix ? 'U' : ''}${this.noEvict ? 'e' : ''}` || 'N';
    const qbuf = this.reader.pendingBytes();
    const qbufAlloc = Math.max(qbuf, this.reader.heldBufferBytes());
    const argvMem = argvBytes(this.argv) + this.reader.partialArgvBytes();
    let multiMem = 0;
    if (this.multi) for (const q of this.multi) multiMem += argvBytes(q.argv);
    // Replies are built in the shared buffer: a client holds it only while it is being served.
    const rbs = this.borrowed || this.outLen > 0 ? this.out.length : 0;
    const unsent = this.unsentViewBytes();
    const omem = this.socket.writableLength + unsent;
    const oll = (this.socket.writableLength > 0 ? this.queuedWrites : 0) + this.views.length;
    return [
      `id=${this.id}`, `addr=${this.addr}`, `laddr=${this.laddr}`, `fd=${(this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1}`,
      `name=${this.name}`, `age=${Math.floor((now - this.createdAt) / 1000)}`,
      `idle=${Math.floor((now - this.lastInteraction) / 1000)}`, `flags=${flags}`, `db=${this.db.id}`,
      'sub=0', 'psub=0', 'ssub=0', `multi=${this.multi ? this.multi.length : -1}`,
      `qbuf=${qbuf}`, `qbuf-free=${qbufAlloc - qbuf}`, `argv-mem=${argvMem}`, `multi-mem=${multiMem}`,
      `rbs=${rbs}`, `rbp=${this.replyPeakNow()}`, `obl=${this.outLen}`, `oll=${oll}`,
      `omem=${omem}`, `tot-mem=${qbufAlloc + argvMem + multiMem + rbs + omem}`,
      `events=${omem > 0 ? 'rw' : 'r'}`, `cmd=${this.lastCommand}`, `user=${this.user.name}`, 'redir=-1', `resp=${this.resp}`,
      `lib-name=${this.libName}`, `lib-ver=${this.libVer}`,
    ].join(' ');
  }
}

function argvBytes(argv: Buffer[] | null): number {
  let n = 0;
  if (argv) for (const a of argv) n += a.length;
  return n;
}

