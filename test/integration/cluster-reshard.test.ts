// Moving slots with their keys while clients run, with real node processes:
// kvslab-cluster reshard and rebalance under a load of INCRs (every one
// counted, so a lost or doubled write shows) and KV.APPENDs to a tensor
// whose slot moves; then the ways a move can go wrong: a target that
// refuses (rolled back: the slots stay, the copies go), and a manager that
// stopped after the source was ready (fix rolls it back, or finishes it
// when the target had been given the slots already).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import type { RunningServer } from '../helpers/servers.js';
import { addr, clusterNode, clusterTool as tool } from '../helpers/cluster-tool.js';
import { keyHashSlot } from '../../src/cluster/keyslot.js';

const myId = async (s: RunningServer) => String(await s.client().call('CLUSTER', 'MYID'));
const SHAPE = ['DTYPE', 'float32', 'LAYERS', '4', 'HEADS', '2', 'HEADDIM', '8', 'KV', '2'];
/** One token of every layer of that shape: K and V, 4 layers, 2 heads x 8 x 4 bytes. */
const TOKEN = 2 * 4 * 2 * 8 * 4;

/** A hash tag whose slot is below `limit` (the lowest slots are the ones reshard moves first). */
function tagBelow(limit: number): string {
  for (let i = 0; ; i++) if (keyHashSlot(Buffer.from(`t${i}`)) < limit) return `t${i}`;
}

/**
 * A load on the cluster until stop(): INCRs over `keys` keys (each success
 * counted per key) and one-token KV.APPENDs to `tensor`; every error kept.
 */
function workload(cluster: Cluster, keys: number, tensor: string, prefix: string) {
  let stopped = false;
  const counts = new Map<string, number>();
  const errors: string[] = [];
  let appends = 0;
  const token = Buffer.alloc(TOKEN, 7);
  const worker = async (w: number) => {
    for (let i = w; !stopped; i += 13) {
      const k = `${prefix}:${i % keys}`;
      try {
        await cluster.incr(k);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  };
  const appender = async () => {
    while (!stopped) {
      try {
        await cluster.call('KV.APPEND', tensor, token, 'CREATE', ...SHAPE);
        appends++;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  };
  const running = Promise.all([...Array.from({ length: 16 }, (_, w) => worker(w)), appender()]);
  return {
    async stop() {
      stopped = true;
      await running;
      return { counts, errors, appends };
    },
  };
}

/** Every counted key holds its count, the tensor every append; the keys are spread as the nodes' DBSIZEs say. */
async function verify(cluster: Cluster, nodes: RunningServer[], counts: Map<string, number>, tensor: string, appends: number, total: number): Promise<void> {
  const wrong: string[] = [];
  for (const [k, n] of counts) {
    const v = Number(await cluster.get(k));
    if (v !== n) wrong.push(`${k}=${v} (${n} INCRs)`);
  }
  expect(wrong).toEqual([]);
  const info = await cluster.call('KV.INFO', tensor) as unknown[];
  expect(Number(info[info.indexOf('length') + 1])).toBe(appends);
  const sizes = await Promise.all(nodes.map(async (n) => Number(await n.client().dbsize())));
  expect(sizes.reduce((a, b) => a + b)).toBe(total);
}

describe('reshard and rebalance under load', () => {
  const nodes: RunningServer[] = [];
  let cluster: Cluster;
  const KEYS = 5000;
  const tensor = `{${tagBelow(1500)}}:tensor`;

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) nodes.push(await clusterNode());
    expect((await tool('create', ...nodes.slice(0, 3).map(addr))).code).toBe(0);
    cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0].port }]);
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => cluster.set(`key:${i}`, `value:${i}`)));
  });

  afterAll(async () => {
    cluster?.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('reshard moves 1,500 slots with their keys; no client error, no write lost or doubled, the tensor has every append', async () => {
    const load = workload(cluster, KEYS, tensor, 'n');
    await new Promise((r) => setTimeout(r, 500));
    const r = await tool('reshard', addr(nodes[2]), '--from', await myId(nodes[0]), '--to', await myId(nodes[1]), '--slots', '1500');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Moving 1500 slots (0-1499)');
    await new Promise((r2) => setTimeout(r2, 500));
    const { counts, errors, appends } = await load.stop();
    expect(errors).toEqual([]);
    expect(appends).toBeGreaterThan(10);
    const check = await tool('check', addr(nodes[0]));
    expect(check.code).toBe(0);
    expect(check.out).toContain('slots:[1500-5460] (3961 slots)');
    expect(check.out).toContain('slots:[0-1499,5461-10922] (6962 slots)');
    // The source deletes what moved a slice at a time: give it a moment.
    await new Promise((r2) => setTimeout(r2, 300));
    await verify(cluster, nodes.slice(0, 3), counts, tensor, appends, 20_000 + counts.size + 1);
    for (let i = 0; i < 20_000; i += 97) expect(await cluster.get(`key:${i}`)).toBe(`value:${i}`);
    // The tensor's slot is on the second node now, and only there.
    expect(await nodes[1].client().call('KV.INFO', tensor)).not.toBeNull();
    expect(await nodes[0].client().call('CLUSTER', 'COUNTKEYSINSLOT', String(keyHashSlot(Buffer.from(tensor))))).toBe(0);
  }, 120_000);

  it('add-node then rebalance: every master gets its even share under load, nothing lost', async () => {
    expect((await tool('add-node', addr(nodes[3]), addr(nodes[0]))).code).toBe(0);
    const tensor2 = `{${tagBelow(16384)}}:tensor2`;
    const load = workload(cluster, KEYS, tensor2, 'm');
    const r = await tool('rebalance', addr(nodes[0]));
    expect(r.code).toBe(0);
    const { counts, errors, appends } = await load.stop();
    expect(errors).toEqual([]);
    const check = await tool('check', addr(nodes[3]));
    expect(check.code).toBe(0);
    const shares = [...check.out.matchAll(/\((\d+) slots\)/g)].map((m) => Number(m[1])).sort();
    expect(shares).toEqual([4096, 4096, 4096, 4096]);
    expect((await tool('rebalance', addr(nodes[0]))).out).toContain('nothing to move');
    await new Promise((r2) => setTimeout(r2, 300));
    // The first test's keys (20,000 + its counters + its tensor) and this one's.
    await verify(cluster, nodes, counts, tensor2, appends, 20_000 + KEYS + 1 + counts.size + 1);
    const sizes = await Promise.all(nodes.map(async (n) => Number(await n.client().dbsize())));
    expect(sizes.every((s) => s > 4000)).toBe(true);
  }, 120_000);
});

describe('a move that goes wrong', () => {
  const nodes: RunningServer[] = [];

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('a target that refuses the keys (its ACL denies RESTORE): rolled back, the slots and keys stay, its copies go', async () => {
    const all = ['--user', 'admin', 'on', '>pw', '~*', '&*', '+@all', '--user', 'default', 'off'];
    nodes.push(await clusterNode(all), await clusterNode([...all.slice(0, 7), '-restore', ...all.slice(7)]));
    const [a, b] = nodes;
    const auth = ['--user', 'admin', '--pass', 'pw'];
    expect((await tool(...auth, 'create', addr(a), addr(b))).code).toBe(0);
    const cluster = new Cluster([{ host: '127.0.0.1', port: a.port }], { redisOptions: { username: 'admin', password: 'pw' } });
    try {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => cluster.set(`k:${i}`, `v${i}`)));
      const size = async (n: RunningServer) => Number(await n.client({ username: 'admin', password: 'pw' }).dbsize());
      const before = await size(a);
      const id = async (n: RunningServer) => String(await n.client({ username: 'admin', password: 'pw' }).call('CLUSTER', 'MYID'));
      const r = await tool(...auth, 'reshard', addr(a), '--from', await id(a), '--to', await id(b), '--slots', '8000');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/the move failed \(.*NOPERM.*\); rolled back: the slots stay on/);
      expect((await tool(...auth, 'check', addr(a))).out).toContain('slots:[0-8191] (8192 slots)');
      expect(await size(a)).toBe(before);
      // b holds only its own keys: the copies are gone.
      const own = Array.from({ length: 3000 }, (_, i) => `k:${i}`).filter((k) => keyHashSlot(Buffer.from(k)) >= 8192).length;
      expect(await size(b)).toBe(own);
      await cluster.set('k:0', 'after');
      expect(await cluster.get('k:0')).toBe('after');
    } finally {
      cluster.disconnect();
    }
  }, 60_000);

  it('a manager that stopped once the source was ready: fix rolls the move back, or finishes it when the target owns the slots', async () => {
    const a = await clusterNode();
    const b = await clusterNode();
    nodes.push(a, b);
    expect((await tool('create', addr(a), addr(b))).code).toBe(0);
    const ca = a.client();
    const key = `{${tagBelow(100)}}:k`;
    await ca.set(key, 'v1');
    // What the manager does first, by hand: the source streams slots 0-99 and pauses them once ready.
    expect(await ca.call('KVCLUSTER', 'MIGRATESLOTS', 'SLOTSRANGE', '0', '99', 'TO', '127.0.0.1', String(b.port))).toBe('OK');
    const ready = async () => {
      for (let i = 0; i < 200; i++) {
        const m = (await ca.call('KVCLUSTER', 'GETSLOTMIGRATIONS') as unknown[][])[0];
        if (m[m.indexOf('state') + 1] === 'ready') return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('not ready');
    };
    await ready();
    // Paused: a write waits (its client reads nothing more meanwhile); reads see the value, which the target has too.
    const parked = ca.set(key, 'v2');
    const other = a.client();
    expect(await other.get(key)).toBe('v1');
    const fixed = await tool('fix', addr(a));
    expect(fixed.code).toBe(0);
    expect(fixed.out).toContain('was left ready: rolling it back');
    // Rolled back: the waiting write runs here.
    expect(await parked).toBe('OK');
    expect(await other.get(key)).toBe('v2');
    expect(await b.client().call('CLUSTER', 'COUNTKEYSINSLOT', String(keyHashSlot(Buffer.from(key))))).toBe(0);

    // Again, and this time the manager got as far as giving the target the slots.
    expect(await ca.call('KVCLUSTER', 'MIGRATESLOTS', 'SLOTSRANGE', '0', '99', 'TO', '127.0.0.1', String(b.port))).toBe('OK');
    await ready();
    const t = JSON.parse(String(await ca.call('KVCLUSTER', 'GETCONFIG')));
    t.epoch += 1;
    t.shards[0].slots = [[100, 8191]];
    t.shards[1].slots = [[0, 99], [8192, 16383]];
    expect(await b.client().call('KVCLUSTER', 'CONFIG', JSON.stringify(t))).toBe('OK');
    const finished = await tool('fix', addr(b));
    expect(finished.code).toBe(0);
    expect(finished.out).toContain('was left before its last push: finishing it');
    expect((await tool('check', addr(a))).code).toBe(0);
    expect(await b.client().get(key)).toBe('v2');
    expect(await ca.get(key).catch((e: Error) => e.message)).toMatch(/^MOVED \d+ 127\.0\.0\.1:\d+$/);
  }, 60_000);
});
