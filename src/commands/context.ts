// What a command handler runs on: the connection that sent the command, seen
// as a context (its reply methods, its selected database, its session state),
// and the server's services, seen as ServerContext. The server's client
// connection (server/client-connection.ts) implements the first over a
// socket, the Server the second; an in-process test implements both without
// either. Handlers import nothing of src/server.

import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Db } from '../store/db.js';
import type { ActiveExpireCycle, Store, StoreMemory } from '../store/store.js';
import type { Config } from '../config/configuration.js';
import type { Acl } from '../acl/access-control.js';
import type { Persistence, ShutdownSave } from '../persistence/persistence.js';
import type { MigrateLink } from '../persistence/migrate-link.js';
import type { AclUser } from '../acl/user.js';
import type { SlowLog } from '../monitor/slow-log.js';
import type { LatencyMonitor } from '../monitor/latency-monitor.js';
import type { Command, CommandTable } from './model/command-table.js';
import type { WatchedKey, WatchRegistry } from './watch-registry.js';
import type { ClusterState } from '../cluster/cluster-state.js';

export type Handler = (c: CommandContext, argv: Buffer[]) => void;

/** A command queued by MULTI, with copies of its arguments. */
export interface QueuedCommand {
  cmd: Command<Handler>;
  argv: Buffer[];
}

/** CLIENT REPLY state bits (CommandContext.replyFlags). */
export const REPLY_OFF = 1;
export const REPLY_SKIP_NEXT = 2;
/** The command being run is the one SKIP silences. */
export const REPLY_SKIP = 4;

export interface CommandContext extends ReplyWriter {
  readonly server: ServerContext;
  readonly id: number;
  /** The selected database (SELECT). */
  db: Db;

  // Identity
  name: string;
  libName: string;
  libVer: string;
  /** "ip:port", or for a unix-socket client "path:0" (as Redis shows them). */
  readonly addr: string;
  readonly laddr: string;
  /** Connected over loopback or the unix socket (protected features' "local"). */
  readonly local: boolean;
  /** Connected to the TLS port: cluster replies name the nodes' TLS ports. */
  readonly tls: boolean;
  readonly createdAt: number;

  // Authentication
  /** The ACL user the connection runs as (the default user until AUTH). */
  user: AclUser;
  /** Whether AUTH (or a default user without password) let this connection in. */
  authenticated: boolean;

  // Transaction
  /** Queued commands while in MULTI, null otherwise. */
  multi: QueuedCommand[] | null;
  /** A command failed to queue: EXEC must abort (EXECABORT). */
  multiError: boolean;
  watched: WatchedKey[];
  /** A watched key changed: EXEC must fail. */
  dirtyCas: boolean;

  // Modes
  noEvict: boolean;
  /** A slot migration's stream from another node (KVCLUSTER IMPORTSTREAM): its commands skip the slot check. */
  importStream: boolean;
  /** CLIENT REPLY bits: 0 when replies flow normally (the hot path checks only this). */
  replyFlags: number;
  /** Close once pending replies are written (QUIT, CLIENT KILL of itself, a protocol error). */
  closing: boolean;
  /** The name of the command run last (CLIENT LIST's cmd). */
  lastCommand: string;

  /** The CLIENT LIST / CLIENT INFO line of this connection. */
  describe(now?: number): string;
  /** Closes the connection at once (CLIENT KILL, ACL DELUSER of another client's user). */
  close(): void;
  /** Leaves MULTI, dropping the queue and every WATCH (Redis's discardTransaction). */
  discardTransaction(): void;
  /**
   * Holds the command being run (and everything the client sends after it)
   * until a slot migration's last keys are across, then runs it again; false
   * when it cannot wait (it gets TRYAGAIN then).
   */
  park(argv: Buffer[]): boolean;
}

/** Counters the server keeps for INFO stats (the store keeps its own: Store.stats). */
export interface ServerStats {
  totalCommands: number;
  totalConnections: number;
  rejectedConnections: number;
  errorReplies: number;
  netInputBytes: number;
  netOutputBytes: number;
}

/** Where used_memory goes: INFO memory, MEMORY STATS, /metrics and the status page all read this one report. */
export interface MemoryReport {
  /** used_memory: the store's bytes, the clients' buffers and the shared reply buffer. */
  used: number;
  peak: number;
  /** used_memory right after start-up. */
  startup: number;
  rss: number;
  /** The runtime's own heap (not counted in used_memory: nothing per key lives there). */
  jsHeap: number;
  store: StoreMemory;
  /** Bytes of the clients' query and output buffers. */
  clientBuffers: number;
  /** The reply buffer the clients share. */
  replyBuffer: number;
}

/** What handlers may use of the server. */
export interface ServerContext {
  readonly config: Config;
  readonly commands: CommandTable<Handler>;
  readonly store: Store;
  /** Active expiry (DEBUG SET-ACTIVE-EXPIRE turns it off). */
  readonly expireCycle: ActiveExpireCycle;
  /** Snapshots: SAVE, LASTSAVE, DUMP's options, the save at shutdown. */
  readonly persistence: Persistence;
  /** MIGRATE's blocking connections to other servers. */
  readonly migrateLink: MigrateLink;
  readonly acl: Acl;
  readonly slowLog: SlowLog;
  readonly latency: LatencyMonitor;
  readonly watches: WatchRegistry;
  /** Cluster mode's state (slot map, node id, epoch); null when cluster-enabled is no. */
  readonly cluster: ClusterState | null;
  readonly stats: ServerStats;
  readonly clients: ReadonlyMap<number, CommandContext>;
  /** Calls that take at least this many µs go to the slow log and the latency monitor. */
  readonly slowUs: number;
  /**
   * performance.now() when the read batch began or the last command ended:
   * dispatch times fast commands from it with one clock read (see call()).
   */
  timeMark: number;
  /** EXEC is running its queue (BGSAVE schedules instead of starting a save in the middle of it). */
  inExec: boolean;
  log(level: string, msg: string): void;
  memoryReport(): MemoryReport;
  /** The INFO text for these section names (none: the default sections). */
  info(sections: string[]): string;
  /**
   * Before a command that may grow memory (Redis's performEvictions): frees
   * memory as the policy allows when over maxmemory; false when the command
   * must be refused with OOM.
   */
  makeRoom(): boolean;
  /** CONFIG SET of several pairs, all or none; the error text, or null. */
  configSet(pairs: [string, string][], allowProtected: boolean): string | null;
  /** CONFIG RESETSTAT. */
  resetStats(): void;
  /**
   * SHUTDOWN (and the signals): the final save as `save` says, then replies
   * due go out and the process ends. False when the save failed and `force`
   * is not set: the server goes on.
   */
  shutdown(reason: string, save: ShutdownSave, force: boolean): boolean;
}
