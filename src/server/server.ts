// The server: its listeners (listeners.ts), the client registry, databases, statistics, and
// the periodic cron (active expiry, idle client timeout).

import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Config } from '../config/config.js';
import { Db, DbHooks, KeyspaceStats } from '../store/db.js';
import { activeExpireCycle } from '../store/expire.js';
import type { LfuParams } from '../store/lfu.js';
import { Keyspace } from '../store/keyspace.js';
import { SlabKeyTable } from '../store/slab-table.js';
import { ValueType } from '../store/keytable.js';
import { trimTail } from '../tensor/trim.js';
import { createPolicy } from '../store/eviction/policy.js';
import { fullGc } from '../util/gc.js';
import { sharedReply, shrinkSharedReply } from './reply.js';
import { Client } from './client.js';
import { CommandTable } from '../commands/table.js';
import { processCommand } from '../commands/dispatch.js';
import { buildCommandTable } from '../commands/index.js';
import { watchSlowCommands } from '../commands/slowlog.js';
import { WatchRegistry } from './watch.js';
import { Logger } from './log.js';
import { Listeners, refusedByProtectedMode, type ListenerKind } from './listeners.js';
import type { OutputLimit } from '../config/directives.js';

export interface Stats extends KeyspaceStats {
  totalCommands: number;
  totalConnections: number;
  rejectedConnections: number;
  evictedKeys: number;
  errorReplies: number;
  netInputBytes: number;
  netOutputBytes: number;
}

export class Server implements DbHooks {
  readonly config: Config;
  /** Every database's keys and values, in one arena with one memory budget. */
  readonly keyspace: Keyspace;
  readonly dbs: Db[] = [];
  readonly commands: CommandTable;
  readonly clients = new Map<number, Client>();
  readonly watches = new WatchRegistry();
  readonly log: Logger['log'];
  readonly logger: Logger;
  readonly startTime = Date.now();
  readonly runId = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  stats: Stats = Server.freshStats();
  /** TCP, TLS and unix listening sockets; CONFIG SET port/bind/tls-port rebind them. */
  readonly listeners: Listeners;
  private nextClientId = 1;
  private cron: NodeJS.Timeout | null = null;
  outputLimitNormal: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };
  /** Set by DEBUG SET-ACTIVE-EXPIRE; lets tests observe lazy expiry alone. */
  activeExpireEnabled = true;
  port = 0;
  shuttingDown = false;
  lfu: LfuParams | null = null;
  /** Installed by main: SHUTDOWN and signals end the process through it. */
  onShutdown: (reason: string) => void = () => {};

  constructor(config: Config, logger: Logger) {
    this.config = config;
    this.logger = logger;
    this.log = logger.log.bind(logger);
    this.listeners = new Listeners(this, (s, kind) => this.accept(s, kind));
    this.keyspace = new Keyspace(config.int('slab-page-size'), config.num('slab-growth-factor'), {
      // The store grows only into room the clients' buffers have not needed lately.
      mayGrow: (bytes) => this.maxmemory === 0
        || this.keyspace.usedBytes + sharedReply.buf.length + Math.max(this.clientsMemory, this.clientsPeak) + bytes <= this.maxmemory,
      evicting: (table, ref) => this.evicting(table, ref),
      trim: (table, ref) => this.trimming(table, ref),
      now: () => this.clock,
    });
    const n = config.int('databases');
    for (let i = 0; i < n; i++) {
      const t = new SlabKeyTable(this.keyspace, i);
      this.keyspace.tables.push(t);
      this.dbs.push(new Db(i, this, t));
    }
    this.commands = buildCommandTable();
    watchSlowCommands(this);
    this.applyOutputLimits();
    this.applyLfu();
    this.applyPolicy();
    this.setMaxmemory(config.int('maxmemory'));
    config.onChange((name) => {
      if (name === 'maxmemory') this.setMaxmemory(config.int('maxmemory'));
      if (name === 'maxmemory-policy' || name.startsWith('lfu-')) this.applyLfu();
      if (name === 'maxmemory-policy' || name === 'maxmemory-samples') this.applyPolicy();
      if (name === 'client-output-buffer-limit') this.applyOutputLimits();
      if (name === 'hz') this.startCron();
      if (name === 'loglevel') logger.level = config.str('loglevel');
    });
  }

  static freshStats(): Stats {
    return {
      keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0, totalCommands: 0, totalConnections: 0,
      rejectedConnections: 0, evictedKeys: 0, errorReplies: 0, netInputBytes: 0, netOutputBytes: 0,
    };
  }

  private applyLfu(): void {
    const lfu = this.config.str('maxmemory-policy').endsWith('-lfu');
    this.lfu = lfu ? { logFactor: this.config.int('lfu-log-factor'), decayMinutes: this.config.int('lfu-decay-time') } : null;
    this.keyspace.lfu = this.lfu;
  }

  private applyPolicy(): void {
    this.keyspace.setPolicy(createPolicy(this.config.str('maxmemory-policy'), this.keyspace, { samples: this.config.int('maxmemory-samples') }));
  }

  /** A new maxmemory takes effect at once: memory is given back (evicting if the policy allows) down to it. */
  private setMaxmemory(bytes: number): void {
    this.maxmemory = bytes;
    // With a budget, idle pages are kept for reuse; without one they go back to the system.
    this.keyspace.slabs.holdEmptyPages = bytes > 0;
    if (bytes > 0) this.freeMemory(Infinity);
  }

  private applyOutputLimits(): void {
    const parts = this.config.str('client-output-buffer-limit').split(' ');
    const i = parts.indexOf('normal');
    this.outputLimitNormal = { hard: Number(parts[i + 1]), soft: Number(parts[i + 2]), softSeconds: Number(parts[i + 3]) };
  }

  // DbHooks
  pin(h: number): void { this.keyspace.pin(h); }
  /**
   * The clock commands see: read once per read batch and by the cron (Redis
   * too caches its mstime), so every lookup of a command, of a whole EXEC or
   * of a pipeline, agrees on "now".
   */
  now(): number { return this.clock; }
  clock = Date.now();
  updateClock(): void {
    this.clock = Date.now();
    this.timeMark = performance.now();
  }
  /**
   * performance.now() when the read batch began or the last command ended:
   * dispatch times fast commands from it with one clock read (see call()).
   */
  timeMark = performance.now();
  /** Calls that take at least this many µs go to SLOWLOG / LATENCY (commands/slowlog.ts). */
  slowUs = Infinity;
  keyModified(db: Db, key: Buffer): void {
    if (db.watchers > 0) this.watches.touch(db, key);
  }
  dbModified(db: Db, replacedWith?: Db): void {
    if (db.watchers > 0) this.watches.touchDb(db, replacedWith);
  }

  unwatchAll(c: Client): void { this.watches.unwatchAll(c); }

  /** Error replies by their code (the first word: ERR, WRONGTYPE...), for INFO errorstats. */
  readonly errorCodes = new Map<string, number>();

  recordError(msg: string): void {
    this.stats.errorReplies++;
    const sp = msg.indexOf(' ');
    const code = sp < 0 ? msg : msg.slice(0, sp);
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
  }

  /** CONFIG RESETSTAT. */
  resetStats(): void {
    this.stats = Server.freshStats();
    this.errorCodes.clear();
    for (const spec of this.commands.all) {
      for (const s of [spec, ...(spec.subcommands ?? [])]) s.stats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
    }
  }

  dispatch(c: Client, argv: Buffer[]): void {
    processCommand(this.commands, c, argv);
  }

  /** An item is evicted: counted, and a WATCH on its key fails. */
  /** kv-tail-trim: a tensor picked for eviction gives back the tail of its sequence instead, while it can. */
  private trimming(table: SlabKeyTable, ref: number): boolean {
    if (!this.config.bool('kv-tail-trim') || table.type(ref) !== ValueType.KvTensor) return false;
    return trimTail(table.owner as Db, ref);
  }

  private evicting(table: SlabKeyTable, ref: number): void {
    this.stats.evictedKeys++;
    const db = table.owner as Db;
    if (db.watchers > 0) this.watches.touch(db, Buffer.from(table.key(ref)));
  }

  /**
   * Memory counted against maxmemory (INFO's used_memory): everything the
   * store holds (pages, indexes, large values) plus the clients' buffers.
   */
  usedMemory(): number {
    return this.keyspace.usedBytes + this.clientsMemory + sharedReply.buf.length;
  }

  /** Bytes of client query and reply buffers, kept up to date by each client. */
  clientsMemory = 0;
  /**
   * The clients' recent peak (decaying by half every few seconds): the store
   * leaves that much of maxmemory for them, so buffers that come and go do not
   * make it evict and grow back again and again.
   */
  clientsPeak = 0;

  /** Whether used_memory is over maxmemory now. */
  overBudget(): boolean {
    return this.maxmemory > 0 && this.usedMemory() > this.maxmemory;
  }

  /**
   * Before a command that may grow memory (Redis's performEvictions): when
   * over maxmemory, gives memory back as the policy allows, for at most the
   * time maxmemory-eviction-tenacity grants (the cron goes on from there).
   * False when the command must be refused with OOM.
   */
  makeRoom(): boolean {
    const max = this.maxmemory;
    if (max === 0 || this.usedMemory() <= max) return true;
    const done = this.freeMemory(evictionTimeLimitUs(this.config.int('maxmemory-eviction-tenacity')) / 1000);
    // Out of time but still freeing: let the command run, as Redis does (EVICT_RUNNING).
    return done !== 'stuck';
  }

  /**
   * Frees memory until used_memory is within maxmemory or `ms` have passed:
   * idle pages first, then evictions. 'done', 'timeout', or 'stuck' when
   * nothing more can be freed (noeviction, nothing volatile...).
   */
  freeMemory(ms: number): 'done' | 'timeout' | 'stuck' {
    const ks = this.keyspace;
    const start = performance.now();
    let n = 0;
    while (this.usedMemory() > this.maxmemory) {
      // Reply memory first, as Redis frees what it has sent: keys go only after.
      if (shrinkSharedReply() > 0) continue;
      if (!ks.releaseIdle() && !ks.evictOne()) return 'stuck';
      if ((++n & 15) === 0 && performance.now() - start > ms) return 'timeout';
    }
    return 'done';
  }

  /** maxmemory, kept here because the check runs on every write. */
  maxmemory = 0;

  /** Memory the store let go of that the runtime has not collected yet. */
  private uncollected = 0;
  private lastCommands = 0;
  private quietSince = 0;

  /**
   * Once the store has let go of a megabyte or more (index arrays after a
   * rehash, pages, large blocks) and no command has come for half a second,
   * runs a full collection so that memory goes back to the system now: V8
   * would keep it until its heap, which stays small here, asks for a
   * collection. On this heap it takes a few milliseconds, while nobody waits.
   */
  private collectWhenIdle(): void {
    this.uncollected += this.keyspace.takeDroppedBytes();
    const commands = this.stats.totalCommands;
    if (commands !== this.lastCommands) {
      this.lastCommands = commands;
      this.quietSince = this.clock;
      return;
    }
    if (this.uncollected >= IDLE_GC_BYTES && this.clock - this.quietSince >= IDLE_GC_MS && fullGc()) this.uncollected = 0;
  }

  /** FLUSHALL: WATCH sees every database change, then the whole arena is dropped at once. */
  flushAll(): void {
    for (const db of this.dbs) this.dbModified(db);
    this.keyspace.reset();
    for (const t of this.keyspace.tables) t.forgetAll();
    this.applyPolicy();
  }

  /** Opens every listener the configuration asks for (see Listeners.start). */
  async listen(): Promise<void> {
    this.fitMaxclientsToFileLimit();
    await this.listeners.start();
    this.startCron();
  }

  /**
   * Each client is a file descriptor, and Redis keeps 32 for itself
   * (adjustOpenFilesLimit). Node cannot raise the limit, so maxclients is
   * lowered to fit, with Redis's warnings: past it clients get the
   * max-clients error rather than a reset from a failed accept.
   */
  private fitMaxclientsToFileLimit(): void {
    const limit = openFileLimit();
    const max = this.config.int('maxclients');
    if (limit === null || max + RESERVED_FDS <= limit) return;
    const fit = Math.max(1, limit - RESERVED_FDS);
    this.log('warning', `You requested maxclients of ${max} requiring at least ${max + RESERVED_FDS} max file descriptors.`);
    this.log('warning', `Current maximum open files is ${limit}. maxclients has been reduced to ${fit} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`);
    this.config.setInternal('maxclients', fit);
  }

  private accept(socket: net.Socket, kind: ListenerKind): void {
    // A peer may reset before it is served: an unhandled 'error' would end the process.
    socket.on('error', () => socket.destroy());
    if (this.clients.size >= this.config.int('maxclients')) {
      this.stats.rejectedConnections++;
      // Closed once written, whether or not the peer closes its side.
      socket.write('-ERR max number of clients reached\r\n');
      socket.destroySoon();
      return;
    }
    if (refusedByProtectedMode(this, socket, kind)) return;
    const keepalive = this.config.int('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    // A unix-socket client has no address: Redis names it by the socket's path, port 0.
    const unixPath = kind === 'unix' ? `${this.config.str('unixsocket')}:0` : null;
    const c = new Client(this, socket, this.nextClientId++, unixPath);
    this.clients.set(c.id, c);
    this.stats.totalConnections++;
  }

  removeClient(c: Client): void {
    this.clients.delete(c.id);
  }

  private startCron(): void {
    if (this.cron) clearInterval(this.cron);
    const hz = Math.min(500, Math.max(1, this.config.int('hz')));
    const period = 1000 / hz;
    this.cron = setInterval(() => this.serverCron(period), period);
    this.cron.unref();
  }

  private serverCron(periodMs: number): void {
    this.updateClock();
    this.clientsPeak = Math.max(this.clientsMemory, this.clientsPeak * (1 - periodMs / 5000));
    shrinkSharedReply(SHARED_REPLY_IDLE_MS);
    this.collectWhenIdle();
    // Incremental rehashing: a millisecond per table that is resizing (Redis's databasesCron).
    for (const db of this.dbs) db.maintain(1);
    if (this.maxmemory > 0 && this.usedMemory() > this.maxmemory) this.freeMemory(periodMs / 4);
    if (this.activeExpireEnabled) {
      // Redis gives the slow cycle 25% of the period, more with active-expire-effort.
      const effort = this.config.int('active-expire-effort') - 1;
      const budget = (periodMs * (25 + 2 * effort)) / 100;
      activeExpireCycle(this.dbs, () => { this.updateClock(); return this.clock; }, budget);
    }
    // One pass over the clients: idle ones give back their payload buffer, or, past `timeout`, are closed.
    const timeout = this.config.int('timeout');
    const now = Date.now();
    const limit = now - timeout * 1000;
    for (const c of this.clients.values()) {
      // Inside MULTI too, as Redis does.
      if (timeout > 0 && c.lastActive(now) < limit) {
        this.log('verbose', `Closing idle client id=${c.id}`);
        c.close();
      } else {
        c.releaseIdleBuffers(now);
      }
    }
  }

  /**
   * Stops accepting, sends every client its pending replies and closes it.
   * Resolves once all sockets are closed, or after `graceMs` (peers that do
   * not close their side are then cut off).
   */
  async shutdown(graceMs = 2000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.cron) clearInterval(this.cron);
    // A listener reports closed only once its connections are gone: don't wait on it first.
    this.listeners.close();
    const clients = [...this.clients.values()];
    const closed = clients.map((c) => {
      const done = new Promise<void>((r) => {
        if (c.socket.destroyed) r();
        else c.socket.once('close', () => r());
      });
      // Replies to what was already read go out; nothing more is read.
      c.closing = true;
      c.flush();
      return done;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
    await Promise.race([Promise.all(closed), timeout]);
    clearTimeout(timer);
    for (const c of clients) c.socket.destroy();
  }
}

/** Descriptors kept for the server's own files and sockets (Redis's CONFIG_MIN_RESERVED_FDS). */
const RESERVED_FDS = 32;

/** The soft limit on open files of this process; null when unknown or unlimited. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A shared reply buffer grown for big replies goes back to its first size after this long without one. */
const SHARED_REPLY_IDLE_MS = 1000;

/** Memory let go of, and quiet time, before a collection on an idle server. */
const IDLE_GC_BYTES = 1024 * 1024;
const IDLE_GC_MS = 500;

/** The time one eviction pass may take, by maxmemory-eviction-tenacity (Redis's evictionTimeLimitUs). */
function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return 500 * 1.15 ** (tenacity - 10);
  return Infinity;
}
