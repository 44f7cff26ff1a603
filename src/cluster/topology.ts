// A cluster topology: which shard owns which slots, and where each shard's
// master is. kvslab nodes do not gossip: a manager (kvslab-cluster, or an
// operator) pushes the whole topology to every node with KVCLUSTER CONFIG,
// each push carrying an epoch that only grows (Dragonfly's managed design).
//
// The JSON format (what KVCLUSTER CONFIG takes and KVCLUSTER GETCONFIG
// shows):
//
//   {
//     "epoch": 7,                                   integer >= 0; a node accepts only a higher one
//     "shards": [
//       {
//         "id": "<40 lowercase hex>",               optional shard id (CLUSTER MYSHARDID); default
//                                                   derived from the master's id (sha1 of it)
//         "slots": [[0, 5460], [10923, 10923]],     inclusive ranges; every slot 0..16383 at most once
//         "master": { "id": "<40 lowercase hex>", "host": "10.0.0.1", "port": 7000, "tls-port": 7100 },
//                                                   host non-empty; port 1..65535; tls-port optional
//         "replicas": []                            optional; must be empty until replication exists
//       }
//     ]
//   }
//
// Slots no shard lists are unowned (CLUSTERDOWN). Each node id appears at
// most once. A parsed topology is immutable: installing a new one replaces
// the object, so a reader never sees half of a push.

import { createHash } from 'node:crypto';
import { SLOTS } from './keyslot.js';

export interface ClusterNode {
  readonly id: string;
  /** Empty only for the emulated node without cluster-announce-ip: the reply then names the connection's own address. */
  readonly host: string;
  readonly port: number;
  /** 0: none. */
  readonly tlsPort: number;
}

export interface Shard {
  /** 40 hex: CLUSTER MYSHARDID, stable for the shard. */
  readonly id: string;
  readonly master: ClusterNode;
  /** The slot ranges the shard owns, ascending and merged (from the slot map, not as pushed). */
  readonly ranges: readonly (readonly [number, number])[];
}

/** One run of slots with one owner, ascending (CLUSTER SLOTS's entries). */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly shard: number;
}

const HEX40 = /^[0-9a-f]{40}$/;

export class Topology {
  /** slot -> index in `shards`, -1 when unowned. */
  readonly slotOwner: Int16Array;
  /** Slots some shard owns. */
  readonly assigned: number;
  /** Every owned run of slots in slot order, contiguous runs of one shard merged. */
  readonly ranges: readonly SlotRange[];
  /** " host:port" of each shard's master: a MOVED reply is "MOVED <slot>" and this; for TLS clients its TLS port, when it has one. */
  private readonly movedSuffix: readonly string[];
  private readonly movedTlsSuffix: readonly string[];

  constructor(readonly epoch: number, readonly shards: readonly Shard[], slotOwner: Int16Array) {
    this.slotOwner = slotOwner;
    const ranges: SlotRange[] = [];
    let assigned = 0;
    for (let s = 0; s < SLOTS; s++) {
      const owner = slotOwner[s];
      if (owner < 0) continue;
      assigned++;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.shard === owner && last.end === s - 1) ranges[ranges.length - 1] = { start: last.start, end: s, shard: owner };
      else ranges.push({ start: s, end: s, shard: owner });
    }
    this.assigned = assigned;
    this.ranges = ranges;
    this.movedSuffix = shards.map((sh) => ` ${sh.master.host}:${sh.master.port}`);
    this.movedTlsSuffix = shards.map((sh) => ` ${sh.master.host}:${sh.master.tlsPort || sh.master.port}`);
  }

  /** The index of the shard whose master is `nodeId`, or -1. */
  shardOf(nodeId: string): number {
    return this.shards.findIndex((s) => s.master.id === nodeId);
  }

  /** The MOVED error (without the '-') for a slot owned by shard `shard`; `tls`: the client is on TLS (as Redis's with tls-cluster). */
  moved(slot: number, shard: number, tls: boolean): string {
    return `MOVED ${slot}${(tls ? this.movedTlsSuffix : this.movedSuffix)[shard]}`;
  }

  /** The topology in the JSON format above (KVCLUSTER GETCONFIG, the cluster config file). */
  toJSON(): object {
    return {
      epoch: this.epoch,
      shards: this.shards.map((s) => ({
        id: s.id,
        slots: s.ranges.map(([a, b]) => [a, b]),
        master: { id: s.master.id, host: s.master.host, port: s.master.port, ...(s.master.tlsPort ? { 'tls-port': s.master.tlsPort } : {}) },
        replicas: [],
      })),
    };
  }
}

/** The shard id of a shard pushed without one: derived from its master's id, so it is stable. */
export function derivedShardId(masterId: string): string {
  return createHash('sha1').update(`kvslab-shard:${masterId}`).digest('hex');
}

/** Builds the installed form from validated shards: the slot map and each shard's merged ranges. */
function build(epoch: number, shards: { id: string; master: ClusterNode; slots: [number, number][] }[], owner: Int16Array): Topology {
  const ranges: [number, number][][] = shards.map(() => []);
  for (let s = 0; s < SLOTS; s++) {
    const o = owner[s];
    if (o < 0) continue;
    const r = ranges[o];
    const last = r[r.length - 1];
    if (last !== undefined && last[1] === s - 1) last[1] = s;
    else r.push([s, s]);
  }
  const frozen = shards.map((sh, i): Shard => Object.freeze({
    id: sh.id, master: Object.freeze({ ...sh.master }), ranges: Object.freeze(ranges[i].map((x) => Object.freeze(x) as readonly [number, number])),
  }));
  return new Topology(epoch, Object.freeze(frozen), owner);
}

/** A one-node cluster owning every slot (cluster-enabled emulated). */
export function emulatedTopology(epoch: number, me: ClusterNode): Topology {
  return build(epoch, [{ id: derivedShardId(me.id), master: me, slots: [] }], new Int16Array(SLOTS).fill(0));
}

/** An empty topology: nothing owned (a cluster node nobody has configured yet). */
export function emptyTopology(): Topology {
  return build(0, [], new Int16Array(SLOTS).fill(-1));
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: Json, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function parseNode(v: Json, where: string): ClusterNode | string {
  if (!isObject(v)) return `${where} must be an object`;
  const { id, host, port } = v;
  const tls = v['tls-port'];
  if (typeof id !== 'string' || !HEX40.test(id)) return `${where} has a bad id ${JSON.stringify(id)} (40 lowercase hex digits)`;
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) return `${where} has a bad host ${JSON.stringify(host)}`;
  if (!isInt(port, 1, 65535)) return `${where} has a bad port ${JSON.stringify(port)}`;
  if (tls !== undefined && !isInt(tls, 1, 65535)) return `${where} has a bad tls-port ${JSON.stringify(tls)}`;
  return { id, host, port, tlsPort: tls ?? 0 };
}

/**
 * Parses and validates a topology pushed as JSON: the installed Topology,
 * or the reason it is refused (a sentence for the ERR reply).
 */
export function parseTopology(text: string): Topology | string {
  let v: Json;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the topology is not valid JSON';
  }
  if (!isObject(v)) return 'the topology must be a JSON object';
  if (!isInt(v.epoch, 0, Number.MAX_SAFE_INTEGER)) return 'epoch must be a non-negative integer';
  if (!Array.isArray(v.shards)) return 'shards must be an array';
  if (v.shards.length > 16384) return 'too many shards';
  const owner = new Int16Array(SLOTS).fill(-1);
  const nodeIds = new Set<string>();
  const shardIds = new Set<string>();
  const shards: { id: string; master: ClusterNode; slots: [number, number][] }[] = [];
  for (let i = 0; i < v.shards.length; i++) {
    const sh: Json = v.shards[i];
    const where = `shard ${i}`;
    if (!isObject(sh)) return `${where} must be an object`;
    const master = parseNode(sh.master, `${where}'s master`);
    if (typeof master === 'string') return master;
    if (nodeIds.has(master.id)) return `duplicate node id ${master.id}`;
    nodeIds.add(master.id);
    if (sh.replicas !== undefined && !Array.isArray(sh.replicas)) return `${where}'s replicas must be an array`;
    if (Array.isArray(sh.replicas) && sh.replicas.length > 0) return `${where} has replicas, which are not supported yet`;
    const id = sh.id ?? derivedShardId(master.id);
    if (typeof id !== 'string' || !HEX40.test(id)) return `${where} has a bad shard id ${JSON.stringify(id)} (40 lowercase hex digits)`;
    if (shardIds.has(id)) return `duplicate shard id ${id}`;
    shardIds.add(id);
    if (!Array.isArray(sh.slots)) return `${where}'s slots must be an array of [start, end] ranges`;
    for (const r of sh.slots as Json[]) {
      if (!Array.isArray(r) || r.length !== 2 || !isInt(r[0], 0, SLOTS - 1) || !isInt(r[1], 0, SLOTS - 1) || r[0] > r[1]) {
        return `${where} has a bad slot range ${JSON.stringify(r)} (want [start, end] within 0..16383)`;
      }
      for (let s = r[0]; s <= r[1]; s++) {
        if (owner[s] >= 0) return `duplicate slot ${s}`;
        owner[s] = i;
      }
    }
    shards.push({ id, master, slots: sh.slots as [number, number][] });
  }
  return build(v.epoch, shards, owner);
}
