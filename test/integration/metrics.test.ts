// The metrics listener against a real kvslab: off by default; /metrics in
// Prometheus text whose figures agree with INFO (commands, hits, misses,
// evictions, expirations, memory parts, slab classes, keys per db, clients),
// per-command latency histograms that agree with LATENCY HISTOGRAM and INFO
// commandstats, the KV tensor census, /stats.json, errors, start-up failure
// on a taken port, and the listener closing on shutdown.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freePort, RunningServer, startKvslab } from '../helpers/servers.js';
import { info, parseInfo } from '../helpers/info.js';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus text format 0.0.4 (what prom-client writes): samples, and each family's TYPE. */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      types.set(t[1], t[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { samples, types };
}

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

let srv: RunningServer;
let port: number;
let r: Redis;

async function scrape(path = '/metrics'): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`);
}

async function metrics(): Promise<Sample[]> {
  const res = await scrape();
  expect(res.status).toBe(200);
  return parseProm(await res.text()).samples;
}

beforeAll(async () => {
  port = await freePort();
  srv = await startKvslab(['--metrics-port', String(port), '--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru']);
  r = srv.client();
});
afterAll(async () => { await srv.stop(); });

describe('the listener', () => {
  it('is off by default, and its directives are fixed at start-up', async () => {
    const plain = await startKvslab();
    try {
      const c = plain.client();
      expect(await c.call('CONFIG', 'GET', 'metrics-*')).toEqual(expect.arrayContaining(['metrics-port', '0', 'metrics-bind', '127.0.0.1']));
      await expect(c.call('CONFIG', 'SET', 'metrics-port', '9999')).rejects.toThrow("can't set immutable config");
      expect(plain.output()).not.toContain('Metrics and status page');
    } finally {
      await plain.stop();
    }
    expect(srv.output()).toContain(`Metrics and status page on http://127.0.0.1:${port}/`);
  });

  it('answers /metrics, /stats.json and / with their content types; 404 and 405 otherwise', async () => {
    const m = await scrape('/metrics');
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types } = parseProm(await m.text());
    expect(types.get('kvslab_commands_processed_total')).toBe('counter');
    expect(types.get('kvslab_command_duration_seconds')).toBe('histogram');
    expect(types.get('kvslab_memory_used_bytes')).toBe('gauge');
    const j = await scrape('/stats.json');
    expect(j.headers.get('content-type')).toBe('application/json');
    expect(await j.json()).toHaveProperty('ops_per_sec');
    const page = await scrape('/');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<svg id="chart-ops"');
    expect((await scrape('/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('a taken port stops start-up with the reason', async () => {
    const taken = net.createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', () => res()));
    const busy = (taken.address() as net.AddressInfo).port;
    try {
      await expect(startKvslab(['--metrics-port', String(busy)])).rejects.toThrow(`Could not create metrics HTTP listener 127.0.0.1:${busy}`);
    } finally {
      taken.close();
    }
  });

  it('closes with the server', async () => {
    const p = await freePort();
    const s = await startKvslab(['--metrics-port', String(p)]);
    expect((await fetch(`http://127.0.0.1:${p}/metrics`)).status).toBe(200);
    await s.stop();
    await expect(fetch(`http://127.0.0.1:${p}/metrics`)).rejects.toThrow();
  });
});

describe('/metrics agrees with INFO', () => {
  it('commands, hits, misses, evictions, expirations, keys, memory, slab classes, clients', async () => {
    await r.call('CONFIG', 'RESETSTAT');
    const value1k = 'v'.repeat(1000);
    const p = r.pipeline();
    for (let i = 0; i < 6000; i++) p.set(`k:${i}`, value1k);
    for (let i = 0; i < 300; i++) p.get(`k:${5999 - i}`);
    for (let i = 0; i < 200; i++) p.get(`missing:${i}`);
    for (let i = 0; i < 50; i++) p.set(`ttl:${i}`, 'x', 'PX', 1);
    await p.exec();
    await r.select(3);
    await r.set('in-db-3', '1', 'EX', 100);
    await r.select(0);
    // Active expiry takes the short-lived keys; the cron may still be rehashing or shrinking buffers, so
    // the figures are compared once two scrapes around INFO agree.
    await new Promise((res) => setTimeout(res, 400));
    let s: Sample[] = [];
    let i = new Map<string, string>();
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = await metrics();
      i = await info(r, 'all');
      s = await metrics();
      const steady = ['kvslab_memory_bytes', 'kvslab_expired_keys_total', 'kvslab_slab_class_bytes', 'kvslab_db_keys']
        .every((m) => JSON.stringify(before.filter((x) => x.name === m)) === JSON.stringify(s.filter((x) => x.name === m)));
      if (steady) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const n = (f: string) => Number(i.get(f));
    expect(value(s, 'kvslab_keyspace_hits_total')).toBe(n('keyspace_hits'));
    expect(value(s, 'kvslab_keyspace_misses_total')).toBe(n('keyspace_misses'));
    expect(n('keyspace_misses')).toBeGreaterThanOrEqual(200);
    expect(value(s, 'kvslab_evicted_keys_total')).toBe(n('evicted_keys'));
    expect(n('evicted_keys')).toBeGreaterThan(1000);
    expect(value(s, 'kvslab_expired_keys_total')).toBe(n('expired_keys'));
    // The INFO between the scrapes is one command more.
    expect(value(s, 'kvslab_commands_processed_total')).toBe(n('total_commands_processed') + 1);
    expect(value(s, 'kvslab_commands_total', { cmd: 'set' })).toBe(6051);
    expect(value(s, 'kvslab_commands_total', { cmd: 'get' })).toBe(500);
    expect(value(s, 'kvslab_commands_total', { cmd: 'info' })).toBeGreaterThanOrEqual(1);
    expect(value(s, 'kvslab_connected_clients')).toBe(n('connected_clients'));
    expect(value(s, 'kvslab_db_keys', { db: '0' })).toBe(await r.dbsize());
    expect(value(s, 'kvslab_db_keys', { db: '3' })).toBe(1);
    expect(value(s, 'kvslab_db_keys_expiring', { db: '3' })).toBe(1);
    expect(value(s, 'kvslab_memory_max_bytes')).toBe(4 * 1024 * 1024);
    expect(value(s, 'kvslab_memory_bytes', { part: 'slabs' })).toBe(n('used_memory_slabs'));
    expect(value(s, 'kvslab_memory_bytes', { part: 'index' })).toBe(n('used_memory_index'));
    expect(value(s, 'kvslab_memory_bytes', { part: 'large' })).toBe(n('used_memory_large'));
    expect(value(s, 'kvslab_memory_bytes', { part: 'clients' })).toBe(n('mem_clients_normal'));
    expect(value(s, 'kvslab_memory_bytes', { part: 'js_heap' })).toBeGreaterThan(1e6);
    const used = value(s, 'kvslab_memory_used_bytes') as number;
    expect(Math.abs(used - n('used_memory'))).toBeLessThan(256 * 1024);
    expect(used).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Each size class, as INFO slabs lists it.
    const classes = [...i.entries()].filter(([k]) => k.startsWith('class_'));
    expect(classes.length).toBeGreaterThan(0);
    for (const [k, v] of classes) {
      const f = Object.fromEntries(v.split(',').map((x) => x.split('='))) as Record<string, string>;
      const cls = k.slice('class_'.length);
      expect(value(s, 'kvslab_slab_class_bytes', { class: cls })).toBe(Number(f.slabs) * Number(f.slab_size));
      expect(value(s, 'kvslab_slab_class_used_chunks', { class: cls })).toBe(Number(f.used_chunks));
      expect(value(s, 'kvslab_slab_class_evictions_total', { class: cls })).toBe(Number(f.evictions));
    }
  });

  it('per-command histograms: cumulative buckets, +Inf = count = calls = LATENCY HISTOGRAM calls', async () => {
    await r.call('CONFIG', 'RESETSTAT');
    const p = r.pipeline();
    for (let i = 0; i < 700; i++) p.get(`k:${i}`);
    for (let i = 0; i < 30; i++) p.incr('counter');
    await p.exec();
    const s = await metrics();
    const stats = parseInfo(await r.info('commandstats'));
    const lh = await r.call('LATENCY', 'HISTOGRAM', 'get', 'incr') as unknown[];
    for (const [cmd, calls] of [['get', 700], ['incr', 30]] as const) {
      const buckets = s.filter((x) => x.name === 'kvslab_command_duration_seconds_bucket' && x.labels.cmd === cmd);
      expect(buckets.length).toBe(21);
      for (let j = 1; j < buckets.length; j++) {
        expect(Number(buckets[j].labels.le === '+Inf' ? Infinity : buckets[j].labels.le)).toBeGreaterThan(Number(buckets[j - 1].labels.le));
        expect(buckets[j].value).toBeGreaterThanOrEqual(buckets[j - 1].value);
      }
      expect(buckets[0].labels.le).toBe('0.000001');
      expect(buckets[20]).toMatchObject({ labels: { le: '+Inf' }, value: calls });
      expect(value(s, 'kvslab_command_duration_seconds_count', { cmd })).toBe(calls);
      expect(stats.get(`cmdstat_${cmd}`)).toMatch(new RegExp(`^calls=${calls},`));
      const usec = Number(/usec=(\d+)/.exec(stats.get(`cmdstat_${cmd}`) as string)?.[1]);
      expect(Math.abs((value(s, 'kvslab_command_duration_seconds_sum', { cmd }) as number) * 1e6 - usec)).toBeLessThanOrEqual(1);
      const entry = lh[lh.indexOf(cmd) + 1] as unknown[];
      expect(entry.slice(0, 2)).toEqual(['calls', calls]);
      // LATENCY HISTOGRAM's cumulative counts are the Prometheus buckets where they grow.
      const cdf = entry[3] as number[];
      for (let j = 0; j < cdf.length; j += 2) {
        const b = buckets.find((x) => x.labels.le !== '+Inf' && Math.round(Number(x.labels.le) * 1e6) === cdf[j]);
        expect(b?.value).toBe(cdf[j + 1]);
      }
    }
    // CONFIG RESETSTAT counts itself in the fresh counters, as in Redis; scrapes are not commands.
    expect(value(s, 'kvslab_commands_total', { cmd: 'config|resetstat' })).toBe(1);
    expect(value(s, 'kvslab_commands_processed_total')).toBe(731);
  });

  it('KV tensor keys, tokens and bytes, over databases, without expired or deleted keys', async () => {
    const shape = ['DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '4'];
    // A token is K and V rows of 1 head x 4 float16 in 2 layers: 32 bytes.
    await r.call('KV.PUT', 't:a', Buffer.alloc(32 * 10), ...shape);
    await r.call('KV.PUT', 't:b', Buffer.alloc(32 * 3), ...shape);
    await r.call('KV.PUT', 't:gone', Buffer.alloc(32 * 7), ...shape);
    await r.call('KV.PUT', 't:short', Buffer.alloc(32 * 5), ...shape, 'PX', '50');
    await r.select(5);
    await r.call('KV.PUT', 't:c', Buffer.alloc(32 * 4), ...shape);
    await r.call('KV.APPEND', 't:c', Buffer.alloc(32 * 2));
    await r.select(0);
    await r.del('t:gone');
    // The census steps at most every half second; the short-lived key expires meanwhile.
    await new Promise((res) => setTimeout(res, 600));
    const s = await metrics();
    expect(value(s, 'kvslab_kv_tensor_keys')).toBe(3);
    expect(value(s, 'kvslab_kv_tensor_tokens')).toBe(10 + 3 + 6);
    expect(value(s, 'kvslab_kv_tensor_bytes')).toBe((10 + 3 + 6) * 32);
    const kvinfo = await r.call('KV.INFO', 't:a') as unknown[];
    expect(kvinfo[kvinfo.indexOf('bytes') + 1]).toBe(320);
    const j = await (await scrape('/stats.json')).json() as { tensors: unknown };
    expect(j.tensors).toEqual({ keys: 3, tokens: 19, bytes: 19 * 32 });
  });

  it('/stats.json: the status page\'s figures', async () => {
    const j = await (await scrape('/stats.json')).json() as Record<string, unknown>;
    const i = await info(r, 'all');
    expect(j.version).toBe(i.get('kvslab_version'));
    expect(j.redis_version).toBe(i.get('redis_version'));
    expect(j.port).toBe(srv.port);
    expect(j.policy).toBe('allkeys-lru');
    expect(j.maxmemory).toBe(4 * 1024 * 1024);
    expect(j.clients).toBe(Number(i.get('connected_clients')));
    expect(j.evicted).toBe(Number(i.get('evicted_keys')));
    expect(j.hits).toBe(Number(i.get('keyspace_hits')));
    expect(j.dbs).toEqual(expect.arrayContaining([expect.objectContaining({ db: 0, keys: await r.dbsize() }), { db: 3, keys: 1, expires: 1 }, { db: 5, keys: 1, expires: 0 }]));
    expect((j.memory as Record<string, number>).slabs).toBe(Number(i.get('used_memory_slabs')));
    const slabs = j.slabs as { cls: number; bytes: number }[];
    expect(slabs.reduce((a, c) => a + c.bytes, 0)).toBeGreaterThan(0);
    expect(Math.abs((j.uptime as number) - Number(i.get('uptime_in_seconds')))).toBeLessThanOrEqual(1);
  });
});
