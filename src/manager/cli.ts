// kvslab-cluster: the cluster manager, in the style of redis-cli --cluster.
// kvslab nodes do not gossip; this tool is the one writer of the slot map:
// it reads what each node holds (KVCLUSTER GETCONFIG), works out the next
// topology (plan.ts) and pushes it to every node with a higher epoch
// (KVCLUSTER CONFIG), then asks each node again to confirm. A push that
// fails half-way leaves nodes at different epochs: `check` says so and `fix`
// brings them to one.
//
//   create HOST:PORT...        empty cluster nodes -> one cluster, slots split evenly
//   check HOST:PORT            every node at one epoch and slot map, all slots covered (exit 0 only then)
//   info HOST:PORT             keys and slots per master
//   add-node NEW EXISTING      NEW joins as a master without slots
//   del-node EXISTING ID       a master without slots leaves (and forgets the cluster)
//   fix HOST:PORT              masters that do not answer leave; their slots go to the others, empty;
//                              a move left half-done is finished or rolled back
//   reshard HOST:PORT --from ID --to ID --slots N
//                              N slots move with their keys while clients go on
//   rebalance HOST:PORT        moves slots until every master has an even share
//
// A move (see src/cluster/slot-export.ts): the source streams the slots' keys
// to the target (KVCLUSTER MIGRATESLOTS), keeping up with writes; when it is
// ready (the last writes paused: clients get TRYAGAIN and retry), the
// topology that gives the target the slots is pushed, target first. A move
// that fails before is rolled back: the slots stay, the target's copies go.

import { Command } from 'commander';
import { SLOTS } from '../cluster/keyslot.js';
import {
  checkViews, createTopology, fixTopology, mergeRanges, movedTopology, parseAddr, parseRangesText, pickSlots, rebalanceMoves,
  slotCount, withNode, withoutNode, type NodeAddr, type NodeView, type ShardJson, type TopologyJson,
} from './plan.js';
import { Links, type LinkOptions, type NodeLink } from './nodes.js';

/** Reported as "[ERR] ..." with exit status 1. */
class ToolError extends Error {}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function addrOf(text: string): { host: string; port: number } {
  const a = parseAddr(text);
  if (a === null) throw new ToolError(`'${text}' is not HOST:PORT`);
  return a;
}

function rangesText(ranges: [number, number][]): string {
  return mergeRanges(ranges).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
}

/** redis-cli's text for a node that cannot join (clusterManagerNodeIsEmpty). */
function notEmpty(addr: string): ToolError {
  return new ToolError(`Node ${addr} is not empty. Either the node already knows other nodes (check with CLUSTER NODES) or contains some key in database 0.`);
}

/** A node about to join: a cluster node (not emulated), holding no keys and no topology with shards. */
async function joinable(links: Links, text: string): Promise<{ link: NodeLink; addr: NodeAddr; epoch: number }> {
  const { host, port } = addrOf(text);
  const link = await links.open(host, port);
  let facts;
  try {
    facts = await link.facts();
  } catch (e) {
    const msg = (e as Error).message;
    if (/cluster support disabled/.test(msg)) throw new ToolError(`Node ${link.addr} is not configured as a cluster node (start it with cluster-enabled yes)`);
    throw new ToolError(`${link.addr}: ${msg}`);
  }
  if (facts.keys > 0 || facts.topology.shards.length > 0) throw notEmpty(link.addr);
  link.label = `${facts.addr.host}:${facts.addr.port}`;
  return { link, addr: facts.addr, epoch: facts.topology.epoch };
}

/** Pushes `t` to every link in order; then each must report it, else the problems are thrown. */
async function push(t: TopologyJson, targets: NodeLink[]): Promise<void> {
  say(`>>> Pushing the topology of epoch ${t.epoch} to ${targets.length} node(s)`);
  const failed: string[] = [];
  for (const l of targets) {
    try {
      await l.install(t);
    } catch (e) {
      failed.push(`${l.addr} refused the topology: ${(e as Error).message}`);
    }
  }
  if (failed.length > 0) throw new ToolError(`${failed.join('; ')} (run fix to bring every node to one epoch)`);
  const problems = checkViews(t, await Promise.all(targets.map((l) => l.view())));
  if (problems.length > 0) throw new ToolError(problems.join('; '));
}

/**
 * The cluster as the node at `entry` knows it: links to every master of the
 * newest topology any of them holds (a half-done push leaves some behind),
 * and what each said.
 */
async function survey(links: Links, entry: string): Promise<{ reference: TopologyJson; views: NodeView[]; live: Map<string, NodeLink> }> {
  const { host, port } = addrOf(entry);
  const first = await links.open(host, port);
  let reference = await first.topology().catch((e: Error) => {
    throw new ToolError(`${first.addr}: ${e.message}`);
  });
  if (reference.shards.length === 0) throw new ToolError(`${first.addr} is not part of a cluster (no topology installed)`);
  // Over --tls a node is reached at its TLS port; it is named by its topology address all the same.
  const connectPort = (m: NodeAddr) => (links.opts.tls && m['tls-port'] ? m['tls-port'] : m.port);
  const firstId = await first.myId().catch(() => '');
  const firstShard = reference.shards.find((s) => s.master.id === firstId);
  if (firstShard !== undefined) first.label = `${firstShard.master.host}:${firstShard.master.port}`;
  const live = new Map<string, NodeLink>();
  const views = new Map<string, NodeView>();
  // Until no view names a newer topology than the reference.
  for (;;) {
    for (const s of reference.shards) {
      const addr = `${s.master.host}:${s.master.port}`;
      if (views.has(addr)) continue;
      const link = addr === first.label ? first : await links.tryOpen(s.master.host, connectPort(s.master));
      if (link !== null) link.label = addr;
      const view: NodeView = link === null ? { addr, error: 'no connection' } : await link.view();
      views.set(addr, view);
      if (link !== null && !('error' in view)) live.set(view.id, link);
    }
    let newest = reference;
    for (const v of views.values()) if (!('error' in v) && v.topology.epoch > newest.epoch) newest = v.topology;
    if (newest === reference) break;
    reference = newest;
  }
  return { reference, views: [...views.values()], live };
}

async function create(links: Links, addrs: string[]): Promise<void> {
  if (addrs.length === 0) throw new ToolError('create needs at least one HOST:PORT');
  const nodes = [];
  for (const a of addrs) nodes.push(await joinable(links, a));
  const ids = new Set(nodes.map((n) => n.addr.id));
  if (ids.size !== nodes.length) throw new ToolError('the same node is named twice');
  const t = createTopology(Math.max(...nodes.map((n) => n.epoch)) + 1, nodes.map((n) => n.addr));
  say(`>>> Creating a cluster of ${nodes.length} master(s)`);
  t.shards.forEach((s, i) => say(`Master[${i}] ${s.master.host}:${s.master.port} (${s.master.id}) -> slots ${rangesText(s.slots) || 'none'}`));
  await push(t, nodes.map((n) => n.link));
  say(`[OK] All ${SLOTS} slots covered.`);
}

async function check(links: Links, entry: string): Promise<void> {
  const { reference, views, live } = await survey(links, entry);
  say(`>>> Performing Cluster Check (using node ${entry}), epoch ${reference.epoch}`);
  for (const s of reference.shards) {
    say(`M: ${s.master.id} ${s.master.host}:${s.master.port}`);
    const link = live.get(s.master.id);
    const keys = link ? `${await link.keys()} keys` : 'not answering';
    say(`   slots:[${rangesText(s.slots)}] (${slotCount(s)} slots) master, ${keys}`);
  }
  const problems = checkViews(reference, views);
  if (problems.length > 0) throw new ToolError(problems.join('\n[ERR] '));
  say('[OK] All nodes agree about slots configuration.');
  say(`[OK] All ${SLOTS} slots covered.`);
}

async function info(links: Links, entry: string): Promise<void> {
  const { reference, live } = await survey(links, entry);
  let total = 0;
  for (const s of reference.shards) {
    const link = live.get(s.master.id);
    const keys = link ? await link.keys() : 0;
    total += keys;
    say(`${s.master.host}:${s.master.port} (${s.master.id.slice(0, 8)}...) -> ${link ? `${keys} keys` : 'not answering'} | ${slotCount(s)} slots | 0 replicas.`);
  }
  say(`[OK] ${total} keys in ${reference.shards.length} masters.`);
  say(`${(total / SLOTS).toFixed(2)} keys per slot on average.`);
}

/** A cluster every node agrees on: its topology and links, else a ToolError naming the problems. */
async function consistent(links: Links, entry: string): Promise<{ reference: TopologyJson; live: Map<string, NodeLink> }> {
  const { reference, views, live } = await survey(links, entry);
  const problems = checkViews(reference, views);
  if (problems.length > 0) throw new ToolError(`the cluster is not consistent (${problems.join('; ')}): run check, or fix`);
  return { reference, live };
}

async function addNode(links: Links, fresh: string, entry: string): Promise<void> {
  const { reference, live } = await consistent(links, entry);
  const n = await joinable(links, fresh);
  if (live.has(n.addr.id)) throw new ToolError(`${n.link.addr} is in the cluster already`);
  const t = withNode(reference, n.addr);
  // A node reset earlier may be at a higher epoch than the cluster: the push must be above it too.
  t.epoch = Math.max(t.epoch, n.epoch + 1);
  say(`>>> Adding node ${n.link.addr} (${n.addr.id}) as a master without slots`);
  await push(t, [...live.values(), n.link]);
  say('[OK] New node added.');
}

async function delNode(links: Links, entry: string, id: string): Promise<void> {
  const { reference, live } = await consistent(links, entry);
  const t = withoutNode(reference, id);
  if (typeof t === 'string') throw new ToolError(t);
  const leaving = live.get(id);
  const rest = [...live.entries()].filter(([k]) => k !== id).map(([, l]) => l);
  if (rest.length === 0) throw new ToolError('the last node of a cluster cannot leave it');
  say(`>>> Removing node ${id} from the cluster`);
  await push(t, rest);
  // It forgets the cluster (an empty topology at the new epoch), so it can join another.
  if (leaving !== undefined) await leaving.install({ epoch: t.epoch, shards: [] });
  say('[OK] Node removed.');
}

/** The highest epoch any of the views holds. */
function topEpoch(reference: TopologyJson, views: NodeView[]): number {
  let top = reference.epoch;
  for (const v of views) if (!('error' in v)) top = Math.max(top, v.topology.epoch);
  return top;
}

const POLL_MS = 50;

/**
 * Moves `ranges` from one master to another with their keys (see the top),
 * `reference` being what every node holds; the topology after it.
 */
async function moveSlots(links: Links, reference: TopologyJson, epoch: number, live: Map<string, NodeLink>, from: ShardJson, to: ShardJson, ranges: [number, number][]): Promise<TopologyJson> {
  const src = live.get(from.master.id);
  const dst = live.get(to.master.id);
  if (src === undefined || dst === undefined) throw new ToolError('both masters of a move must answer');
  const n = ranges.reduce((k, [a, b]) => k + b - a + 1, 0);
  say(`>>> Moving ${n} slots (${rangesText(ranges)}) from ${src.addr} to ${dst.addr}`);
  const started = performance.now();
  try {
    await src.migrateSlots(ranges, to.master.host, to.master.port, links.opts.user, links.opts.pass);
  } catch (e) {
    throw new ToolError(`${src.addr} refused the move: ${(e as Error).message}`);
  }
  let lastReport = started;
  for (;;) {
    const m = await src.migration();
    if (m === null) throw new ToolError(`${src.addr} reports no migration`);
    if (m.state === 'failed') {
      const removed = await dst.delKeysInSlots(ranges).catch(() => -1);
      throw new ToolError(`the move failed (${m.error}); rolled back: the slots stay on ${src.addr}${removed >= 0 ? `, ${removed} copied keys deleted on ${dst.addr}` : ''}`);
    }
    if (m.state === 'ready') {
      say(`    ${m.keysSent} keys (${(m.bytesSent / 1048576).toFixed(1)} MiB) sent in ${((performance.now() - started) / 1000).toFixed(1)} s; switching owners`);
      break;
    }
    if (performance.now() - lastReport >= 1000) {
      lastReport = performance.now();
      say(`    ${m.state}: ${m.keysSent} keys sent`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const next = movedTopology(reference, from.master.id, to.master.id, ranges, epoch + 1);
  // The target first: once it owns the slots the source, still paused, hands clients over with MOVED.
  await push(next, [dst, src, ...[...live.values()].filter((l) => l !== src && l !== dst)]);
  return next;
}

async function reshard(links: Links, entry: string, fromId: string, toId: string, count: number): Promise<void> {
  const { reference, live } = await consistent(links, entry);
  const from = reference.shards.find((s) => s.master.id === fromId);
  const to = reference.shards.find((s) => s.master.id === toId);
  if (from === undefined) throw new ToolError(`no master ${fromId} in the cluster`);
  if (to === undefined) throw new ToolError(`no master ${toId} in the cluster`);
  if (from === to) throw new ToolError('--from and --to name the same master');
  if (!Number.isInteger(count) || count <= 0) throw new ToolError('--slots must be a positive number');
  if (count > slotCount(from)) throw new ToolError(`${fromId} owns ${slotCount(from)} slots, fewer than ${count}`);
  await moveSlots(links, reference, reference.epoch, live, from, to, pickSlots(from, count));
  say('[OK] Slots moved.');
}

async function rebalance(links: Links, entry: string, thresholdPct: number): Promise<void> {
  let { reference, live } = await consistent(links, entry);
  const moves = rebalanceMoves(reference, thresholdPct);
  if (moves.length === 0) {
    say(`[OK] No master is more than ${thresholdPct}% off its share: nothing to move.`);
    return;
  }
  for (const mv of moves) {
    const from = reference.shards.find((s) => s.master.id === mv.from)!;
    const to = reference.shards.find((s) => s.master.id === mv.to)!;
    reference = await moveSlots(links, reference, reference.epoch, live, from, to, pickSlots(from, mv.count));
    ({ reference, live } = await consistent(links, entry));
  }
  say('[OK] Rebalanced.');
}

/**
 * A move left half-done (the manager stopped between ready and the push, or
 * mid-way): finished when the newest topology gives the target the slots
 * already (the generic fix then brings every node to it), else rolled back.
 */
async function settleMoves(reference: TopologyJson, live: Map<string, NodeLink>): Promise<void> {
  for (const src of live.values()) {
    const m = await src.migration().catch(() => null);
    if (m === null || m.state === 'done' || m.state === 'failed') continue;
    const ranges = parseRangesText(m.ranges);
    const target = reference.shards.find((s) => `${s.master.host}:${s.master.port}` === m.target);
    const owner = (slot: number) => reference.shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
    if (target !== undefined && ranges.every(([a]) => owner(a) === target)) {
      say(`[WARNING] A move of slots ${m.ranges} from ${src.addr} to ${m.target} was left before its last push: finishing it`);
      continue;
    }
    say(`[WARNING] A move of slots ${m.ranges} from ${src.addr} to ${m.target} was left ${m.state}: rolling it back`);
    await src.cancelMigration();
    const dst = target === undefined ? undefined : live.get(target.master.id);
    if (dst !== undefined) say(`    ${await dst.delKeysInSlots(ranges)} copied keys deleted on ${dst.addr}`);
  }
}

async function fix(links: Links, entry: string): Promise<void> {
  const { reference, views, live } = await survey(links, entry);
  await settleMoves(reference, live);
  const problems = checkViews(reference, views);
  if (problems.length === 0) {
    say('[OK] All nodes agree about slots configuration, all slots covered: nothing to fix.');
    return;
  }
  for (const p of problems) say(`[WARNING] ${p}`);
  const dead = new Set(reference.shards.map((s) => s.master.id).filter((id) => !live.has(id)));
  const plan = fixTopology(reference, dead);
  if (typeof plan === 'string') throw new ToolError(plan);
  // Above every epoch a live node holds, so each accepts it.
  plan.topology.epoch = topEpoch(reference, views) + 1;
  if (dead.size > 0) say(`>>> ${dead.size} master(s) do not answer: they leave the cluster`);
  if (plan.moved > 0) say(`>>> ${plan.moved} slots go to the masters that answer; they start empty (the keys that were in them are lost: a cache)`);
  await push(plan.topology, [...live.values()]);
  say(`[OK] All ${SLOTS} slots covered.`);
}

function linkOptions(o: Record<string, unknown>): LinkOptions {
  const timeoutMs = Number(o.timeout ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new ToolError('--timeout must be a positive number of milliseconds');
  return {
    user: o.user as string | undefined,
    pass: (o.pass as string | undefined) ?? process.env.REDISCLI_AUTH,
    tls: Boolean(o.tls), cacert: o.cacert as string | undefined, insecure: Boolean(o.insecure),
    timeoutMs,
  };
}

/**
 * Runs one subcommand (its arguments, its own options) with links closed at
 * the end, and errors as "[ERR] ..." with exit status 1.
 */
function action(run: (links: Links, args: string[], opts: Record<string, unknown>) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const positional = args.slice(0, -2).flat().map(String);
    let links: Links | null = null;
    try {
      links = new Links(linkOptions(cmd.optsWithGlobals()));
      await run(links, positional, cmd.opts());
    } catch (e) {
      process.stderr.write(`[ERR] ${(e as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      links?.closeAll();
    }
  };
}

const program = new Command('kvslab-cluster')
  .description('Create, check and repair a kvslab cluster (nodes started with cluster-enabled yes)')
  .option('--user <name>', 'ACL user to authenticate as')
  .option('-a, --pass <password>', 'password (or the REDISCLI_AUTH environment variable)')
  .option('--tls', 'connect with TLS')
  .option('--cacert <file>', 'CA certificate to verify the nodes with (with --tls)')
  .option('--insecure', 'do not verify the nodes\' certificates (with --tls)')
  .option('--timeout <ms>', 'connect and command timeout', '5000');

program.command('create').argument('<nodes...>', 'HOST:PORT of each empty cluster node')
  .description('make one cluster of empty nodes, the slots split evenly').action(action((l, a) => create(l, a)));
program.command('check').argument('<node>', 'HOST:PORT of any node')
  .description('exit 0 only when every node holds the same topology and all slots are covered').action(action((l, [a]) => check(l, a)));
program.command('info').argument('<node>', 'HOST:PORT of any node')
  .description('keys and slots per master').action(action((l, [a]) => info(l, a)));
program.command('add-node').argument('<new>', 'HOST:PORT of an empty cluster node').argument('<existing>', 'HOST:PORT of a node of the cluster')
  .description('add a master that owns no slots yet').action(action((l, [a, b]) => addNode(l, a, b)));
program.command('del-node').argument('<existing>', 'HOST:PORT of a node of the cluster').argument('<id>', 'node id of a master without slots')
  .description('remove a master that owns no slots').action(action((l, [a, b]) => delNode(l, a, b)));
program.command('fix').argument('<node>', 'HOST:PORT of a node that answers')
  .description('masters that do not answer leave; their slots go, empty, to the others; a half-done move is finished or rolled back; every node to one epoch')
  .action(action((l, [a]) => fix(l, a)));
program.command('reshard').argument('<node>', 'HOST:PORT of any node')
  .requiredOption('--from <id>', 'master to take the slots from').requiredOption('--to <id>', 'master to give them to')
  .requiredOption('--slots <n>', 'how many slots (its lowest first)')
  .description('move slots with their keys while clients go on')
  .action(action((l, [a], o) => reshard(l, a, String(o.from), String(o.to), Number(o.slots))));
program.command('rebalance').argument('<node>', 'HOST:PORT of any node')
  .option('--threshold <pct>', 'leave masters alone that are at most this far off their share', '2')
  .description('move slots until every master has an even share').action(action((l, [a], o) => rebalance(l, a, Number(o.threshold))));

await program.parseAsync(process.argv);
