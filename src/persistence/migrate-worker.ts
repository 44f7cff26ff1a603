// The thread that owns MIGRATE's sockets (see migrate-link.ts): it opens and
// caches connections to targets by "host:port" as Redis's
// migrate_cached_sockets does (64 at most, closed after 10 s unused), writes
// what the main thread hands it and reads the target's replies. Every
// operation ends within its timeout; the main thread is blocked meanwhile.

import net from 'node:net';
import { workerData } from 'node:worker_threads';
import { ReplyReader, type TargetReply } from '../protocol/reply-reader.js';
import {
  CACHE_ITEMS, CACHE_TTL_MS, DATA_BYTES, HEADER_BYTES, OP_CLOSE, OP_OPEN, OP_READ, OP_SETDB, OP_WRITE,
  ST_ERROR, ST_OK, ST_TIMEOUT, W_ARG, W_ARG2, W_CONN, W_LEN, W_OP, W_READY, W_REQ, W_RES, W_STATUS, W_TIMEOUT, W_TYPE,
} from './migrate-wire.js';

interface Conn {
  id: number;
  name: string;
  socket: net.Socket;
  reader: ReplyReader;
  /** The db the target has selected for us, -1 when unknown (Redis's last_dbid). */
  lastDb: number;
  lastUse: number;
  /** Closed, reset or failed: of no more use. */
  dead: boolean;
  /**
   * The target has closed its side: no more replies will come, but writes
   * still go out as they would from Redis's blocking socket (the target
   * answers them with a reset), so the error shows when reading.
   */
  ended: boolean;
  /** Called when data comes or the socket dies (a pending WRITE or READ). */
  wake: (() => void) | null;
}

const sab = (workerData as { sab: SharedArrayBuffer }).sab;
const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
const data = new Uint8Array(sab, HEADER_BYTES, DATA_BYTES);

const byName = new Map<string, Conn>();
const byId = new Map<number, Conn>();
let nextId = 1;

interface Outcome {
  status: number;
  conn?: number;
  arg?: number;
  reply?: TargetReply;
}

function drop(c: Conn): void {
  c.dead = true;
  c.socket.destroy();
  if (byName.get(c.name) === c) byName.delete(c.name);
  byId.delete(c.id);
  c.wake?.();
}

/** ST_OK when `ready()` holds (checked at once and at each wake), ST_ERROR once `failed()` does, ST_TIMEOUT after `ms`. */
function until(c: Conn, ms: number, ready: () => boolean, failed: () => boolean): Promise<number> {
  return new Promise((resolve) => {
    const finish = (status: number) => {
      clearTimeout(timer);
      c.wake = null;
      resolve(status);
    };
    const timer = setTimeout(() => finish(ST_TIMEOUT), ms);
    c.wake = () => {
      if (ready()) finish(ST_OK);
      else if (failed()) finish(ST_ERROR);
    };
    c.wake();
  });
}

/**
 * The port Redis ends up connecting to: atoi of the argument (leading blanks,
 * a sign, digits; strtol's saturation, then the cast to int), which
 * getaddrinfo takes modulo 65536; -1 when getaddrinfo refuses it (negative).
 */
function targetPort(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const long = BigInt(m[1]);
  const saturated = long > INT64_MAX ? INT64_MAX : long < -INT64_MAX - 1n ? -INT64_MAX - 1n : long;
  const n = Number(BigInt.asIntN(32, saturated));
  return n < 0 ? -1 : n & 0xffff;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Connects as Redis's blocking connect does: only a name that does not
 * resolve (or a port getaddrinfo refuses) fails it. A refused connection is
 * a connection that fails its first write; one still pending after `ms` is
 * waited for by the first write.
 */
function connect(name: string, host: string, port: number, ms: number): Promise<Conn | null> {
  // getaddrinfo finds nothing for an empty name (Node would take it as localhost).
  if (host === '' || port < 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    // Port 0 cannot be connected to: Node refuses it at once, the kernel with ECONNREFUSED.
    const socket = port === 0 ? new net.Socket() : net.connect({ host, port, allowHalfOpen: true });
    const c: Conn = { id: nextId++, name, socket, reader: new ReplyReader(), lastDb: -1, lastUse: Date.now(), dead: port === 0, ended: false, wake: null };
    if (c.dead) return resolve(c);
    const timer = setTimeout(() => resolve(c), ms);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      drop(c);
      resolve(e.syscall === 'getaddrinfo' ? null : c);
    });
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(c);
      c.wake?.();
    });
    socket.on('close', () => drop(c));
    socket.on('end', () => {
      c.ended = true;
      c.wake?.();
    });
    socket.on('data', (chunk: Buffer) => {
      c.reader.feed(chunk);
      c.wake?.();
    });
  });
}

async function open(nameBytes: Buffer, hostLen: number, ms: number): Promise<Outcome> {
  const name = nameBytes.toString('latin1');
  const cached = byName.get(name);
  // One the target has closed is replaced now (Redis would find out by failing, then retry).
  if (cached && !cached.dead && !cached.ended) {
    cached.lastUse = Date.now();
    return { status: ST_OK, conn: cached.id, arg: cached.lastDb };
  }
  if (cached) drop(cached);
  if (byName.size >= CACHE_ITEMS) {
    // Full: one goes, picked at random as Redis does.
    const all = [...byName.values()];
    drop(all[Math.floor(Math.random() * all.length)]);
  }
  const host = name.slice(0, hostLen);
  const c = await connect(name, host, targetPort(name.slice(hostLen + 1)), ms);
  if (c === null) return { status: ST_ERROR };
  byName.set(name, c);
  byId.set(c.id, c);
  return { status: ST_OK, conn: c.id, arg: -1 };
}

/** Writes the chunk once connected; done when Node's buffer is under its mark, or once drained (a full kernel buffer waits). */
async function write(c: Conn, chunk: Buffer, ms: number): Promise<Outcome> {
  if (c.dead) return { status: ST_ERROR };
  if (c.socket.connecting) {
    const st = await until(c, ms, () => !c.socket.connecting, () => c.dead);
    if (st !== ST_OK) return { status: st };
  }
  if (c.socket.write(chunk)) return { status: ST_OK };
  let drained = false;
  c.socket.once('drain', () => { drained = true; c.wake?.(); });
  return { status: await until(c, ms, () => drained, () => c.dead) };
}

async function read(c: Conn, ms: number): Promise<Outcome> {
  const got: { reply: TargetReply | null } = { reply: null };
  const status = await until(c, ms, () => (got.reply = c.reader.next()) !== null, () => c.dead || c.ended);
  return got.reply === null ? { status: status === ST_OK ? ST_ERROR : status } : { status: ST_OK, reply: got.reply };
}

async function serve(): Promise<Outcome> {
  const op = ctl[W_OP];
  const ms = ctl[W_TIMEOUT];
  const len = ctl[W_LEN];
  // Copied before any await: the main thread owns the region again once answered.
  const bytes = Buffer.from(data.subarray(0, len));
  if (op === OP_OPEN) return open(bytes, ctl[W_ARG2], ms);
  const c = byId.get(ctl[W_CONN]);
  if (c === undefined) return { status: ST_ERROR };
  if (op === OP_WRITE) return write(c, bytes, ms);
  if (op === OP_READ) return read(c, ms);
  if (op === OP_SETDB) c.lastDb = ctl[W_ARG];
  if (op === OP_CLOSE) drop(c);
  return { status: ST_OK };
}

function answer(seq: number, out: Outcome): void {
  ctl[W_STATUS] = out.status;
  ctl[W_CONN] = out.conn ?? 0;
  ctl[W_ARG] = out.arg ?? 0;
  ctl[W_LEN] = 0;
  if (out.reply) {
    const line = out.reply.line.subarray(0, DATA_BYTES);
    data.set(line);
    ctl[W_TYPE] = out.reply.type;
    ctl[W_LEN] = line.length;
  }
  Atomics.store(ctl, W_RES, seq);
  Atomics.notify(ctl, W_RES);
}

// Unused connections go after CACHE_TTL_MS, checked every second (Redis's cron). The
// timer also keeps this thread's loop alive between requests: a pending waitAsync does not.
setInterval(() => {
  const now = Date.now();
  for (const c of [...byName.values()]) if (now - c.lastUse > CACHE_TTL_MS) drop(c);
}, 1000);

/** Atomics.waitAsync: ES2024, in Node since 16, but not in the ES2022 library this build targets. */
type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

Atomics.store(ctl, W_READY, 1);
Atomics.notify(ctl, W_READY);
let seen = 0;
for (;;) {
  const w = waitAsync(ctl, W_REQ, seen);
  if (w.async) await w.value;
  seen = Atomics.load(ctl, W_REQ);
  let out: Outcome;
  try {
    out = await serve();
  } catch {
    out = { status: ST_ERROR };
  }
  answer(seen, out);
}
