// The server, as Redis's struct redisServer: it owns every subsystem as a
// named field (the configuration, the command table, the store and its
// expire cycle, the ACL, the slow log, the latency monitor, the statistics
// sampler, WATCH's registry, the shared buffers, the listeners and the
// clients) and runs the periodic cron (active expiry, rehashing, eviction
// under maxmemory, idle clients). Commands see it as a ServerContext.

import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/configuration.js';
import type { OutputLimit } from '../config/directives.js';
import { ActiveExpireCycle, Store, type StoreHooks } from '../store/store.js';
import type { Db } from '../store/db.js';
import { ValueType } from '../store/types.js';
import { trimTail } from '../tensor/trim.js';
import type { Acl, AclHost } from '../acl/access-control.js';
import { Persistence, type PersistenceHost, type ShutdownSave } from '../persistence/persistence.js';
import { MigrateLink } from '../persistence/migrate-link.js';
import type { Handler, MemoryReport, ServerContext, ServerStats } from '../commands/context.js';
import type { CommandTable } from '../commands/model/command-table.js';
import { freshStats } from '../commands/model/command-table.js';
import { WatchRegistry } from '../commands/watch-registry.js';
import { SlowLog } from '../monitor/slow-log.js';
import { LatencyMonitor } from '../monitor/latency-monitor.js';
import { StatsSampler } from '../monitor/stats-sampler.js';
import { fullGc } from '../util/gc.js';
import { Client, type ConnectionHost } from './client-connection.js';
import { buildInfo, selectSections, type InfoSource } from './info-report.js';
import { Listeners, type ListenerHost, type ListenerKind } from './listeners.js';
import type { Logger } from './logger.js';
import { refusedByProtectedMode } from './protected-mode.js';
import { SharedBuffers } from './shared-buffers.js';
import { ClusterState, type ClusterMode, type ClusterSettings } from '../cluster/cluster-state.js';
import { resolve } from 'node:path';

export class Server implements ServerContext, ConnectionHost, ListenerHost, InfoSource, StoreHooks, AclHost, PersistenceHost {
  readonly config: Config;
  readonly commands: CommandTable<Handler>;
  readonly logger: Logger;
  /** Every database's keys and values, in one keyspace with one memory budget. */
  readonly store: Store;
  readonly expireCycle: ActiveExpireCycle;
  /** RDB snapshots: the dump's place, saving, INFO persistence. */
  readonly persistence: Persistence;
  /** MIGRATE's connections to other servers, held by a worker thread the server waits on. */
  readonly migrateLink: MigrateLink;
  readonly acl: Acl;
  readonly slowLog: SlowLog;
  readonly latency: LatencyMonitor;
  /** Instantaneous rates and the memory peak (INFO). */
  readonly sampler: StatsSampler;
  readonly watches = new WatchRegistry();
  /** Cluster mode (slot map, node id, epoch, the slot check's answers); null when cluster-enabled is no. */
  readonly cluster: ClusterState | null;
  /** The read buffer and the reply buffer every client shares. */
  readonly buffers = new SharedBuffers();
  /** TCP, TLS and unix listening sockets; CONFIG SET port/bind/tls-port rebind them. */
  readonly listeners: Listeners;
  readonly clients = new Map<number, Client>();
  readonly stats: ServerStats = { totalCommands: 0, totalConnections: 0, rejectedConnections: 0, errorReplies: 0, netInputBytes: 0, netOutputBytes: 0 };
  /** Error replies by their code (the first word: ERR, WRONGTYPE...), for INFO errorstats. */
  readonly errorCodes = new Map<string, number>();
  readonly startTime = Date.now();
  readonly runId = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  /** The plain TCP port served (the listeners keep it). */
  port = 0;
  shuttingDown = false;
  outputLimitNormal: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };
  /** Calls that take at least this many µs go to SLOWLOG / LATENCY (see applySlowThreshold). */
  slowUs = Infinity;
  timeMark = performance.now();
  /** EXEC is running its queue (Redis's server.in_exec: BGSAVE then only schedules a save). */
  inExec = false;
  /** Bytes of client query and reply buffers, kept up to date by each client. */
  clientsMemory = 0;
  /**
   * The clients' recent peak (decaying by half every few seconds): the store
   * leaves that much of maxmemory for them, so buffers that come and go do not
   * make it evict and grow back again and again.
   */
  clientsPeak = 0;
  /** used_memory once listening (INFO's used_memory_startup). */
  private startupMemory = 0;
  /** maxmemory, kept here because the check runs on every write. */
  private maxmemory = 0;
  private nextClientId = 1;
  private cron: NodeJS.Timeout | null = null;
  /** Installed by main: SHUTDOWN and signals end the process through it (after the final save). */
  onShutdown: (reason: string) => void = () => {};

  constructor(config: Config, commands: CommandTable<Handler>, acl: Acl, logger: Logger) {
    this.config = config;
    this.commands = commands;
    this.acl = acl;
    this.logger = logger;
    this.store = new Store(config.int('slab-page-size'), config.num('slab-growth-factor'), config.int('databases'), this);
    this.expireCycle = new ActiveExpireCycle(this.store.dbs);
    this.persistence = new Persistence(this);
    this.migrateLink = new MigrateLink((level, msg) => this.log(level, msg));
    this.slowLog = new SlowLog(() => config.int('slowlog-max-len'));
    this.latency = new LatencyMonitor(() => config.int('latency-monitor-threshold'));
    this.sampler = new StatsSampler(
      () => ({ commands: this.stats.totalCommands, netIn: this.stats.netInputBytes, netOut: this.stats.netOutputBytes }),
      () => this.usedMemory(),
    );
    this.listeners = new Listeners(this, (s, kind) => this.accept(s, kind));
    this.cluster = this.openCluster();
    acl.attach(this);
    this.applySlowThreshold();
    this.applyOutputLimits();
    this.applyLfu();
    this.applyPolicy();
    this.setMaxmemory(config.int('maxmemory'));
    config.onChange((name) => {
      if (name === 'maxmemory') this.setMaxmemory(config.int('maxmemory'));
      if (name === 'maxmemory-policy' || name.startsWith('lfu-')) this.applyLfu();
      if (name === 'maxmemory-policy' || name === 'maxmemory-samples') this.applyPolicy();
      if (name === 'client-output-buffer-limit') this.applyOutputLimits();
      if (name === 'slowlog-log-slower-than' || name === 'latency-monitor-threshold') this.applySlowThreshold();
      if (name === 'hz') this.startCron();
      if (name === 'loglevel') logger.level = config.str('loglevel');
      if (name === 'dir') this.changeDir(config.str('dir'));
      if (name.startsWith('cluster-') || name === 'port' || name === 'tls-port') this.cluster?.configure(this.clusterSettings());
    });
  }

  /** Bound, so that it can be handed around (the listeners, the ACL take it). */
  readonly log = (level: string, msg: string): void => this.logger.log(level, msg);

  // ---------------------------------------------------------------------------
  // Settings that take effect at once

  private applyLfu(): void {
    const lfu = this.config.str('maxmemory-policy').endsWith('-lfu');
    this.store.setLfu(lfu ? { logFactor: this.config.int('lfu-log-factor'), decayMinutes: this.config.int('lfu-decay-time') } : null);
  }

  /**
   * CONFIG SET dir: the process moves there, as Redis chdirs, so the dump and
   * the ACL file follow; CONFIG GET shows the absolute path. A directory that
   * cannot be entered fails the CONFIG SET (the listener's error).
   */
  private changeDir(dir: string): void {
    try {
      process.chdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? 'No such file or directory' : code === 'ENOTDIR' ? 'Not a directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message);
    }
    this.config.setInternal('dir', process.cwd());
  }

  private applyPolicy(): void {
    this.store.setPolicy(this.config.str('maxmemory-policy'), this.config.int('maxmemory-samples'));
  }

  /** A new maxmemory takes effect at once: memory is given back (evicting if the policy allows) down to it. */
  private setMaxmemory(bytes: number): void {
    this.maxmemory = bytes;
    this.store.setMaxmemory(bytes);
    if (bytes > 0) this.freeMemory(Infinity);
  }

  private applyOutputLimits(): void {
    const parts = this.config.str('client-output-buffer-limit').split(' ');
    const i = parts.indexOf('normal');
    this.outputLimitNormal = { hard: Number(parts[i + 1]), soft: Number(parts[i + 2]), softSeconds: Number(parts[i + 3]) };
  }

  /** The duration (µs) from which a call takes the slow path: the lower of the slow log's and the latency monitor's thresholds. */
  private applySlowThreshold(): void {
    const slowlog = this.config.int('slowlog-log-slower-than');
    const latencyMs = this.config.int('latency-monitor-threshold');
    this.slowUs = Math.min(slowlog < 0 ? Infinity : slowlog, latencyMs > 0 ? latencyMs * 1000 : Infinity);
  }

  // ---------------------------------------------------------------------------
  // Cluster mode

  /** The cluster state of cluster-enabled yes/emulated, from cluster-config-file (relative to dir, the working directory now). */
  private openCluster(): ClusterState | null {
    const mode = this.config.str('cluster-enabled');
    if (mode === 'no') return null;
    return ClusterState.open(mode as ClusterMode, resolve(this.config.str('cluster-config-file')), this.clusterSettings());
  }

  private clusterSettings(): ClusterSettings {
    const c = this.config;
    return {
      announceIp: c.str('cluster-announce-ip'),
      port: c.int('cluster-announce-port') || this.port || c.int('port'),
      tlsPort: c.int('cluster-announce-tls-port') || c.int('tls-port'),
      requireFullCoverage: c.bool('cluster-require-full-coverage'),
    };
  }

  // ---------------------------------------------------------------------------
  // The clock

  /** The store's clock: read once per read batch and by the cron, so a pipeline agrees on "now". */
  get clock(): number { return this.store.clock; }

  /** Clients whose replies wait for the end of the loop's reads (shared-buffers.ts says why). */
  private readonly flushQueue: Client[] = [];
  private flushScheduled = false;
  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flushQueued();
  };

  queueFlush(c: Client): void {
    this.flushQueue.push(c);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The check phase runs once the poll phase has handled every socket that was ready.
    setImmediate(this.flushLater);
  }

  flushQueued(): void {
    const q = this.flushQueue;
    for (let i = 0; i < q.length; i++) q[i].flush();
    q.length = 0;
    this.buffers.resetReply();
  }

  updateClock(): void {
    this.store.clock = Date.now();
    this.timeMark = performance.now();
  }

  // ---------------------------------------------------------------------------
  // StoreHooks

  outsideBytes(): number {
    return this.buffers.replyBytes + Math.max(this.clientsMemory, this.clientsPeak) + this.persistence.snapshotBytes;
  }

  keyModified(db: Db, key: Buffer): void {
    if (db.watchers > 0) this.watches.touch(db, key);
    // A slot migration counts as a watcher of its db: it hears of every change.
    this.cluster?.keyChanged(db, key);
  }

  dbModified(db: Db, replacedWith?: Db): void {
    if (db.watchers > 0) this.watches.touchDb(db, replacedWith);
    this.cluster?.dbChanged(db);
    if (replacedWith !== undefined) this.cluster?.dbChanged(replacedWith);
  }

  /** An entry is evicted: a WATCH on its key fails. */
  evicting(db: Db, h: number): void {
    if (db.watchers > 0) this.watches.touch(db, Buffer.from(db.key(h)));
  }

  /** kv-tail-trim: a tensor picked for eviction gives back the tail of its sequence instead, while it can. */
  trim(db: Db, h: number): boolean {
    return this.config.bool('kv-tail-trim') && db.type(h) === ValueType.KvTensor && trimTail(db, h);
  }

  // ---------------------------------------------------------------------------
  // AclHost

  sessions(): Iterable<Client> {
    return this.clients.values();
  }

  // ---------------------------------------------------------------------------
  // ServerContext

  info(sections: string[]): string {
    return buildInfo(this, selectSections(sections));
  }

  configSet(pairs: [string, string][], allowProtected: boolean): string | null {
    return this.listeners.configSet(pairs, allowProtected);
  }

  shutdown(reason: string, save: ShutdownSave, force: boolean): boolean {
    this.log('warning', 'User requested shutdown...');
    if (!this.persistence.saveForShutdown(save) && !force) return false;
    this.onShutdown(reason);
    return true;
  }

  /** An error reply was sent: counted by its code (the first word), for INFO errorstats. */
  recordError(msg: string): void {
    this.stats.errorReplies++;
    const sp = msg.indexOf(' ');
    const code = sp < 0 ? msg : msg.slice(0, sp);
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
  }

  /** CONFIG RESETSTAT: counters in place (everything that holds them keeps reading the same objects). */
  resetStats(): void {
    const st = this.stats;
    st.totalCommands = st.totalConnections = st.rejectedConnections = st.errorReplies = st.netInputBytes = st.netOutputBytes = 0;
    const ks = this.store.stats;
    ks.keyspaceHits = ks.keyspaceMisses = ks.expiredKeys = ks.evictedKeys = 0;
    this.errorCodes.clear();
    for (const cmd of this.commands.everyCommand()) cmd.stats = freshStats();
    this.sampler.reset();
  }

  // ---------------------------------------------------------------------------
  // Memory

  /**
   * Memory counted against maxmemory (INFO's used_memory): everything the
   * store holds (pages, indexes, large values) plus the clients' buffers and
   * what a background save holds of old values.
   */
  usedMemory(): number {
    return this.store.usedBytes + this.clientsMemory + this.buffers.replyBytes + this.persistence.snapshotBytes;
  }

  /** The one report of where memory goes (INFO memory, MEMORY STATS, /metrics, /stats.json). */
  memoryReport(): MemoryReport {
    const used = this.sampler.trackPeak();
    const mem = process.memoryUsage();
    return {
      used,
      peak: this.sampler.peakMemory,
      startup: this.startupMemory,
      rss: mem.rss,
      jsHeap: mem.heapUsed,
      store: this.store.memory(),
      clientBuffers: this.clientsMemory,
      replyBuffer: this.buffers.replyBytes,
    };
  }

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
    const store = this.store;
    const start = performance.now();
    let n = 0;
    while (this.usedMemory() > this.maxmemory) {
      // Reply memory first, as Redis frees what it has sent: keys go only after.
      if (this.buffers.dropSpare() > 0) continue;
      if (!store.releaseIdle() && !store.evictOne()) return 'stuck';
      if ((++n & 15) === 0 && performance.now() - start > ms) return 'timeout';
    }
    return 'done';
  }

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
    this.uncollected += this.store.takeDroppedBytes();
    const commands = this.stats.totalCommands;
    if (commands !== this.lastCommands) {
      this.lastCommands = commands;
      this.quietSince = this.clock;
      return;
    }
    if (this.uncollected >= IDLE_GC_BYTES && this.clock - this.quietSince >= IDLE_GC_MS && fullGc()) this.uncollected = 0;
  }

  // ---------------------------------------------------------------------------
  // Listening and clients

  /** Opens every listener the configuration asks for (see Listeners.start). */
  async listen(): Promise<void> {
    this.fitMaxclientsToFileLimit();
    await this.listeners.start();
    // `port 0` is known only now.
    this.cluster?.configure(this.clusterSettings());
    this.startupMemory = this.usedMemory();
    this.sampler.start();
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
    if (refusedByProtectedMode(socket, kind, this.config, this.acl, this.stats)) return;
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

  // ---------------------------------------------------------------------------
  // The cron

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
    this.buffers.dropSpare(SHARED_REPLY_IDLE_MS);
    this.collectWhenIdle();
    // Incremental rehashing: a millisecond per table that is resizing (Redis's databasesCron). Not while the
    // dump loads (nor does Redis's whileBlockedCron): a table sized for the dump's keys would shrink while it fills.
    if (!this.persistence.isLoading) this.store.maintain(1);
    // Save rules that are due, or a scheduled BGSAVE, start a background save.
    this.persistence.cron();
    if (this.maxmemory > 0 && this.usedMemory() > this.maxmemory) this.freeMemory(periodMs / 4);
    // Redis gives the slow cycle 25% of the period, more with active-expire-effort.
    const effort = this.config.int('active-expire-effort') - 1;
    const budget = (periodMs * (25 + 2 * effort)) / 100;
    this.expireCycle.run(() => { this.updateClock(); return this.clock; }, budget);
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
  async stop(graceMs = 2000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.cron) clearInterval(this.cron);
    this.sampler.stop();
    this.migrateLink.stop();
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
