// The text of INFO: Redis 7.0's sections and field names, filled from the
// server's statistics, so tools that parse INFO (ioredis's ready check,
// redis-cli --stat, monitoring agents) read kvslab like Redis. Fields for
// features kvslab does not have (persistence, replication) show the values an
// idle standalone Redis shows.

import os from 'node:os';
import { REDIS_VERSION, KVSLAB_VERSION } from '../version.js';
import { formatNumber } from '../config/directives.js';
import type { Config } from '../config/configuration.js';
import type { Store } from '../store/store.js';
import type { Handler, MemoryReport, ServerStats } from '../commands/context.js';
import type { CommandTable } from '../commands/model/command-table.js';
import type { StatsSampler } from '../monitor/stats-sampler.js';
import type { Persistence } from '../persistence/persistence.js';
import type { ClusterState } from '../cluster/cluster-state.js';

const DEFAULT_SECTIONS = [
  'server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace',
];
/** Every section, in the order INFO prints them; `slabs` is kvslab's own (one line per size class). */
const ALL_SECTIONS = [
  'server', 'clients', 'memory', 'slabs', 'persistence', 'stats', 'replication', 'cpu', 'modules',
  'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace',
];

/** What INFO reads of the server (the Server is one). */
export interface InfoSource {
  readonly config: Config;
  readonly store: Store;
  readonly stats: ServerStats;
  readonly sampler: StatsSampler;
  readonly commands: CommandTable<Handler>;
  readonly persistence: Persistence;
  readonly cluster: ClusterState | null;
  /** Error replies by their code (ERR, WRONGTYPE...), for errorstats. */
  readonly errorCodes: ReadonlyMap<string, number>;
  readonly clients: ReadonlyMap<number, { readonly reader: { pendingBytes(): number }; readonly pendingOutput: number }>;
  readonly runId: string;
  readonly port: number;
  readonly startTime: number;
  memoryReport(): MemoryReport;
}

/** Bytes as Redis's bytesToHuman prints them: 512B, 1.23K, 4.00M, 1.50G. */
function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/**
 * Resolves INFO's arguments to the sections to print: none means default;
 * "all" and "everything" mean every section; unknown names are ignored.
 */
export function selectSections(args: string[]): Set<string> {
  const out = new Set<string>();
  if (args.length === 0) {
    for (const s of DEFAULT_SECTIONS) out.add(s);
    return out;
  }
  for (const raw of args) {
    const a = raw.toLowerCase();
    if (a === 'all' || a === 'everything') for (const s of ALL_SECTIONS) out.add(s);
    else if (a === 'default') for (const s of DEFAULT_SECTIONS) out.add(s);
    else out.add(a);
  }
  return out;
}

type Fields = [string, string | number][];

/** The INFO text for the chosen sections: "# Name" headers, CRLF lines, a blank line between sections. */
export function buildInfo(server: InfoSource, sections: Set<string>): string {
  const parts: string[] = [];
  for (const name of ALL_SECTIONS) {
    if (!sections.has(name)) continue;
    const fields = SECTION_BUILDERS[name](server);
    const title = name === 'cpu' ? 'CPU' : name[0].toUpperCase() + name.slice(1);
    let text = `# ${title}\r\n`;
    for (const [k, v] of fields) text += `${k}:${v}\r\n`;
    parts.push(text);
  }
  return parts.join('\r\n');
}

function serverSection(server: InfoSource): Fields {
  const now = Date.now();
  const uptime = Math.floor((now - server.startTime) / 1000);
  const hz = server.config.int('hz');
  return [
    ['redis_version', REDIS_VERSION],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', '0'],
    ['redis_mode', server.cluster !== null ? 'cluster' : 'standalone'],
    ['kvslab_version', KVSLAB_VERSION],
    ['os', `${os.type()} ${os.release()} ${os.machine()}`],
    ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['node_version', process.versions.node],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', server.runId],
    ['tcp_port', server.port],
    ['server_time_usec', now * 1000],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', hz],
    ['configured_hz', hz],
    // Redis's LRU clock: seconds, 24 bits.
    ['lru_clock', Math.floor(now / 1000) & 0xffffff],
    ['executable', process.argv[1] ?? process.execPath],
    ['config_file', server.config.file],
    ['io_threads_active', 0],
  ];
}

function clientsSection(server: InfoSource): Fields {
  let maxIn = 0;
  let maxOut = 0;
  for (const c of server.clients.values()) {
    maxIn = Math.max(maxIn, c.reader.pendingBytes());
    maxOut = Math.max(maxOut, c.pendingOutput);
  }
  return [
    ['connected_clients', server.clients.size],
    ['cluster_connections', 0],
    ['maxclients', server.config.int('maxclients')],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', 0],
    ['tracking_clients', 0],
    ['clients_in_timeout_table', 0],
  ];
}

function memorySection(server: InfoSource): Fields {
  const m = server.memoryReport();
  const used = m.used;
  const rss = m.rss;
  const maxmemory = server.config.int('maxmemory');
  const total = os.totalmem();
  const startup = Math.min(m.startup, used);
  const dataset = used - startup;
  const pct = (a: number, b: number) => `${(b === 0 ? 0 : (a * 100) / b).toFixed(2)}%`;
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', bytesToHuman(rss)],
    ['used_memory_peak', m.peak],
    ['used_memory_peak_human', bytesToHuman(m.peak)],
    ['used_memory_peak_perc', pct(used, m.peak)],
    ['used_memory_overhead', startup],
    ['used_memory_startup', startup],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', pct(dataset, used)],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ['maxmemory', formatNumber(maxmemory)],
    ['maxmemory_human', bytesToHuman(maxmemory)],
    ['maxmemory_policy', server.config.str('maxmemory-policy')],
    ['mem_fragmentation_ratio', (used === 0 ? 0 : rss / used).toFixed(2)],
    ['mem_not_counted_for_evict', 0],
    ['mem_clients_normal', m.clientBuffers + m.replyBuffer],
    ['mem_allocator', 'slab'],
    // kvslab's own: where used_memory goes, and the runtime's heap (not counted in used_memory).
    ['used_memory_slabs', m.store.pages],
    ['used_memory_index', m.store.index],
    ['used_memory_large', m.store.large],
    ['used_memory_js_heap', m.jsHeap],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
  ];
}

/** Oldest-item ages look at this many slabs of a class at most, so INFO slabs stays cheap on big caches. */
const AGE_SLABS = 64;

/** kvslab's slab allocator: totals, then one line per size class in use. */
function slabsSection(server: InfoSource): Fields {
  const r = server.store.slabs();
  const out: Fields = [
    ['slab_page_size', r.pageSize],
    ['slab_growth_factor', server.config.num('slab-growth-factor')],
    ['slab_classes', r.classCount],
    ['slab_pages', r.pages],
    ['slab_pages_empty', r.emptyPages],
    ['slab_max_chunk', r.maxChunk],
    ['slab_idle_chunk_bytes', r.idleChunkBytes],
    ['large_values', r.largeValues],
    ['large_bytes', r.largeBytes],
    ['items', r.items],
    ['evictions', r.evictions],
  ];
  for (const c of r.classes) {
    const age = Math.floor(server.store.oldestIdleMs(c.cls, AGE_SLABS) / 1000);
    out.push([`class_${c.cls}`, `chunk_size=${c.chunkSize},slab_size=${c.unitsPerSlab * r.unitSize},slabs=${c.slabs},`
      + `chunks_per_slab=${c.chunksPerSlab},used_chunks=${c.used},free_chunks=${c.free},`
      + `evictions=${c.evictions},oldest_item_age=${age}`]);
  }
  return out;
}

function persistenceSection(server: InfoSource): Fields {
  return server.persistence.infoFields();
}

function statsSection(server: InfoSource): Fields {
  const st = server.stats;
  const ks = server.store.stats;
  const s = server.sampler;
  return [
    ['total_connections_received', st.totalConnections],
    ['total_commands_processed', st.totalCommands],
    ['instantaneous_ops_per_sec', s.opsPerSec],
    ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', s.inputKbps.toFixed(2)],
    ['instantaneous_output_kbps', s.outputKbps.toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections],
    ['sync_full', 0],
    ['sync_partial_ok', 0],
    ['sync_partial_err', 0],
    ['expired_keys', ks.expiredKeys],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['evicted_keys', ks.evictedKeys],
    ['kv_tail_trims', server.store.trims],
    ['evicted_clients', 0],
    ['keyspace_hits', ks.keyspaceHits],
    ['keyspace_misses', ks.keyspaceMisses],
    ['pubsub_channels', 0],
    ['pubsub_patterns', 0],
    ['pubsubshard_channels', 0],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['tracking_total_keys', 0],
    ['tracking_total_items', 0],
    ['tracking_total_prefixes', 0],
    ['unexpected_error_replies', 0],
    ['total_error_replies', st.errorReplies],
    ['total_reads_processed', 0],
    ['total_writes_processed', 0],
  ];
}

function replicationSection(server: InfoSource): Fields {
  return [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', server.runId],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', 1048576],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ];
}

function cpuSection(): Fields {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', sys],
    ['used_cpu_user', user],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', sys],
    ['used_cpu_user_main_thread', user],
  ];
}

function keyspaceSection(server: InfoSource): Fields {
  const out: Fields = [];
  for (const db of server.store.dbs) {
    if (db.size === 0) continue;
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.volatileSize},avg_ttl=0`]);
  }
  return out;
}

const none = (): Fields => [];

/** cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=.. for commands used. */
function commandstatsSection(s: InfoSource): Fields {
  const out: Fields = [];
  for (const spec of s.commands.all) {
    for (const x of [spec, ...spec.subcommands]) {
      const st = x.stats;
      if (st.calls === 0 && st.rejected === 0 && st.failed === 0) continue;
      const usec = Math.round(st.usec);
      const per = st.calls ? (st.usec / st.calls).toFixed(2) : '0.00';
      out.push([`cmdstat_${x.name}`, `calls=${st.calls},usec=${usec},usec_per_call=${per},rejected_calls=${st.rejected},failed_calls=${st.failed}`]);
    }
  }
  return out;
}

function errorstatsSection(s: InfoSource): Fields {
  return [...s.errorCodes].map(([code, n]) => [`errorstat_${code}`, `count=${n}`] as [string, string]);
}

const SECTION_BUILDERS: Record<string, (s: InfoSource) => Fields> = {
  server: serverSection,
  clients: clientsSection,
  memory: memorySection,
  slabs: slabsSection,
  persistence: persistenceSection,
  stats: statsSection,
  replication: replicationSection,
  cpu: cpuSection,
  modules: none,
  commandstats: commandstatsSection,
  errorstats: errorstatsSection,
  latencystats: none,
  cluster: (s) => [['cluster_enabled', s.cluster !== null ? 1 : 0]],
  keyspace: keyspaceSection,
};
