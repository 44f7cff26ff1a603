// Handlers in-process: a CommandContext and a ServerContext with a real
// command table, store and ACL, but no socket and no listener, so that a
// command's pure logic (key extraction, ACL checks, dispatch's checks and
// replies) can be tested without starting a server. Integration tests keep
// using real server processes; this is for unit tests only.

import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Config } from '../../src/config/configuration.js';
import { buildCommandTable } from '../../src/commands/families.js';
import { processCommand } from '../../src/commands/dispatch.js';
import { WatchRegistry, type WatchedKey } from '../../src/commands/watch-registry.js';
import type {
  CommandContext, Handler, MemoryReport, QueuedCommand, ServerContext, ServerStats,
} from '../../src/commands/context.js';
import type { CommandTable } from '../../src/commands/model/command-table.js';
import { AclCommandIndex } from '../../src/acl/command-index.js';
import { checkUserLine, setupAcl } from '../../src/acl/startup.js';
import type { Acl } from '../../src/acl/access-control.js';
import type { AclUser } from '../../src/acl/user.js';
import { ActiveExpireCycle, Store } from '../../src/store/store.js';
import type { Db } from '../../src/store/db.js';
import { SlowLog } from '../../src/monitor/slow-log.js';
import { LatencyMonitor } from '../../src/monitor/latency-monitor.js';
import { Persistence, type ShutdownSave } from '../../src/persistence/persistence.js';
import { MigrateLink } from '../../src/persistence/migrate-link.js';
import { parseReply, show } from './raw-client.js';

/** A server without sockets: the real table, store and ACL; configured from redis.conf-style lines. */
export class TestServer implements ServerContext {
  readonly config: Config;
  readonly commands: CommandTable<Handler>;
  readonly store: Store;
  readonly expireCycle: ActiveExpireCycle;
  readonly acl: Acl;
  readonly slowLog: SlowLog;
  readonly latency: LatencyMonitor;
  readonly persistence: Persistence;
  readonly migrateLink = new MigrateLink((level, msg) => this.log(level, msg));
  readonly watches = new WatchRegistry();
  readonly cluster = null;
  readonly stats: ServerStats = { totalCommands: 0, totalConnections: 0, rejectedConnections: 0, errorReplies: 0, netInputBytes: 0, netOutputBytes: 0 };
  readonly clients = new Map<number, CommandContext>();
  readonly slowUs = Infinity;
  timeMark = performance.now();
  inExec = false;
  readonly logged: string[] = [];
  private nextId = 1;

  constructor(configText = '') {
    this.commands = buildCommandTable();
    const index = new AclCommandIndex(this.commands);
    this.config = new Config((line, earlier) => checkUserLine(index, line, earlier));
    this.config.load(configText, 'test');
    const acl = setupAcl(index, this.config);
    if ('error' in acl) throw new Error(acl.error);
    this.acl = acl;
    this.store = new Store(64 * 1024, 1.25, this.config.int('databases'), {
      outsideBytes: () => 0,
      keyModified: (db: Db, key: Buffer) => { if (db.watchers > 0) this.watches.touch(db, key); },
      dbModified: (db: Db, replacedWith?: Db) => { if (db.watchers > 0) this.watches.touchDb(db, replacedWith); },
      evicting: () => {},
      trim: () => false,
    });
    this.store.setPolicy(this.config.str('maxmemory-policy'), this.config.int('maxmemory-samples'));
    this.expireCycle = new ActiveExpireCycle(this.store.dbs);
    this.slowLog = new SlowLog(() => this.config.int('slowlog-max-len'));
    this.latency = new LatencyMonitor(() => this.config.int('latency-monitor-threshold'));
    this.persistence = new Persistence({ config: this.config, store: this.store, log: (level, msg) => this.log(level, msg), usedMemory: () => 0, makeRoom: () => true, stats: this.stats });
    acl.attach({ sessions: () => this.clients.values(), log: (level, msg) => this.log(level, msg) });
  }

  /** A new connection on this server. */
  connect(): TestContext {
    const c = new TestContext(this, this.nextId++);
    this.clients.set(c.id, c);
    return c;
  }

  log(level: string, msg: string): void {
    this.logged.push(`${level}: ${msg}`);
  }

  memoryReport(): MemoryReport {
    const store = this.store.memory();
    return { used: store.used, peak: store.used, startup: 0, rss: 0, jsHeap: 0, store, clientBuffers: 0, replyBuffer: 0 };
  }

  info(): string { return ''; }
  makeRoom(): boolean { return true; }
  configSet(pairs: [string, string][], allowProtected: boolean): string | null { return this.config.setMany(pairs, allowProtected); }
  resetStats(): void {}
  /** Records the request; a test server has no process to stop. */
  readonly shutdowns: { reason: string; save: ShutdownSave; force: boolean }[] = [];
  shutdown(reason: string, save: ShutdownSave, force: boolean): boolean {
    this.shutdowns.push({ reason, save, force });
    return true;
  }
}

/** A connection: run() dispatches one command and returns its reply, parsed. */
export class TestContext extends ReplyWriter implements CommandContext {
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  readonly addr = '127.0.0.1:1';
  readonly laddr = '127.0.0.1:6379';
  readonly local = true;
  readonly tls = false;
  readonly createdAt = Date.now();
  user!: AclUser;
  authenticated = false;
  multi: QueuedCommand[] | null = null;
  multiError = false;
  watched: WatchedKey[] = [];
  dirtyCas = false;
  noEvict = false;
  importStream = false;
  replyFlags = 0;
  closing = false;
  lastCommand = 'NULL';
  closed = false;

  constructor(readonly server: TestServer, readonly id: number) {
    super();
    this.db = server.store.dbs[0];
    server.acl.resetSession(this);
  }

  protected override onError(): void {
    this.server.stats.errorReplies++;
  }

  describe(): string {
    return `id=${this.id} addr=${this.addr} user=${this.user.name} cmd=${this.lastCommand}`;
  }

  close(): void {
    this.closed = true;
    this.server.watches.unwatchAll(this);
    this.server.clients.delete(this.id);
  }

  park(): boolean {
    return false;
  }

  discardTransaction(): void {
    this.multi = null;
    this.multiError = false;
    this.server.watches.unwatchAll(this);
  }

  /** Runs one command (as the request reader would hand it over) and returns its reply in show()'s form. */
  run(...args: (string | Buffer)[]): unknown {
    return this.reply(() => processCommand(this, toArgv(args)));
  }

  /** Runs the handler of command `name` ("get", "config|get") on `args` directly, without dispatch's checks. */
  runHandler(name: string, ...args: (string | Buffer)[]): unknown {
    const handler = this.server.commands.get(name)?.handler;
    if (!handler) throw new Error(`no handler for ${name}`);
    return this.reply(() => handler(this, toArgv(args)));
  }

  private reply(run: () => void): unknown {
    this.server.store.clock = Date.now();
    const start = this.outLen;
    run();
    const bytes = Buffer.from(this.out.subarray(start, this.outLen));
    this.outLen = start;
    if (bytes.length === 0) return undefined;
    const parsed = parseReply(bytes, 0);
    if (parsed === null || parsed.end !== bytes.length) throw new Error(`not one whole reply: ${JSON.stringify(bytes.toString('latin1'))}`);
    return show(parsed.value);
  }
}

function toArgv(args: (string | Buffer)[]): Buffer[] {
  return args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
}
