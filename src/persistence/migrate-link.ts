// MIGRATE's blocking link to other servers. Redis talks to the target with
// blocking socket calls, and so blocks the whole server meanwhile: that is
// what makes MIGRATE atomic (no command runs between the target's RESTORE
// and the source's DEL). Node has no blocking sockets, so a worker thread
// (migrate-worker.ts) owns them and this side waits for it in Atomics.wait:
// the event loop stops exactly as Redis's does. Requests and replies go
// through shared memory (migrate-wire.ts); a write bigger than its data
// region goes in pieces. The Server owns one link; the worker starts on the
// first MIGRATE, does not keep the process alive, and ends with the server.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  DATA_BYTES, HEADER_BYTES, OP_CLOSE, OP_OPEN, OP_READ, OP_SETDB, OP_WRITE, ST_ERROR, ST_OK, ST_TIMEOUT,
  W_ARG, W_ARG2, W_CONN, W_LEN, W_OP, W_READY, W_REQ, W_RES, W_STATUS, W_TIMEOUT, W_TYPE,
} from './migrate-wire.js';

/** A connection to a target, from the cache or new. */
export interface LinkConn {
  readonly id: number;
  /** The db last selected on it, -1 for a new connection (Redis's last_dbid). */
  readonly lastDb: number;
}

export type LinkStatus = 'ok' | 'timeout' | 'error';

export type LinkReply = { status: 'ok'; type: number; line: Buffer } | { status: 'timeout' | 'error' };

/** How long the worker has to start. */
const READY_MS = 10_000;
/** Past an operation's own timeout (which the worker keeps), how long before the worker counts as stuck. */
const STUCK_MS = 2000;
/** Timeouts fit the worker's timers (and its Int32 word). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class MigrateLink {
  private worker: Worker | null = null;
  private ctl = new Int32Array(new SharedArrayBuffer(HEADER_BYTES));
  private data = new Uint8Array(new SharedArrayBuffer(0));
  private seq = 0;

  constructor(private readonly log: (level: string, msg: string) => void) {}

  /** A connection to host:port (cached by those words, as Redis names them); null when none within `ms`. */
  open(host: Buffer, port: Buffer, ms: number): LinkConn | null {
    const name = Buffer.concat([host, Buffer.from(':'), port]);
    if (name.length > DATA_BYTES || !this.start()) return null;
    this.data.set(name);
    this.ctl[W_ARG2] = host.length;
    if (this.call(OP_OPEN, 0, ms, name.length) !== ST_OK) return null;
    return { id: this.ctl[W_CONN], lastDb: this.ctl[W_ARG] };
  }

  /** Writes the parts in order, each piece within `ms`. */
  write(conn: LinkConn, parts: Buffer[], ms: number): LinkStatus {
    let fill = 0;
    for (const part of parts) {
      for (let at = 0; at < part.length;) {
        const n = Math.min(part.length - at, DATA_BYTES - fill);
        this.data.set(part.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === DATA_BYTES) {
          const st = this.call(OP_WRITE, conn.id, ms, fill);
          if (st !== ST_OK) return statusName(st);
          fill = 0;
        }
      }
    }
    return fill === 0 ? 'ok' : statusName(this.call(OP_WRITE, conn.id, ms, fill));
  }

  /** The target's next reply: its type byte and first line. */
  read(conn: LinkConn, ms: number): LinkReply {
    const st = this.call(OP_READ, conn.id, ms, 0);
    if (st !== ST_OK) return { status: statusName(st) as 'timeout' | 'error' };
    return { status: 'ok', type: this.ctl[W_TYPE], line: Buffer.from(this.data.subarray(0, this.ctl[W_LEN])) };
  }

  /** Remembers the db the target has selected (after a MIGRATE it acknowledged; -1 to forget). */
  setDb(conn: LinkConn, db: number): void {
    this.ctl[W_ARG] = db;
    this.call(OP_SETDB, conn.id, 1000, 0);
  }

  /** Closes and forgets the connection (after an error on it). */
  close(conn: LinkConn): void {
    this.call(OP_CLOSE, conn.id, 1000, 0);
  }

  /** Ends the worker and every connection (the server stops). */
  stop(): void {
    void this.worker?.terminate();
    this.worker = null;
  }

  /** The worker, started on first use with a shared memory of its own. */
  private start(): boolean {
    if (this.worker) return true;
    // Only the build has the worker's .js (an in-process test runs the .ts sources).
    const file = new URL('./migrate-worker.js', import.meta.url);
    if (!existsSync(file)) return false;
    const sab = new SharedArrayBuffer(HEADER_BYTES + DATA_BYTES);
    this.ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, HEADER_BYTES, DATA_BYTES);
    this.seq = 0;
    const w = new Worker(file, { workerData: { sab } });
    w.unref();
    w.on('error', (e) => this.log('warning', `MIGRATE worker failed: ${e.message}`));
    w.on('exit', () => { if (this.worker === w) this.worker = null; });
    this.worker = w;
    if (Atomics.wait(this.ctl, W_READY, 0, READY_MS) === 'timed-out') {
      this.log('warning', 'MIGRATE worker did not start');
      this.stop();
      return false;
    }
    return true;
  }

  /**
   * One request, the main thread blocked until the answer: the status. A
   * worker that does not answer in time is ended (with its connections, which
   * may be mid-request): the next call starts a fresh one.
   */
  private call(op: number, conn: number, ms: number, len: number): number {
    if (!this.worker) return ST_ERROR;
    const timeout = Math.min(Math.max(1, ms), MAX_TIMEOUT_MS);
    const ctl = this.ctl;
    ctl[W_OP] = op;
    ctl[W_CONN] = conn;
    ctl[W_TIMEOUT] = timeout;
    ctl[W_LEN] = len;
    const seq = ++this.seq;
    Atomics.store(ctl, W_REQ, seq);
    Atomics.notify(ctl, W_REQ);
    const deadline = performance.now() + timeout + STUCK_MS;
    for (;;) {
      const res = Atomics.load(ctl, W_RES);
      if (res === seq) return ctl[W_STATUS];
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(ctl, W_RES, res, left);
    }
    this.log('warning', 'MIGRATE worker stopped answering: restarting it');
    this.stop();
    return ST_TIMEOUT;
  }
}

function statusName(st: number): LinkStatus {
  return st === ST_OK ? 'ok' : st === ST_TIMEOUT ? 'timeout' : 'error';
}
