// The server: TCP listeners, the client registry, databases, statistics, and
// the periodic cron (active expiry, idle client timeout).

import net from 'node:net';
import { Config } from '../config/config.js';
import { Db, DbHooks, KeyspaceStats } from '../store/db.js';
import { activeExpireCycle } from '../store/expire.js';
import type { LfuParams } from '../store/lfu.js';
import { Client } from './client.js';
import { CommandTable } from '../commands/table.js';
import { processCommand } from '../commands/dispatch.js';
import { buildCommandTable } from '../commands/index.js';
import { WatchRegistry } from './watch.js';
import { Logger } from './log.js';
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
  readonly dbs: Db[] = [];
  readonly commands: CommandTable;
  readonly clients = new Map<number, Client>();
  readonly watches = new WatchRegistry();
  readonly log: Logger['log'];
  readonly logger: Logger;
  readonly startTime = Date.now();
  readonly runId = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  stats: Stats = Server.freshStats();
  private listeners: net.Server[] = [];
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
    const n = config.int('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Db(i, this));
    this.commands = buildCommandTable();
    this.applyOutputLimits();
    this.applyLfu();
    this.maxmemory = config.int('maxmemory');
    config.onChange((name) => {
      if (name === 'maxmemory') this.maxmemory = config.int('maxmemory');
      if (name === 'maxmemory-policy' || name.startsWith('lfu-')) this.applyLfu();
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
  }

  private applyOutputLimits(): void {
    const parts = this.config.str('client-output-buffer-limit').split(' ');
    const i = parts.indexOf('normal');
    this.outputLimitNormal = { hard: Number(parts[i + 1]), soft: Number(parts[i + 2]), softSeconds: Number(parts[i + 3]) };
  }

  // DbHooks
  /**
   * The clock commands see: read once per command (as Redis caches mstime),
   * so every lookup of a command, or of a whole EXEC, agrees on "now".
   */
  now(): number { return this.clock; }
  clock = Date.now();
  updateClock(): void { this.clock = Date.now(); }
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

  /** Memory used by the keyspace, as INFO's used_memory reports it. */
  usedMemory(): number {
    let n = 0;
    for (const db of this.dbs) n += db.usedBytes;
    return n;
  }

  /** Whether denyoom commands must be refused (maxmemory reached, noeviction). */
  outOfMemory(): boolean {
    const max = this.maxmemory;
    return max > 0 && this.usedMemory() > max;
  }

  /** maxmemory, kept here because the check runs on every write. */
  private maxmemory = 0;

  /** Binds every address of `bind` on `port`; port 0 picks a free port. */
  async listen(): Promise<void> {
    const addrs = this.config.str('bind').split(/\s+/).filter(Boolean);
    let port = this.config.int('port');
    for (const raw of addrs) {
      // A leading '-' marks an address that may be unavailable (e.g. no IPv6).
      const optional = raw.startsWith('-');
      let host = optional ? raw.slice(1) : raw;
      if (host === '*') host = '0.0.0.0';
      if (host === '::*') host = '::';
      // Accepted paused: the Client takes the connection over (see socket.ts).
      const srv = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen({ host, port, backlog: this.config.int('tcp-backlog'), ipv6Only: host.includes(':') }, () => {
            srv.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        if (optional) continue;
        throw new Error(`Could not create server TCP listening socket ${host}:${port}: ${(e as Error).message}`);
      }
      if (port === 0) port = (srv.address() as net.AddressInfo).port;
      this.listeners.push(srv);
    }
    if (this.listeners.length === 0) throw new Error('Failed listening on any address');
    this.port = port;
    this.startCron();
  }

  private accept(socket: net.Socket): void {
    if (this.clients.size >= this.config.int('maxclients')) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const keepalive = this.config.int('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const c = new Client(this, socket, this.nextClientId++);
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
    if (this.activeExpireEnabled) {
      // Redis gives the slow cycle 25% of the period, more with active-expire-effort.
      const effort = this.config.int('active-expire-effort') - 1;
      const budget = (periodMs * (25 + 2 * effort)) / 100;
      activeExpireCycle(this.dbs, () => { this.updateClock(); return this.clock; }, budget);
    }
    const timeout = this.config.int('timeout');
    if (timeout > 0) {
      const limit = Date.now() - timeout * 1000;
      for (const c of this.clients.values()) {
        if (c.lastInteraction < limit && !c.multi) {
          this.log('verbose', `Closing idle client id=${c.id}`);
          c.close();
        }
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
    for (const l of this.listeners) l.close();
    const closed = [...this.clients.values()].map((c) => {
      c.flush();
      const done = new Promise<void>((r) => {
        if (c.socket.destroyed) r();
        else c.socket.once('close', () => r());
      });
      c.socket.end();
      return done;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
    await Promise.race([Promise.all(closed), timeout]);
    clearTimeout(timer);
    for (const c of this.clients.values()) c.socket.destroy();
  }
}
