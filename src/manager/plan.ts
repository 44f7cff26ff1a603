// What the cluster manager (kvslab-cluster) decides, apart from talking to
// nodes: how slots are split over masters, the next topology for create,
// add-node, del-node and fix, and whether the nodes' views agree (check).
// Pure functions over the JSON form of a topology (src/cluster/topology.ts
// documents it), so every decision is unit-tested without a server.

import { SLOTS } from '../cluster/keyslot.js';

export interface NodeAddr {
  id: string;
  host: string;
  port: number;
  'tls-port'?: number;
}

export interface ShardJson {
  id?: string;
  slots: [number, number][];
  master: NodeAddr;
  replicas: NodeAddr[];
}

export interface TopologyJson {
  epoch: number;
  shards: ShardJson[];
}

/**
 * `n` contiguous ranges covering [first, last], as even as slots allow:
 * redis-cli --cluster create's split (16,384 over 3: 0-5460, 5461-10922,
 * 10923-16383), so a kvslab cluster lays its slots out as a Redis one.
 */
export function evenRanges(n: number, first = 0, last = SLOTS - 1): [number, number][] {
  const total = last - first + 1;
  const per = total / n;
  const out: [number, number][] = [];
  let start = first;
  for (let i = 0; i < n; i++) {
    let end = i === n - 1 ? last : Math.round(first + per * (i + 1) - 1);
    if (end < start) end = start - 1;
    out.push([start, end]);
    start = end + 1;
  }
  return out;
}

/** The topology `create` pushes: the slots split evenly over the nodes, in the order given. */
export function createTopology(epoch: number, nodes: NodeAddr[]): TopologyJson {
  const ranges = evenRanges(nodes.length);
  return { epoch, shards: nodes.map((master, i) => ({ slots: ranges[i][1] >= ranges[i][0] ? [ranges[i]] : [], master, replicas: [] })) };
}

/** Slots a shard owns. */
export function slotCount(shard: ShardJson): number {
  return shard.slots.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/** `t` with a new master that owns no slots yet (add-node). */
export function withNode(t: TopologyJson, node: NodeAddr): TopologyJson {
  return { epoch: t.epoch + 1, shards: [...t.shards, { slots: [], master: node, replicas: [] }] };
}

/** `t` without the master `id`, which must own no slots (del-node): the reason when it cannot go, else the topology. */
export function withoutNode(t: TopologyJson, id: string): TopologyJson | string {
  const shard = t.shards.find((s) => s.master.id === id);
  if (shard === undefined) return `no node ${id} in the cluster`;
  const n = slotCount(shard);
  if (n > 0) return `node ${id} owns ${n} slots: move them away first`;
  return { epoch: t.epoch + 1, shards: t.shards.filter((s) => s !== shard) };
}

/** Slots no shard of `t` owns, as ascending ranges. */
export function unownedRanges(t: TopologyJson): [number, number][] {
  const owned = new Uint8Array(SLOTS);
  for (const s of t.shards) for (const [a, b] of s.slots) owned.fill(1, a, b + 1);
  const out: [number, number][] = [];
  for (let s = 0; s < SLOTS; s++) {
    if (owned[s]) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/**
 * fix: the shards of the masters in `dead` leave the topology, and their
 * slots, with any no shard owned, go to the live masters, split as evenly as
 * possible in contiguous runs (the masters with fewest slots first). A
 * cache: the keys of those slots are lost; the new owners start them empty.
 * The topology and how many slots changed hands; a reason when no master is left.
 */
export function fixTopology(t: TopologyJson, dead: ReadonlySet<string>): { topology: TopologyJson; moved: number } | string {
  const live = t.shards.filter((s) => !dead.has(s.master.id)).map((s) => ({ ...s, slots: s.slots.map(([a, b]): [number, number] => [a, b]) }));
  if (live.length === 0) return 'no master of the cluster answers';
  const orphan = unownedRanges({ epoch: t.epoch, shards: live });
  const moved = orphan.reduce((n, [a, b]) => n + b - a + 1, 0);
  // Hand the orphaned slots out in order, each master's share contiguous within the orphaned runs.
  const order = [...live].sort((x, y) => slotCount(x) - slotCount(y));
  const flat: number[] = [];
  for (const [a, b] of orphan) for (let s = a; s <= b; s++) flat.push(s);
  const shares = evenRanges(order.length, 0, flat.length - 1);
  order.forEach((shard, i) => {
    const [from, to] = shares[i];
    for (let k = from; k <= to; k++) addSlot(shard.slots, flat[k]);
  });
  for (const s of live) s.slots = mergeRanges(s.slots);
  return { topology: { epoch: t.epoch + 1, shards: live }, moved };
}

function addSlot(ranges: [number, number][], slot: number): void {
  const last = ranges[ranges.length - 1];
  if (last !== undefined && last[1] === slot - 1) last[1] = slot;
  else ranges.push([slot, slot]);
}

/** Ranges sorted and joined where they touch. */
export function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1 >= a) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** What one node says of the cluster: its id and installed topology, or why it could not be asked. */
export type NodeView = { addr: string; id: string; topology: TopologyJson } | { addr: string; error: string };

/** The slot map of a topology as text, to compare views ("id:ranges" per shard, by id). */
function signature(t: TopologyJson): string {
  return t.shards
    .map((s) => `${s.master.id}@${s.master.host}:${s.master.port}:${mergeRanges(s.slots).map(([a, b]) => `${a}-${b}`).join(',')}`)
    .sort()
    .join(' ');
}

/**
 * check: every master of the reference topology answers, with its own id,
 * the same epoch and the same slot map; all 16,384 slots are owned. The
 * problems found, each a sentence (none: the cluster is consistent).
 */
export function checkViews(reference: TopologyJson, views: NodeView[]): string[] {
  const problems: string[] = [];
  const want = signature(reference);
  for (const shard of reference.shards) {
    const addr = `${shard.master.host}:${shard.master.port}`;
    const v = views.find((x) => x.addr === addr);
    if (v === undefined || 'error' in v) {
      problems.push(`node ${addr} (${shard.master.id.slice(0, 8)}...) does not answer${v && 'error' in v ? `: ${v.error}` : ''}`);
      continue;
    }
    if (v.id !== shard.master.id) problems.push(`node ${addr} has id ${v.id}, the topology says ${shard.master.id}`);
    if (v.topology.epoch !== reference.epoch) problems.push(`node ${addr} is at epoch ${v.topology.epoch}, the cluster at ${reference.epoch}`);
    else if (signature(v.topology) !== want) problems.push(`node ${addr} has another slot map at the same epoch ${reference.epoch}`);
  }
  const missing = unownedRanges(reference);
  if (missing.length > 0) {
    const n = missing.reduce((k, [a, b]) => k + b - a + 1, 0);
    problems.push(`${n} slots are not covered (${missing.slice(0, 4).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')}${missing.length > 4 ? ', ...' : ''})`);
  }
  return problems;
}

/** "host:port" as given on the command line: the host and port, or null. */
export function parseAddr(text: string): { host: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** The first `n` slots a shard owns, as ranges (what reshard moves). */
export function pickSlots(shard: ShardJson, n: number): [number, number][] {
  const out: [number, number][] = [];
  let left = n;
  for (const [a, b] of mergeRanges(shard.slots)) {
    if (left === 0) break;
    const take = Math.min(left, b - a + 1);
    out.push([a, a + take - 1]);
    left -= take;
  }
  return out;
}

/** `t` with `ranges` moved from the master `fromId` to `toId`, at `epoch`. */
export function movedTopology(t: TopologyJson, fromId: string, toId: string, ranges: [number, number][], epoch: number): TopologyJson {
  const moving = new Uint8Array(SLOTS);
  for (const [a, b] of ranges) moving.fill(1, a, b + 1);
  return {
    epoch,
    shards: t.shards.map((s) => {
      if (s.master.id === fromId) return { ...s, slots: subtractRanges(s.slots, moving) };
      if (s.master.id === toId) return { ...s, slots: mergeRanges([...s.slots, ...ranges]) };
      return s;
    }),
  };
}

/** `ranges` without the slots set in `remove`. */
function subtractRanges(ranges: [number, number][], remove: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) if (!remove[s]) addSlot(out, s);
  return mergeRanges(out);
}

/** One reshard step of a rebalance: `count` slots from one master to another. */
export interface Move { from: string; to: string; count: number }

/**
 * rebalance: the moves that bring every master to an even share of the
 * slots (as evenRanges splits them), the fullest giving to the emptiest
 * first; none when no master is off its share by more than `thresholdPct`
 * percent (redis-cli's --cluster-threshold, 2 by default).
 */
export function rebalanceMoves(t: TopologyJson, thresholdPct = 2): Move[] {
  const n = t.shards.length;
  if (n < 2) return [];
  const shares = evenRanges(n).map(([a, b]) => b - a + 1);
  // The bigger shares go to the masters that hold the most already: fewer slots move.
  const byCount = [...t.shards].sort((x, y) => slotCount(y) - slotCount(x));
  const balance = byCount.map((s, i) => ({ id: s.master.id, diff: slotCount(s) - shares[i] }));
  const limit = (SLOTS / n) * (thresholdPct / 100);
  if (balance.every((b) => Math.abs(b.diff) <= limit)) return [];
  const moves: Move[] = [];
  const givers = balance.filter((b) => b.diff > 0);
  const takers = balance.filter((b) => b.diff < 0);
  for (const g of givers) {
    for (const tk of takers) {
      if (g.diff === 0) break;
      if (tk.diff === 0) continue;
      const count = Math.min(g.diff, -tk.diff);
      moves.push({ from: g.id, to: tk.id, count });
      g.diff -= count;
      tk.diff += count;
    }
  }
  return moves;
}

/** "a-b,c-d" (GETSLOTMIGRATIONS's ranges) as ranges. */
export function parseRangesText(text: string): [number, number][] {
  return text.split(',').filter((x) => x !== '').map((r) => {
    const [a, b] = r.split('-').map(Number);
    return [a, b ?? a];
  });
}
