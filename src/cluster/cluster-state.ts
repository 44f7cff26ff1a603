// A node's cluster state (the Server's `cluster` field; null when
// cluster-enabled is no): the mode, this node's id, the current epoch, the
// installed topology and which of its shards is this node's, and the
// routing decision for a slot. Nothing here talks to other nodes: the
// topology comes from KVCLUSTER CONFIG (see topology.ts), or, in emulated
// mode, is one node owning every slot.

import { SLOTS } from './keyslot.js';
import { emptyTopology, emulatedTopology, parseTopology, type ClusterNode, type Topology } from './topology.js';
import { newNodeId, readNodeConfig, writeNodeConfig } from './node-config-file.js';
import { SlotExport, type ExportOptions } from './slot-export.js';
import type { Db } from '../store/db.js';

export type ClusterMode = 'yes' | 'emulated';

// Redis 7.0's error texts (clusterRedirectClient), without the leading '-'.
export const ERR_CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
export const ERR_NOT_SERVED = 'CLUSTERDOWN Hash slot not served';
export const ERR_DOWN = 'CLUSTERDOWN The cluster is down';
export const ERR_TRYAGAIN = 'TRYAGAIN Multiple keys request during rehashing of slot';

/** What the server's configuration says of this node (cluster-announce-*, cluster-require-full-coverage, port). */
export interface ClusterSettings {
  /** cluster-announce-ip; empty: the address the client connected to. */
  announceIp: string;
  /** cluster-announce-port, else the port served. */
  port: number;
  /** cluster-announce-tls-port, else tls-port; 0: none. */
  tlsPort: number;
  requireFullCoverage: boolean;
}

/** A client whose write waits for a migration's last keys (Client.park). */
export interface ParkedClient {
  unpark(): void;
}

export class ClusterState {
  private installed: Topology;
  /** This node's shard in the topology, -1 when the topology does not name it (it then owns nothing). */
  private mine = -1;
  private settings: ClusterSettings;
  /** Whether keyed commands get CLUSTERDOWN (cluster_state:fail). */
  private down = true;
  private epoch: number;
  /** The latest slot migration from this node (kept once over, for KVCLUSTER GETSLOTMIGRATIONS); null before the first. */
  migration: SlotExport | null = null;
  /** Clients whose write waits for the migration's last keys (Client.park). */
  private readonly parked = new Set<ParkedClient>();

  private constructor(
    readonly mode: ClusterMode,
    readonly myId: string,
    /** The cluster config file (absolute); emulated nodes keep only their id in it. */
    readonly configFile: string,
    epoch: number,
    topology: Topology | null,
    settings: ClusterSettings,
  ) {
    this.epoch = epoch;
    this.settings = settings;
    this.installed = topology ?? emptyTopology();
    this.refresh();
  }

  /**
   * The state at start: the id, epoch and topology of the config file, or a
   * new id written to a new file. Throws when the file is unreadable or cannot be written.
   */
  static open(mode: ClusterMode, configFile: string, settings: ClusterSettings): ClusterState {
    const saved = readNodeConfig(configFile);
    const id = saved?.nodeId ?? newNodeId();
    const state = new ClusterState(mode, id, configFile, saved?.currentEpoch ?? 0, mode === 'yes' ? saved?.topology ?? null : null, settings);
    if (saved === null) state.save();
    return state;
  }

  get topology(): Topology { return this.installed; }
  get currentEpoch(): number { return this.epoch; }
  /** Index of this node's shard in topology.shards, -1 when it has none. */
  get myShard(): number { return this.mine; }
  get isDown(): boolean { return this.down; }
  get announced(): ClusterSettings { return this.settings; }

  /** Settings changed (CONFIG SET): the emulated topology names this node's new address. */
  configure(settings: ClusterSettings): void {
    this.settings = settings;
    this.refresh();
  }

  /** This node as a topology node: announced address (host empty when not announced). */
  myself(): ClusterNode {
    const s = this.settings;
    return { id: this.myId, host: s.announceIp, port: s.port, tlsPort: s.tlsPort };
  }

  private refresh(): void {
    if (this.mode === 'emulated') this.installed = emulatedTopology(this.epoch, this.myself());
    const t = this.installed;
    this.mine = t.shardOf(this.myId);
    // As Redis's clusterUpdateState: with full coverage required every slot must be owned; without, at least one.
    this.down = this.settings.requireFullCoverage ? t.assigned < SLOTS : t.assigned === 0;
  }

  /**
   * KVCLUSTER CONFIG: validates `json`, requires a higher epoch, writes the
   * config file, then installs it. The reason for a refusal (the old topology
   * stays), or null once installed.
   */
  install(json: string): string | null {
    if (this.mode !== 'yes') return 'KVCLUSTER CONFIG needs cluster-enabled yes (this node is an emulated cluster)';
    const t = parseTopology(json);
    if (typeof t === 'string') return `invalid topology: ${t}`;
    if (t.epoch <= this.epoch) return `epoch ${t.epoch} is not above the current epoch ${this.epoch}`;
    try {
      writeNodeConfig(this.configFile, { nodeId: this.myId, currentEpoch: t.epoch, topology: t });
    } catch (e) {
      return `error saving the cluster config file: ${(e as Error).message}`;
    }
    this.epoch = t.epoch;
    this.installed = t;
    this.refresh();
    // A migration is over once the slots it moves are no longer this node's.
    this.migration?.topologyInstalled((slot) => this.ownsSlot(slot));
    return null;
  }

  /**
   * Starts moving slots to another node (see slot-export.ts): every one of
   * them this node's, no other migration running. The reason when it cannot.
   */
  migrate(db: Db, opts: ExportOptions, log: (level: string, msg: string) => void, commands: () => number): string | null {
    if (this.mode !== 'yes') return 'slot migration needs cluster-enabled yes';
    if (this.migration?.running) return 'a slot migration is running already';
    for (const [a, b] of opts.ranges) {
      for (let s = a; s <= b; s++) if (!this.ownsSlot(s)) return `slot ${s} is not served by this node`;
    }
    this.migration = new SlotExport(db, opts, log, commands, () => this.wakeParked());
    return null;
  }

  park(client: ParkedClient): void {
    this.parked.add(client);
  }

  unpark(client: ParkedClient): void {
    this.parked.delete(client);
  }

  /**
   * The migration's writes may go on (it is over, or failed): every parked
   * client runs its command again. On the next turn of the loop: this is
   * called from inside a command (the KVCLUSTER CONFIG that moved the slots).
   */
  private wakeParked(): void {
    if (this.parked.size === 0) return;
    setImmediate(() => {
      for (const c of [...this.parked]) c.unpark();
    });
  }

  /** A key changed: a running migration sends it again. */
  keyChanged(db: Db, key: Buffer): void {
    if (this.migration !== null && this.migration.running) this.migration.keyChanged(db, key);
  }

  /** A whole db is about to change: a running migration cannot go on. */
  dbChanged(db: Db): void {
    this.migration?.dbChanged(db);
  }

  private save(): void {
    writeNodeConfig(this.configFile, { nodeId: this.myId, currentEpoch: this.epoch, topology: this.mode === 'yes' && this.installed.shards.length > 0 ? this.installed : null });
  }

  /** Whether this node's shard owns `slot`. */
  ownsSlot(slot: number): boolean {
    return this.mine >= 0 && this.installed.slotOwner[slot] === this.mine;
  }

  /** Whether no shard owns `slot` (Redis answers that for the first key, before looking at the others). */
  unowned(slot: number): boolean {
    return this.installed.slotOwner[slot] < 0;
  }

  /**
   * The error for a command whose keys all hash to `slot` (Redis's
   * getNodeByQuery without migrations), or null when this node serves it.
   */
  refusal(slot: number, write: boolean, tls: boolean): string | null {
    const t = this.installed;
    const owner = t.slotOwner[slot];
    if (owner < 0) return ERR_NOT_SERVED;
    if (this.down) return ERR_DOWN;
    if (owner !== this.mine) return t.moved(slot, owner, tls);
    // The last keys of a migrating slot are on their way: writes wait (clients retry); reads see what is here, which
    // is what the target holds too.
    if (write && this.migration !== null && this.migration.paused(slot)) return ERR_TRYAGAIN;
    return null;
  }
}
