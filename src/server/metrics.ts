// The metrics listener (metrics-port, metrics-bind): Prometheus text at
// /metrics, a JSON snapshot at /stats.json and the status page at /.
//
// Nothing here runs on the request path: every figure is read when scraped,
// from what the server keeps anyway (Server.stats, the command table's
// counters and latency buckets, Server.memoryReport, the store's slab
// report), through collect() callbacks
// of a private prom-client Registry. KV tensor totals come from a census that
// scans the keyspace a bounded number of entries at a time (TensorCensus).

import http from 'node:http';
import type net from 'node:net';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Server } from './server.js';
import { BUCKET_US } from '../monitor/latency-histogram.js';
import { ValueType } from '../store/types.js';
import type { SlabClassReport } from '../store/store.js';
import type { MemoryReport } from '../commands/context.js';
import { minLength, readTensor } from '../tensor/layout.js';
import { KVSLAB_VERSION, REDIS_VERSION } from '../version.js';
import { STATUS_PAGE } from './status-page.js';

// ---------------------------------------------------------------------------
// KV tensor census

/** Entries looked at per census step, and the least time between steps (ms). */
const CENSUS_BUDGET = 65536;
const CENSUS_PERIOD_MS = 500;

export interface TensorTotals { keys: number; tokens: number; bytes: number }

/**
 * Counts KV tensor keys, their committed tokens and bytes. Each step
 * scans at most CENSUS_BUDGET entries (SCAN's cursor, database after
 * database) and the totals are published when a pass ends: exact on a
 * keyspace that fits in one step, a pass a few scrapes old on a larger one.
 * Counting in the KV.* handlers would miss keys that leave by DEL, expiry
 * or eviction; this costs nothing between scrapes.
 */
class TensorCensus {
  private db = 0;
  private cursor = 0;
  private partial: TensorTotals = { keys: 0, tokens: 0, bytes: 0 };
  totals: TensorTotals = { keys: 0, tokens: 0, bytes: 0 };
  private lastStep = 0;

  constructor(private readonly server: Server) {}

  /** Advances the census (at most once per CENSUS_PERIOD_MS) and returns the latest complete totals. */
  read(): TensorTotals {
    const now = Date.now();
    if (now - this.lastStep >= CENSUS_PERIOD_MS) {
      this.lastStep = now;
      this.step();
    }
    return this.totals;
  }

  private step(): void {
    const dbs = this.server.store.dbs;
    const p = this.partial;
    const now = this.server.clock;
    let budget = CENSUS_BUDGET;
    while (budget > 0) {
      const t = dbs[this.db];
      this.cursor = t.scanStep(this.cursor, (h) => {
        budget--;
        if (t.type(h) !== ValueType.KvTensor) return;
        const at = t.expireAt(h);
        if (at !== 0 && at <= now) return;
        const s = t.valueSpan(h);
        const tensor = readTensor(s.buf, s.start);
        const tokens = minLength(s.buf, s.start, 0, tensor.layers);
        p.keys++;
        p.tokens += tokens;
        // As KV.INFO's "bytes": the committed tokens' rows, every layer, K and V.
        p.bytes += tokens * tensor.kv * tensor.layers * tensor.row;
      });
      if (this.cursor !== 0) continue;
      if (++this.db < dbs.length) continue;
      // A pass is complete: publish it; the next step starts the next pass.
      this.db = 0;
      this.totals = p;
      this.partial = { keys: 0, tokens: 0, bytes: 0 };
      return;
    }
  }
}

/** The parts of memory /metrics and the status page chart, from the server's one report. */
function memoryParts(m: MemoryReport): { slabs: number; index: number; large: number; clients: number; jsHeap: number } {
  return { slabs: m.store.pages, index: m.store.index, large: m.store.large, clients: m.clientBuffers + m.replyBuffer, jsHeap: m.jsHeap };
}

// ---------------------------------------------------------------------------
// Prometheus

/** The per-command latency histogram, read from dispatch's bucket counters (prom-client's Histogram only observes). */
class CommandDurations {
  readonly name = 'kvslab_command_duration_seconds';
  readonly help = 'Command execution time, by command (LATENCY HISTOGRAM buckets)';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly server: Server) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string>; value: number }[] } {
    const values = [];
    for (const s of this.server.commands.everyCommand()) {
      const hist = s.stats.hist;
      if (!hist) continue;
      let cumulative = 0;
      // The last bucket also holds everything over a second: it is +Inf.
      for (let k = 0; k < hist.length - 1; k++) {
        cumulative += hist[k];
        values.push({ metricName: `${this.name}_bucket`, labels: { cmd: s.name, le: String(BUCKET_US[k] / 1e6) }, value: cumulative });
      }
      cumulative += hist[hist.length - 1];
      values.push({ metricName: `${this.name}_bucket`, labels: { cmd: s.name, le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: { cmd: s.name }, value: s.stats.usec / 1e6 });
      values.push({ metricName: `${this.name}_count`, labels: { cmd: s.name }, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

/** Every command and subcommand that has been called, with its counters. */
function calledCommands(server: Server): { name: string; calls: number; failed: number; rejected: number }[] {
  const out = [];
  for (const s of server.commands.everyCommand()) {
    const st = s.stats;
    if (st.calls > 0 || st.failed > 0 || st.rejected > 0) out.push({ name: s.name, calls: st.calls, failed: st.failed, rejected: st.rejected });
  }
  return out;
}

function buildRegistry(server: Server, census: TensorCensus): Registry {
  const registry = new Registry();
  const registers = [registry];
  const st = () => server.stats;
  /** A gauge whose value is read at scrape time. */
  const gauge = (name: string, help: string, read: () => number) => new Gauge({
    name, help, registers, collect() { this.set(read()); },
  });
  /** A counter read at scrape time from a running total the server keeps. */
  const counter = (name: string, help: string, read: () => number) => new Counter({
    name, help, registers, collect() { this.reset(); this.inc(read()); },
  });

  new Gauge({
    name: 'kvslab_info', help: 'Versions of this server (value is always 1)', registers,
    labelNames: ['version', 'redis_version', 'node_version', 'maxmemory_policy'] as const,
    collect() {
      this.reset();
      this.set({ version: KVSLAB_VERSION, redis_version: REDIS_VERSION, node_version: process.versions.node, maxmemory_policy: server.config.str('maxmemory-policy') }, 1);
    },
  });
  gauge('kvslab_uptime_seconds', 'Seconds since the server started', () => Math.floor((Date.now() - server.startTime) / 1000));
  gauge('kvslab_connected_clients', 'Client connections open now', () => server.clients.size);
  gauge('kvslab_maxclients', 'The maxclients limit', () => server.config.int('maxclients'));
  counter('kvslab_connections_received_total', 'Connections accepted since start', () => st().totalConnections);
  counter('kvslab_rejected_connections_total', 'Connections refused (maxclients)', () => st().rejectedConnections);
  counter('kvslab_commands_processed_total', 'Commands run since start (or CONFIG RESETSTAT)', () => st().totalCommands);
  gauge('kvslab_instantaneous_ops_per_second', 'Commands per second over the last 1.6 s (INFO instantaneous_ops_per_sec)', () => server.sampler.opsPerSec);
  counter('kvslab_error_replies_total', 'Error replies sent', () => st().errorReplies);
  counter('kvslab_net_input_bytes_total', 'Bytes read from clients', () => st().netInputBytes);
  counter('kvslab_net_output_bytes_total', 'Bytes written to clients', () => st().netOutputBytes);

  new Counter({
    name: 'kvslab_commands_total', help: 'Calls by command (INFO commandstats)', registers, labelNames: ['cmd'] as const,
    collect() {
      this.reset();
      for (const c of calledCommands(server)) this.inc({ cmd: c.name }, c.calls);
    },
  });
  new Counter({
    name: 'kvslab_commands_failed_total', help: 'Calls that replied with an error, by command', registers, labelNames: ['cmd'] as const,
    collect() {
      this.reset();
      for (const c of calledCommands(server)) this.inc({ cmd: c.name }, c.failed);
    },
  });
  new Counter({
    name: 'kvslab_commands_rejected_total', help: 'Commands refused before running (arity, OOM, ...), by command', registers, labelNames: ['cmd'] as const,
    collect() {
      this.reset();
      for (const c of calledCommands(server)) this.inc({ cmd: c.name }, c.rejected);
    },
  });
  registry.registerMetric(new CommandDurations(server) as unknown as Metric);

  counter('kvslab_keyspace_hits_total', 'Key lookups that found the key', () => server.store.stats.keyspaceHits);
  counter('kvslab_keyspace_misses_total', 'Key lookups that found no key', () => server.store.stats.keyspaceMisses);
  counter('kvslab_evicted_keys_total', 'Keys evicted to stay within maxmemory', () => server.store.stats.evictedKeys);
  counter('kvslab_expired_keys_total', 'Keys removed because their TTL passed', () => server.store.stats.expiredKeys);
  new Gauge({
    name: 'kvslab_db_keys', help: 'Keys per database', registers, labelNames: ['db'] as const,
    collect() {
      this.reset();
      for (const db of server.store.dbs) if (db.size > 0) this.set({ db: String(db.id) }, db.size);
    },
  });
  new Gauge({
    name: 'kvslab_db_keys_expiring', help: 'Keys with a TTL per database', registers, labelNames: ['db'] as const,
    collect() {
      this.reset();
      for (const db of server.store.dbs) if (db.size > 0) this.set({ db: String(db.id) }, db.volatileSize);
    },
  });

  gauge('kvslab_memory_used_bytes', 'Memory counted against maxmemory (INFO used_memory)', () => server.memoryReport().used);
  gauge('kvslab_memory_peak_bytes', 'Highest used_memory seen', () => server.memoryReport().peak);
  gauge('kvslab_memory_max_bytes', 'maxmemory (0: no limit)', () => server.config.int('maxmemory'));
  gauge('kvslab_memory_rss_bytes', 'Resident set size of the process', () => process.memoryUsage.rss());
  new Gauge({
    name: 'kvslab_memory_bytes', help: 'Memory by part: slabs, index, large values, client buffers (in used_memory) and the JS heap (not in it)',
    registers, labelNames: ['part'] as const,
    collect() {
      const p = memoryParts(server.memoryReport());
      this.set({ part: 'slabs' }, p.slabs);
      this.set({ part: 'index' }, p.index);
      this.set({ part: 'large' }, p.large);
      this.set({ part: 'clients' }, p.clients);
      this.set({ part: 'js_heap' }, p.jsHeap);
    },
  });
  const slabGauge = (name: string, help: string, read: (c: SlabClassReport) => number) => new Gauge({
    name, help, registers, labelNames: ['class', 'chunk_size'] as const,
    collect() {
      this.reset();
      for (const c of server.store.slabs().classes) this.set({ class: String(c.cls), chunk_size: String(c.chunkSize) }, read(c));
    },
  });
  slabGauge('kvslab_slab_class_bytes', 'Bytes of slabs held by each size class (INFO slabs)', (c) => c.bytes);
  slabGauge('kvslab_slab_class_used_chunks', 'Chunks in use per size class', (c) => c.used);
  slabGauge('kvslab_slab_class_free_chunks', 'Free chunks per size class', (c) => c.free);
  new Counter({
    name: 'kvslab_slab_class_evictions_total', help: 'Evictions per size class', registers, labelNames: ['class'] as const,
    collect() {
      this.reset();
      for (const c of server.store.slabs().classes) this.inc({ class: String(c.cls) }, c.evictions);
    },
  });
  gauge('kvslab_slab_pages', 'Slab pages taken from the system', () => server.store.slabs().pages);
  gauge('kvslab_items', 'Items in the slab arena (all databases)', () => server.store.slabs().items);

  gauge('kvslab_kv_tensor_keys', 'KV tensor keys (census by bounded scans, see README)', () => census.read().keys);
  gauge('kvslab_kv_tensor_tokens', 'Committed tokens over all KV tensor keys', () => census.read().tokens);
  gauge('kvslab_kv_tensor_bytes', 'Bytes of the committed tokens of all KV tensor keys (as KV.INFO bytes)', () => census.read().bytes);
  gauge('kvslab_slowlog_length', 'Entries in the slow log', () => server.slowLog.length);
  return registry;
}

// ---------------------------------------------------------------------------
// /stats.json

/** The status page's figures: small, so it can be fetched every second. */
function snapshot(server: Server, census: TensorCensus): unknown {
  const st = server.stats;
  const ks = server.store.stats;
  const mem = server.memoryReport();
  return {
    version: KVSLAB_VERSION,
    redis_version: REDIS_VERSION,
    port: server.port,
    time: Date.now(),
    uptime: Math.floor((Date.now() - server.startTime) / 1000),
    clients: server.clients.size,
    maxclients: server.config.int('maxclients'),
    ops_per_sec: server.sampler.opsPerSec,
    total_commands: st.totalCommands,
    hits: ks.keyspaceHits,
    misses: ks.keyspaceMisses,
    evicted: ks.evictedKeys,
    expired: ks.expiredKeys,
    net_in: st.netInputBytes,
    net_out: st.netOutputBytes,
    used_memory: mem.used,
    peak_memory: mem.peak,
    rss: mem.rss,
    maxmemory: server.config.int('maxmemory'),
    policy: server.config.str('maxmemory-policy'),
    memory: memoryParts(mem),
    dbs: server.store.dbs.filter((db) => db.size > 0).map((db) => ({ db: db.id, keys: db.size, expires: db.volatileSize })),
    slabs: server.store.slabs().classes.map((c) => ({
      cls: c.cls, chunk: c.chunkSize, bytes: c.bytes, used: c.used, free: c.free, evictions: c.evictions,
    })),
    tensors: census.read(),
    slowlog: server.slowLog.length,
  };
}

// ---------------------------------------------------------------------------
// The listener

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** Starts the HTTP listener when metrics-port is set; null when it is 0. Rejects when the address cannot be bound. */
export async function startMetrics(server: Server): Promise<MetricsListener | null> {
  const port = server.config.int('metrics-port');
  if (port === 0) return null;
  const host = server.config.str('metrics-bind');
  const census = new TensorCensus(server);
  const registry = buildRegistry(server, census);
  const http_ = http.createServer((req, res) => {
    void route(server, registry, census, req, res);
  });
  // Scrapers keep connections alive; shutdown must not wait for them.
  http_.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    http_.once('error', reject);
    http_.listen({ host, port }, () => {
      http_.off('error', reject);
      resolve();
    });
  }).catch((e: Error) => {
    throw new Error(`Could not create metrics HTTP listener ${host}:${port}: ${e.message}`);
  });
  const bound = (http_.address() as net.AddressInfo).port;
  server.log('notice', `Metrics and status page on http://${host.includes(':') ? `[${host}]` : host}:${bound}/`);
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => {
      http_.close(() => resolve());
      http_.closeAllConnections();
    }),
  };
}

async function route(server: Server, registry: Registry, census: TensorCensus, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  try {
    if (path === '/metrics') return send(res, 200, registry.contentType, await registry.metrics());
    if (path === '/stats.json') return send(res, 200, 'application/json', JSON.stringify(snapshot(server, census)));
    if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE);
    send(res, 404, 'text/plain; charset=utf-8', 'not found: try /, /metrics or /stats.json\n');
  } catch (e) {
    server.log('warning', `metrics: ${path} failed: ${(e as Error).stack ?? String(e)}`);
    send(res, 500, 'text/plain; charset=utf-8', 'internal error (see the server log)\n');
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
