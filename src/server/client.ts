// One client connection: its socket, request reader, reply buffer, and the
// per-connection state commands use (selected db, protocol version, name,
// transaction). Replies produced while handling one read batch leave in one
// socket write.

import type { Socket } from 'node:net';
import { RequestReader, RequestSink } from '../protocol/request-reader.js';
import type { Db } from '../store/db.js';
import type { Server } from './server.js';
import { ReplyWriter, settleSharedReply, sharedReply, shrinkSharedReply } from './reply.js';
import { adoptSocket, READ_BUFFER } from './socket.js';
import type { CommandSpec } from '../commands/table.js';
import type { LargeBlock } from '../store/large.js';

export interface QueuedCommand {
  spec: CommandSpec;
  argv: Buffer[];
}

export interface WatchedKey {
  db: Db;
  key: Buffer;
  /** Whether the key was already logically expired when watched. */
  expired: boolean;
}

/** Work a client keeps filling its reads for before others are served (ms). */
const FAIR_SLICE_MS = 1;

/** CLIENT REPLY state bits. */
export const REPLY_OFF = 1;
export const REPLY_SKIP_NEXT = 2;
const REPLY_SKIP = 4;

export class Client extends ReplyWriter implements RequestSink {
  readonly id: number;
  readonly reader: RequestReader;
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
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
  /** CLIENT REPLY: 0 when replies flow normally (the hot path checks only this). */
  replyFlags = 0;
  /** Close once pending replies are written (QUIT, protocol error, CLIENT KILL). */
  closing = false;
  private closed = false;
  readonly addr: string;
  readonly laddr: string;

  readonly socket: Socket;

  /** `accepted` is a connection accepted paused; the client takes it over and starts reading. */
  constructor(
    readonly server: Server,
    accepted: Socket,
    id: number,
  ) {
    super();
    const socket = adoptSocket(accepted, (chunk, shared) => this.onData(chunk, shared));
    this.socket = socket;
    this.id = id;
    this.db = server.dbs[0];
    this.authenticated = server.config.str('requirepass') === '';
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = `${socket.localAddress}:${socket.localPort}`;
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
      this.releaseViews();
      this.trackMemory();
    });
  }

  get dbIndex(): number { return this.db.id; }

  private onData(chunk: Buffer, shared: boolean): void {
    // A read that filled the buffer means more is waiting (see the end).
    const full = shared && chunk.length === READ_BUFFER.length;
    if (full && this.busySince === 0) this.busySince = performance.now();
    // One clock read per read batch: every command of a pipeline sees the same "now".
    this.server.updateClock();
    // Replies are built in the shared buffer (see sharedReply); nothing of ours is in another.
    if (this.outLen === 0 && this.views.length === 0) {
      this.out = sharedReply.buf;
      this.borrowed = true;
    }
    this.lastInteraction = this.server.clock;
    this.server.stats.netInputBytes += chunk.length;
    this.reader.feed(chunk);
    // The shared read buffer is reused by the next read of any client.
    if (shared) this.reader.releaseInput(chunk.buffer);
    this.flush();
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

  /** When this client's current run of full reads began (0: not in one). */
  private busySince = 0;

  private yielding = false;

  private yieldTurn(): void {
    if (this.yielding) return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      if (!this.closed) this.socket.resume();
    });
  }

  // RequestSink
  onCommand(argv: Buffer[]): boolean {
    if (this.replyFlags === 0) this.server.dispatch(this, argv);
    else this.dispatchWithReplyFlags(argv);
    return !this.closing;
  }

  /**
   * CLIENT REPLY OFF/SKIP: the command runs, its output is dropped. The state
   * after the command decides, so CLIENT REPLY ON answers OK even when off.
   */
  private dispatchWithReplyFlags(argv: Buffer[]): void {
    const before = this.replyMark();
    if (this.replyFlags & REPLY_SKIP_NEXT) this.replyFlags = (this.replyFlags & ~REPLY_SKIP_NEXT) | REPLY_SKIP;
    this.server.dispatch(this, argv);
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

  authRequired(): boolean {
    return !this.authenticated;
  }

  protected override onError(msg: string): void {
    this.server.recordError(msg);
  }

  /** Writes pending replies in one write, then closes if asked to. */
  flush(): void {
    if (this.closed) return;
    if (this.outLen > 0 || this.views.length > 0) {
      if (this.views.length > 0) {
        this.writeWithViews();
      } else {
        this.server.stats.netOutputBytes += this.outLen;
        this.socket.write(this.out.subarray(0, this.outLen));
      }
      this.outLen = 0;
      // If the kernel took everything now, the buffer is free for the next
      // client; otherwise it belongs to the pending write.
      const pending = this.socket.writableLength > 0;
      // The shared buffer (grown, maybe) goes back, or is given up to the pending write.
      if (this.borrowed) {
        settleSharedReply(this.out, pending);
        // Over maxmemory, a buffer kept grown for the next big reply goes back at once.
        if (this.server.overBudget()) shrinkSharedReply();
      }
      this.borrowed = false;
      if (pending) {
        this.checkOutputLimit();
      } else {
        this.softLimitSince = 0;
        this.releaseViews();
      }
      this.trackMemory();
    }
    if (this.closing) {
      this.socket.end();
      this.close();
    }
  }

  /** One corked write of the reply bytes with the queued views of large values in their places. */
  private writeWithViews(): void {
    const s = this.socket;
    s.cork();
    let pos = 0;
    let bytes = this.outLen;
    for (let i = 0; i < this.views.length; i++) {
      const at = this.viewAt[i];
      if (at > pos) s.write(this.out.subarray(pos, at));
      s.write(this.views[i]);
      bytes += this.views[i].length;
      pos = at;
    }
    if (this.outLen > pos) s.write(this.out.subarray(pos, this.outLen));
    s.uncork();
    this.server.stats.netOutputBytes += bytes;
    for (const b of this.viewBlocks) this.sentBlocks.push(b);
    this.views.length = 0;
    this.viewAt.length = 0;
    this.viewBlocks.length = 0;
  }

  /** `out` is the shared reply buffer, taken for the read being handled. */
  private borrowed = false;

  /** Large blocks with views handed to the socket that may not have left yet. */
  private sentBlocks: LargeBlock[] = [];

  /** Called when the socket drained: the views are sent, their blocks may change again. */
  private releaseViews(): void {
    for (const b of this.sentBlocks) b.readers--;
    this.sentBlocks.length = 0;
  }

  /** Bytes of this client's buffers last added to the server's count. */
  private memCounted = 0;

  /** Keeps the server's count of client buffer memory (part of used_memory) up to date. */
  private trackMemory(): void {
    const mem = this.socket.writableLength + this.reader.pendingBytes();
    const server = this.server;
    server.clientsMemory += mem - this.memCounted;
    if (server.clientsMemory > server.clientsPeak) server.clientsPeak = server.clientsMemory;
    this.memCounted = mem;
  }

  /**
   * client-output-buffer-limit for normal clients: over the hard limit closes
   * at once; over the soft limit closes once it has lasted soft-seconds.
   */
  private checkOutputLimit(): void {
    const { hard, soft, softSeconds } = this.server.outputLimitNormal;
    const pending = this.socket.writableLength;
    let over = hard > 0 && pending > hard;
    if (!over && soft > 0 && pending > soft) {
      const now = Date.now();
      if (this.softLimitSince === 0) this.softLimitSince = now;
      over = now - this.softLimitSince >= softSeconds * 1000;
    } else if (!over) {
      this.softLimitSince = 0;
    }
    if (over) {
      this.server.log('warning', `Client id=${this.id} addr=${this.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      this.socket.destroy();
      this.close();
    }
  }

  /** When the output first went over the soft limit (0: it is under). */
  private softLimitSince = 0;

  /** Bytes queued in the socket and not yet sent. */
  get pendingOutput(): number {
    return this.socket.writableLength + this.outLen;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.releaseViews();
    this.replyRollback(0);
    this.server.clientsMemory -= this.memCounted;
    this.memCounted = 0;
    this.server.unwatchAll(this);
    this.server.removeClient(this);
    if (!this.socket.destroyed && !this.closing) this.socket.destroy();
  }

  get isClosed(): boolean { return this.closed; }

  /** The CLIENT LIST / CLIENT INFO line of this client. */
  describe(now = Date.now()): string {
    const flags = `${this.multi ? 'x' : ''}${this.noEvict ? 'e' : ''}` || 'N';
    return [
      `id=${this.id}`, `addr=${this.addr}`, `laddr=${this.laddr}`, `fd=${(this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1}`,
      `name=${this.name}`, `age=${Math.floor((now - this.createdAt) / 1000)}`,
      `idle=${Math.floor((now - this.lastInteraction) / 1000)}`, `flags=${flags}`, `db=${this.db.id}`,
      'sub=0', 'psub=0', 'ssub=0', `multi=${this.multi ? this.multi.length : -1}`,
      `qbuf=${this.reader.pendingBytes()}`, 'qbuf-free=0', 'argv-mem=0', 'multi-mem=0',
      `rbs=${this.outLen}`, 'rbp=0', `obl=${this.outLen}`, 'oll=0',
      `omem=${this.socket.writableLength}`, `tot-mem=${this.outLen + this.socket.writableLength}`,
      'events=r', `cmd=${this.lastCommand}`, 'user=default', 'redir=-1', `resp=${this.resp}`,
      `lib-name=${this.libName}`, `lib-ver=${this.libVer}`,
    ].join(' ');
  }
}
