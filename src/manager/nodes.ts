// The manager's side of talking to nodes: one ioredis connection per node,
// with the credentials and TLS of the command line, no retries and no
// offline queue (a node that does not answer is a finding, not something to
// wait for), and the few questions the manager asks: who are you, what
// topology do you hold, how many keys, and "install this one".

import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { NodeAddr, NodeView, TopologyJson } from './plan.js';

export interface LinkOptions {
  user?: string;
  pass?: string;
  tls?: boolean;
  /** CA certificate file for --tls (else the system's). */
  cacert?: string;
  /** Skip verifying the server certificate (--insecure, as redis-cli). */
  insecure?: boolean;
  timeoutMs: number;
}

/** What KVCLUSTER GETSLOTMIGRATIONS says. */
export interface Migration {
  state: string;
  target: string;
  /** "a-b,c-d" */
  ranges: string;
  keysSent: number;
  bytesSent: number;
  error: string;
}

/** What a node says about itself when it is to join a cluster. */
export interface NodeFacts {
  id: string;
  topology: TopologyJson;
  keys: number;
  /** Its address for the topology: the host it was reached at, its announced ports. */
  addr: NodeAddr;
}

export class NodeLink {
  private readonly r: Redis;
  /**
   * The node's address in the topology (host and plain port), which check
   * compares: over --tls the connection goes to its TLS port instead.
   */
  label: string;

  constructor(readonly host: string, readonly port: number, opts: LinkOptions) {
    this.r = new Redis({
      host, port,
      username: opts.user, password: opts.pass,
      tls: opts.tls ? { ca: opts.cacert ? readFileSync(opts.cacert) : undefined, rejectUnauthorized: !opts.insecure } : undefined,
      lazyConnect: true,
      connectTimeout: opts.timeoutMs,
      commandTimeout: opts.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      // A node that is not a cluster node must be able to say so: no ready check that could fail first.
      enableReadyCheck: false,
    });
    // Connection errors surface through the commands that fail.
    this.r.on('error', () => {});
    this.label = `${host}:${port}`;
  }

  get addr(): string {
    return `${this.host}:${this.port}`;
  }

  async connect(): Promise<void> {
    await this.r.connect();
  }

  call(...args: (string | number)[]): Promise<unknown> {
    return this.r.call(String(args[0]), ...args.slice(1).map(String));
  }

  async myId(): Promise<string> {
    return String(await this.call('KVCLUSTER', 'MYID'));
  }

  async topology(): Promise<TopologyJson> {
    return JSON.parse(String(await this.call('KVCLUSTER', 'GETCONFIG'))) as TopologyJson;
  }

  async install(t: TopologyJson): Promise<void> {
    await this.call('KVCLUSTER', 'CONFIG', JSON.stringify(t));
  }

  /** Starts moving `ranges` to host:port (KVCLUSTER MIGRATESLOTS), with these credentials for the target. */
  async migrateSlots(ranges: [number, number][], host: string, port: number, user?: string, pass?: string): Promise<void> {
    const auth = pass === undefined ? [] : user === undefined ? ['AUTH', pass] : ['AUTH2', user, pass];
    await this.call('KVCLUSTER', 'MIGRATESLOTS', 'SLOTSRANGE', ...ranges.flat(), 'TO', host, port, ...auth);
  }

  /** The latest slot migration from this node, or null before any. */
  async migration(): Promise<Migration | null> {
    const r = await this.call('KVCLUSTER', 'GETSLOTMIGRATIONS') as unknown[][];
    if (r.length === 0) return null;
    const f = fields(r[0]);
    return {
      state: String(f.get('state')), target: String(f.get('target')), ranges: String(f.get('ranges')),
      keysSent: Number(f.get('keys-sent')), bytesSent: Number(f.get('bytes-sent')), error: String(f.get('error') ?? ''),
    };
  }

  async cancelMigration(): Promise<void> {
    await this.call('KVCLUSTER', 'CANCELSLOTMIGRATIONS');
  }

  /** Deletes the keys of slots this node does not serve: how many. */
  async delKeysInSlots(ranges: [number, number][]): Promise<number> {
    return Number(await this.call('KVCLUSTER', 'DELKEYSINSLOTSRANGE', ...ranges.flat()));
  }

  async keys(): Promise<number> {
    return Number(await this.call('DBSIZE'));
  }

  /** Id, topology, keys and announced ports (CLUSTER SHARDS lists the node itself with them). */
  async facts(): Promise<NodeFacts> {
    const id = await this.myId();
    const topology = await this.topology();
    const keys = await this.keys();
    const shards = await this.call('CLUSTER', 'SHARDS') as unknown[][];
    let port = this.port;
    let tlsPort = 0;
    for (const sh of shards) {
      const nodes = fields(sh).get('nodes') as unknown[][] | undefined;
      for (const n of nodes ?? []) {
        const f = fields(n);
        if (f.get('id') !== id) continue;
        port = Number(f.get('port'));
        tlsPort = Number(f.get('tls-port') ?? 0);
      }
    }
    return { id, topology, keys, addr: { id, host: this.host, port, ...(tlsPort ? { 'tls-port': tlsPort } : {}) } };
  }

  /** What the node says of the cluster, or why it could not say. */
  async view(): Promise<NodeView> {
    try {
      return { addr: this.label, id: await this.myId(), topology: await this.topology() };
    } catch (e) {
      return { addr: this.label, error: (e as Error).message };
    }
  }

  close(): void {
    this.r.disconnect();
  }
}

/** A flat [name, value, ...] reply (RESP2's form of a map) as a Map. */
function fields(flat: unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}

/** Links to several nodes, all closed together. */
export class Links {
  private readonly all: NodeLink[] = [];

  constructor(readonly opts: LinkOptions) {}

  /** A connected link to host:port; throws (with the address) when it cannot connect. */
  async open(host: string, port: number): Promise<NodeLink> {
    const l = new NodeLink(host, port, this.opts);
    this.all.push(l);
    try {
      await l.connect();
    } catch (e) {
      throw new Error(`cannot connect to ${l.addr}: ${(e as Error).message}`);
    }
    return l;
  }

  /** A link to host:port, or null when it does not connect (fix and check count those as down). */
  async tryOpen(host: string, port: number): Promise<NodeLink | null> {
    try {
      return await this.open(host, port);
    } catch {
      return null;
    }
  }

  closeAll(): void {
    for (const l of this.all) l.close();
  }
}
