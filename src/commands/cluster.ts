// Cluster commands: CLUSTER (SLOTS SHARDS NODES INFO MYID MYSHARDID KEYSLOT
// HELP), READONLY, READWRITE, ASKING in Redis 7.0's formats, and KVCLUSTER,
// kvslab's own admin command that installs a topology pushed by a manager
// (src/cluster/topology.ts has the JSON format). Without cluster mode every
// one of them answers Redis's "This instance has cluster support disabled"
// (CLUSTER KEYSLOT and CLUSTER HELP too, as Redis 7.0 does).
//
// A node's host is the topology's; the emulated node without
// cluster-announce-ip reports the address the client connected to.
//
// COUNTKEYSINSLOT and GETKEYSINSLOT walk the database (O(N) in its keys;
// Redis keeps a per-slot list of keys): kvslab's own slot moves do not use
// them, so the store keeps no per-slot index yet.
//
// Slot migration (src/cluster/slot-export.ts) is driven by the manager with
// KVCLUSTER MIGRATESLOTS on the source (Valkey 9's names), which streams the
// keys to the target over a connection marked IMPORTSTREAM there;
// GETSLOTMIGRATIONS shows how it goes, CANCELSLOTMIGRATIONS stops it, and
// DELKEYSINSLOTSRANGE removes what a cancelled migration left on the target.

import type { CommandContext, Handler } from './context.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_CONNECTION, CMD_ADMIN, CMD_FAST, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';
import { replyHelp } from './help.js';
import { keyHashSlot, SLOTS } from '../cluster/keyslot.js';
import { argIs, ERR_SYNTAX, intOrReply } from './args.js';
import { purgeSlots } from '../cluster/slot-export.js';
import { SlotWalk } from '../cluster/slot-walk.js';
import { derivedShardId, type ClusterNode, type Shard } from '../cluster/topology.js';
import type { ClusterState } from '../cluster/cluster-state.js';

const ERR_DISABLED = 'ERR This instance has cluster support disabled';

type ClusterHandler = (c: CommandContext, cluster: ClusterState, argv: Buffer[]) => void;

/** The handler, run only in cluster mode; otherwise Redis's error. */
function inCluster(h: ClusterHandler): Handler {
  return (c, argv) => {
    const cluster = c.server.cluster;
    if (cluster === null) return c.addError(ERR_DISABLED);
    h(c, cluster, argv);
  };
}

/** The IP the client connected to (laddr "ip:port"; an IPv4-mapped address shown as IPv4). */
function localIp(c: CommandContext): string {
  const colon = c.laddr.lastIndexOf(':');
  const ip = colon < 0 ? c.laddr : c.laddr.slice(0, colon);
  // A unix-socket client has a path there: the loopback address is where it is.
  if (ip.includes('/') || ip === '') return '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function hostOf(c: CommandContext, node: ClusterNode): string {
  return node.host !== '' ? node.host : localIp(c);
}

/**
 * Every shard to report: the topology's, and this node as a master without
 * slots when the topology does not name it (as a fresh Redis node shows itself).
 */
function shardsWithMe(cluster: ClusterState): readonly Shard[] {
  const shards = cluster.topology.shards;
  if (cluster.myShard >= 0) return shards;
  return [...shards, { id: derivedShardId(cluster.myId), master: cluster.myself(), ranges: [] }];
}

/** The port a client should use: the TLS port for a client on TLS when the node has one (Redis's with tls-cluster). */
function portFor(c: CommandContext, node: ClusterNode): number {
  return c.tls && node.tlsPort ? node.tlsPort : node.port;
}

/** [host, port, id, {extra metadata}] (Redis's addNodeToNodeReply with the IP as preferred endpoint). */
function replyNode(c: CommandContext, node: ClusterNode): void {
  c.addArrayLen(4);
  c.addBulkString(hostOf(c, node));
  c.addInt(portFor(c, node));
  c.addBulkString(node.id);
  c.addMapLen(0);
}

function slots(c: CommandContext, cluster: ClusterState): void {
  const t = cluster.topology;
  c.addArrayLen(t.ranges.length);
  for (const r of t.ranges) {
    c.addArrayLen(3);
    c.addInt(r.start);
    c.addInt(r.end);
    replyNode(c, t.shards[r.shard].master);
  }
}

/** One node of CLUSTER SHARDS: a map, as Redis's addNodeDetailsToShardReply. */
function replyShardNode(c: CommandContext, node: ClusterNode): void {
  c.addMapLen(node.tlsPort ? 8 : 7);
  c.addBulkString('id'); c.addBulkString(node.id);
  c.addBulkString('port'); c.addInt(node.port);
  if (node.tlsPort) { c.addBulkString('tls-port'); c.addInt(node.tlsPort); }
  const host = hostOf(c, node);
  c.addBulkString('ip'); c.addBulkString(host);
  c.addBulkString('endpoint'); c.addBulkString(host);
  c.addBulkString('role'); c.addBulkString('master');
  c.addBulkString('replication-offset'); c.addInt(0);
  c.addBulkString('health'); c.addBulkString('online');
}

function shards(c: CommandContext, cluster: ClusterState): void {
  const all = shardsWithMe(cluster);
  c.addArrayLen(all.length);
  for (const sh of all) {
    c.addMapLen(2);
    c.addBulkString('slots');
    c.addArrayLen(sh.ranges.length * 2);
    for (const [a, b] of sh.ranges) { c.addInt(a); c.addInt(b); }
    c.addBulkString('nodes');
    c.addArrayLen(1);
    replyShardNode(c, sh.master);
  }
}

/**
 * CLUSTER NODES: one line per node, Redis's clusterGenNodeDescription:
 * `<id> <ip>:<port>@<cport> <flags> <master|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slots...>`.
 * There is no cluster bus: its port is shown as 0.
 */
function nodes(c: CommandContext, cluster: ClusterState): void {
  const epoch = cluster.currentEpoch;
  let text = '';
  for (const sh of shardsWithMe(cluster)) {
    const n = sh.master;
    const me = n.id === cluster.myId;
    const ranges = sh.ranges.map(([a, b]) => (a === b ? ` ${a}` : ` ${a}-${b}`)).join('');
    text += `${n.id} ${hostOf(c, n)}:${portFor(c, n)}@0 ${me ? 'myself,master' : 'master'} - 0 0 ${sh.ranges.length > 0 ? epoch : 0} connected${ranges}\n`;
  }
  c.addVerbatim(text);
}

function info(c: CommandContext, cluster: ClusterState): void {
  const t = cluster.topology;
  const known = t.shards.length + (cluster.myShard >= 0 ? 0 : 1);
  const size = t.shards.filter((s) => s.ranges.length > 0).length;
  c.addVerbatim([
    `cluster_state:${cluster.isDown ? 'fail' : 'ok'}`,
    `cluster_slots_assigned:${t.assigned}`,
    `cluster_slots_ok:${t.assigned}`,
    'cluster_slots_pfail:0',
    'cluster_slots_fail:0',
    `cluster_known_nodes:${known}`,
    `cluster_size:${size}`,
    `cluster_current_epoch:${cluster.currentEpoch}`,
    `cluster_my_epoch:${cluster.myShard >= 0 ? cluster.currentEpoch : 0}`,
    // No cluster bus: no messages.
    'cluster_stats_messages_sent:0',
    'cluster_stats_messages_received:0',
    'total_cluster_links_buffer_limit_exceeded:0',
    '',
  ].join('\r\n'));
}

function myid(c: CommandContext, cluster: ClusterState): void {
  c.addBulkString(cluster.myId);
}

function myshardid(c: CommandContext, cluster: ClusterState): void {
  const mine = cluster.myShard;
  c.addBulkString(mine >= 0 ? cluster.topology.shards[mine].id : derivedShardId(cluster.myId));
}

function keyslot(c: CommandContext, _cluster: ClusterState, argv: Buffer[]): void {
  c.addInt(keyHashSlot(argv[2]));
}

/**
 * Visits the keys of db 0 (the only one in cluster mode) that hash to
 * `slot`, expired or not yet reclaimed too (as Redis counts them), until
 * `visit` returns false.
 */
function keysInSlot(c: CommandContext, slot: number, visit: (h: number) => boolean): void {
  const slots = new Uint8Array(SLOTS);
  slots[slot] = 1;
  const walker = new SlotWalk(c.db, slots);
  while (!walker.done) for (const h of walker.step()) if (!visit(h)) return;
}

function countkeysinslot(c: CommandContext, _cluster: ClusterState, argv: Buffer[]): void {
  const slot = intOrReply(c, argv[2]);
  if (slot === null) return;
  if (slot < 0 || slot >= SLOTS) return c.addError('ERR Invalid slot');
  let n = 0;
  keysInSlot(c, slot, () => { n++; return true; });
  c.addInt(n);
}

function getkeysinslot(c: CommandContext, _cluster: ClusterState, argv: Buffer[]): void {
  const slot = intOrReply(c, argv[2]);
  if (slot === null) return;
  const max = intOrReply(c, argv[3]);
  if (max === null) return;
  if (slot < 0 || slot >= SLOTS || max < 0) return c.addError('ERR Invalid slot or number of keys');
  const keys: Buffer[] = [];
  if (max > 0) keysInSlot(c, slot, (h) => keys.push(c.db.key(h)) < max);
  c.addArrayLen(keys.length);
  for (const k of keys) c.addBulk(k);
}

function clusterHelp(c: CommandContext): void {
  replyHelp(c, 'CLUSTER', [
    'COUNTKEYSINSLOT <slot>',
    '    Return the number of keys in <slot>.',
    'GETKEYSINSLOT <slot> <count>',
    '    Return key names stored by current node in a slot.',
    'INFO',
    '    Return information about the cluster.',
    'KEYSLOT <key>',
    '    Return the hash slot for <key>.',
    'MYID',
    '    Return the node id.',
    'MYSHARDID',
    '    Return the node\'s shard id.',
    'NODES',
    '    Return cluster configuration seen by node. Output format:',
    '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
    'SLOTS',
    '    Return information about slots range mappings. Each range is made of:',
    '    start, end, master and replicas IP addresses, ports and ids',
    'SHARDS',
    '    Return information about slot range mappings and the nodes associated with them.',
  ]);
}

/** READONLY, READWRITE, ASKING: accepted; without replicas or slot moves they change nothing yet. */
function ok(c: CommandContext): void {
  c.addOk();
}

function kvConfig(c: CommandContext, cluster: ClusterState, argv: Buffer[]): void {
  const refused = cluster.install(argv[2].toString('utf8'));
  if (refused !== null) return c.addError(`ERR ${refused}`);
  c.server.log('notice', `Cluster topology of epoch ${cluster.currentEpoch} installed: ${cluster.topology.assigned} slots assigned, ${cluster.myShard >= 0 ? cluster.topology.shards[cluster.myShard].ranges.length : 0} ranges here`);
  c.addOk();
}

function kvGetConfig(c: CommandContext, cluster: ClusterState): void {
  c.addBulkString(JSON.stringify(cluster.topology.toJSON()));
}

/** `start end` pairs from argv[from] until a word that is not a number: the ranges and the next index, or null once replied. */
function slotRangesOrReply(c: CommandContext, argv: Buffer[], from: number): { ranges: [number, number][]; next: number } | null {
  const ranges: [number, number][] = [];
  let j = from;
  while (j + 1 < argv.length && /^-?\d+$/.test(argv[j].toString('latin1'))) {
    const a = intOrReply(c, argv[j]);
    if (a === null) return null;
    const b = intOrReply(c, argv[j + 1]);
    if (b === null) return null;
    if (a < 0 || b >= SLOTS || a > b) {
      c.addError(`ERR Invalid slot range ${a}-${b}`);
      return null;
    }
    ranges.push([a, b]);
    j += 2;
  }
  if (ranges.length === 0) {
    c.addError(ERR_SYNTAX);
    return null;
  }
  return { ranges, next: j };
}

/** KVCLUSTER MIGRATESLOTS SLOTSRANGE start end [start end ...] TO host port [AUTH password | AUTH2 user password] [TIMEOUT ms] */
function kvMigrateSlots(c: CommandContext, cluster: ClusterState, argv: Buffer[]): void {
  if (!argIs(argv[2], 'slotsrange')) return c.addError(ERR_SYNTAX);
  const r = slotRangesOrReply(c, argv, 3);
  if (r === null) return;
  let j = r.next;
  if (j + 2 >= argv.length || !argIs(argv[j], 'to')) return c.addError(ERR_SYNTAX);
  const host = argv[j + 1].toString('utf8');
  const port = intOrReply(c, argv[j + 2]);
  if (port === null) return;
  if (port < 1 || port > 65535) return c.addError('ERR Invalid TCP port');
  let user: Buffer | undefined;
  let password: Buffer | undefined;
  let timeoutMs = 10_000;
  for (j += 3; j < argv.length; j++) {
    const more = argv.length - j - 1;
    if (argIs(argv[j], 'auth') && more >= 1) {
      password = argv[++j];
    } else if (argIs(argv[j], 'auth2') && more >= 2) {
      user = argv[++j];
      password = argv[++j];
    } else if (argIs(argv[j], 'timeout') && more >= 1) {
      const t = intOrReply(c, argv[++j]);
      if (t === null) return;
      if (t <= 0) return c.addError('ERR TIMEOUT must be positive');
      timeoutMs = t;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  const refused = cluster.migrate(c.db, { host, port, ranges: r.ranges, user, password, compression: c.server.config.bool('rdbcompression'), timeoutMs }, (l, m) => c.server.log(l, m), () => c.server.stats.totalCommands);
  if (refused !== null) return c.addError(`ERR ${refused}`);
  c.addOk();
}

/** KVCLUSTER GETSLOTMIGRATIONS: the latest migration from this node (empty array before the first). */
function kvGetSlotMigrations(c: CommandContext, cluster: ClusterState): void {
  const m = cluster.migration;
  if (m === null) return c.addArrayLen(0);
  c.addArrayLen(1);
  c.addMapLen(9);
  c.addBulkString('state'); c.addBulkString(m.state);
  c.addBulkString('target'); c.addBulkString(m.target);
  c.addBulkString('ranges'); c.addBulkString(m.rangesText);
  c.addBulkString('slots'); c.addInt(m.slotCount);
  c.addBulkString('keys-sent'); c.addInt(m.keysSent);
  c.addBulkString('bytes-sent'); c.addInt(m.bytesSent);
  c.addBulkString('rounds'); c.addInt(m.rounds);
  c.addBulkString('elapsed-ms'); c.addInt(Date.now() - m.startedAt);
  c.addBulkString('error'); c.addBulkString(m.error ?? '');
}

function kvCancelSlotMigrations(c: CommandContext, cluster: ClusterState): void {
  if (!cluster.migration?.running) return c.addError('ERR no slot migration is running');
  cluster.migration.cancel();
  c.addOk();
}

/** KVCLUSTER IMPORTSTREAM: this connection brings a migration's keys: no slot check for its commands. */
function kvImportStream(c: CommandContext): void {
  c.importStream = true;
  c.addOk();
}

/** KVCLUSTER DELKEYSINSLOTSRANGE start end [...]: deletes the keys of slots this node does not serve (a cancelled import's). */
function kvDelKeysInSlotsRange(c: CommandContext, cluster: ClusterState, argv: Buffer[]): void {
  const r = slotRangesOrReply(c, argv, 2);
  if (r === null) return;
  if (r.next !== argv.length) return c.addError(ERR_SYNTAX);
  const slots = new Uint8Array(SLOTS);
  for (const [a, b] of r.ranges) {
    for (let s = a; s <= b; s++) {
      if (cluster.ownsSlot(s)) return c.addError(`ERR slot ${s} is served by this node`);
      slots[s] = 1;
    }
  }
  let n = 0;
  purgeSlots(c.db, slots, (deleted) => { n = deleted; }, Infinity);
  c.addInt(n);
}

function kvHelp(c: CommandContext): void {
  replyHelp(c, 'KVCLUSTER', [
    'CONFIG <json>',
    '    Install a topology (a higher epoch than the current one); written to cluster-config-file first.',
    'GETCONFIG',
    '    Return the installed topology as JSON.',
    'MIGRATESLOTS SLOTSRANGE <start> <end> [<start> <end> ...] TO <host> <port> [AUTH <password> | AUTH2 <user> <password>] [TIMEOUT <ms>]',
    '    Stream the keys of these slots to the node at host:port; ready once it holds them (see GETSLOTMIGRATIONS).',
    'GETSLOTMIGRATIONS',
    '    Return the state of the latest slot migration from this node.',
    'CANCELSLOTMIGRATIONS',
    '    Stop the running slot migration: the slots stay here.',
    'IMPORTSTREAM',
    '    Mark this connection as a migration stream: its commands skip the slot check.',
    'DELKEYSINSLOTSRANGE <start> <end> [<start> <end> ...]',
    '    Delete the keys of slots this node does not serve (what a cancelled migration left).',
    'MYID',
    '    Return the node id.',
  ]);
}

const group = 'cluster';
const nondeterministic = ['nondeterministic_output'];
const ADMIN = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;

// Arity, flags and ACL categories as Redis 7.0.15's src/commands/*.json (MYSHARDID: 7.2's).
export const clusterCommands: CommandDef<Handler>[] = [
  {
    name: 'cluster', arity: -2,
    docs: { summary: 'A container for cluster commands.', since: '3.0.0', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'cluster|slots', arity: 2, flags: CMD_STALE, handler: inCluster(slots), tips: nondeterministic,
        docs: { summary: 'Returns the mapping of cluster slots to nodes.', since: '3.0.0', group, complexity: 'O(N) where N is the total number of Cluster nodes' },
      },
      {
        name: 'cluster|shards', arity: 2, flags: CMD_STALE, handler: inCluster(shards), tips: nondeterministic,
        docs: { summary: 'Returns the mapping of cluster slots to shards.', since: '7.0.0', group, complexity: 'O(N) where N is the total number of cluster nodes' },
      },
      {
        name: 'cluster|nodes', arity: 2, flags: CMD_STALE, handler: inCluster(nodes), tips: nondeterministic,
        docs: { summary: 'Returns the cluster configuration for a node.', since: '3.0.0', group, complexity: 'O(N) where N is the total number of Cluster nodes' },
      },
      {
        name: 'cluster|info', arity: 2, flags: CMD_STALE, handler: inCluster(info), tips: nondeterministic,
        docs: { summary: 'Returns information about the state of a node.', since: '3.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'cluster|myid', arity: 2, flags: CMD_STALE, handler: inCluster(myid),
        docs: { summary: 'Returns the ID of a node.', since: '3.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'cluster|myshardid', arity: 2, flags: CMD_STALE, handler: inCluster(myshardid), tips: nondeterministic,
        docs: { summary: 'Returns the shard ID of a node.', since: '7.2.0', group, complexity: 'O(1)' },
      },
      {
        name: 'cluster|keyslot', arity: 3, flags: CMD_STALE, handler: inCluster(keyslot),
        docs: { summary: 'Returns the hash slot for a key.', since: '3.0.0', group, complexity: 'O(N) where N is the number of bytes in the key', syntax: 'key' },
      },
      {
        name: 'cluster|countkeysinslot', arity: 3, flags: CMD_STALE, handler: inCluster(countkeysinslot),
        docs: { summary: 'Returns the number of keys in a hash slot.', since: '3.0.0', group, complexity: 'O(N) where N is the number of keys in the database (kvslab keeps no per-slot index)', syntax: 'slot' },
      },
      {
        name: 'cluster|getkeysinslot', arity: 4, flags: CMD_STALE, handler: inCluster(getkeysinslot), tips: nondeterministic,
        docs: { summary: 'Returns the key names in a hash slot.', since: '3.0.0', group, complexity: 'O(N) where N is the number of keys in the database (kvslab keeps no per-slot index)', syntax: 'slot count' },
      },
      {
        name: 'cluster|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: inCluster(clusterHelp),
        docs: { summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', group, complexity: 'O(1)' },
      },
    ],
  },
  {
    name: 'readonly', arity: 1, flags: CMD_FAST | CMD_LOADING | CMD_STALE, acl: ACL_CONNECTION, handler: inCluster(ok),
    docs: { summary: 'Enables read-only queries for a connection to a Redis Cluster replica node.', since: '3.0.0', group, complexity: 'O(1)' },
  },
  {
    name: 'readwrite', arity: 1, flags: CMD_FAST | CMD_LOADING | CMD_STALE, acl: ACL_CONNECTION, handler: inCluster(ok),
    docs: { summary: 'Enables read-write queries for a connection to a Redis Cluster replica node.', since: '3.0.0', group, complexity: 'O(1)' },
  },
  {
    name: 'asking', arity: 1, flags: CMD_FAST, acl: ACL_CONNECTION, handler: inCluster(ok),
    docs: { summary: 'Signals that a cluster client is following an -ASK redirect.', since: '3.0.0', group, complexity: 'O(1)' },
  },
  {
    name: 'kvcluster', arity: -2,
    docs: { summary: 'Installs and shows the topology a cluster manager pushes (kvslab).', since: '0.1.0', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'kvcluster|config', arity: 3, flags: ADMIN, handler: inCluster(kvConfig),
        docs: { summary: 'Installs a topology of a higher epoch, after writing it to cluster-config-file.', since: '0.1.0', group, complexity: 'O(N) where N is the number of slots', syntax: 'json' },
      },
      {
        name: 'kvcluster|getconfig', arity: 2, flags: ADMIN, handler: inCluster(kvGetConfig),
        docs: { summary: 'Returns the installed topology as JSON.', since: '0.1.0', group, complexity: 'O(N) where N is the number of shards' },
      },
      {
        name: 'kvcluster|myid', arity: 2, flags: ADMIN, handler: inCluster(myid),
        docs: { summary: 'Returns the ID of this node.', since: '0.1.0', group, complexity: 'O(1)' },
      },
      {
        name: 'kvcluster|migrateslots', arity: -8, flags: ADMIN, handler: inCluster(kvMigrateSlots),
        docs: { summary: 'Streams the keys of slots to another node, for a move of their ownership.', since: '0.1.0', group, complexity: 'O(N) where N is the number of keys in the database', syntax: 'SLOTSRANGE start end [start end ...] TO host port [AUTH password | AUTH2 username password] [TIMEOUT ms]' },
      },
      {
        name: 'kvcluster|getslotmigrations', arity: 2, flags: ADMIN, handler: inCluster(kvGetSlotMigrations),
        docs: { summary: 'Returns the state of the latest slot migration from this node.', since: '0.1.0', group, complexity: 'O(1)' },
      },
      {
        name: 'kvcluster|cancelslotmigrations', arity: 2, flags: ADMIN, handler: inCluster(kvCancelSlotMigrations),
        docs: { summary: 'Stops the running slot migration; the slots stay on this node.', since: '0.1.0', group, complexity: 'O(1)' },
      },
      {
        name: 'kvcluster|importstream', arity: 2, flags: ADMIN, handler: inCluster(kvImportStream),
        docs: { summary: 'Marks the connection as a slot migration\'s stream: its commands skip the slot check.', since: '0.1.0', group, complexity: 'O(1)' },
      },
      {
        name: 'kvcluster|delkeysinslotsrange', arity: -4, flags: ADMIN, handler: inCluster(kvDelKeysInSlotsRange),
        docs: { summary: 'Deletes the keys of slots this node does not serve.', since: '0.1.0', group, complexity: 'O(N) where N is the number of keys in the database', syntax: 'start end [start end ...]' },
      },
      {
        name: 'kvcluster|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: inCluster(kvHelp),
        docs: { summary: 'Explains the KVCLUSTER subcommands.', since: '0.1.0', group, complexity: 'O(1)' },
      },
    ],
  },
];
