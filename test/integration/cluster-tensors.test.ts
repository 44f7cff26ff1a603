// The tensor cache over a kvslab cluster: KV.PREFIX, KV.PIN and KV.MSLICE
// run on a node for keys of many slots it owns and are redirected on the
// first it does not; the TypeScript client (src/client/kv.ts) on an ioredis
// Cluster asks every owning node at once and combines the answers, one call
// per node however many chunks, and sends single-key KV.* straight to the
// owner (no MOVED round trip).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import type { RunningServer } from '../helpers/servers.js';
import { addr, clusterNode, clusterTool as tool } from '../helpers/cluster-tool.js';
import { parseInfo } from '../helpers/info.js';
import { KvTensorClient, type Shape } from '../../src/client/kv.js';
import { keyHashSlot } from '../../src/cluster/keyslot.js';

const SHAPE: Shape = { dtype: 'float32', layers: 2, heads: 1, headdim: 4, kv: 2 };
/** Bytes of one token of every layer: K and V, 2 layers, 4 floats. */
const TOKEN = 2 * 2 * 4 * 4;
const CHUNKS = 1024;
const chunk = (i: number) => `prompt:7:chunk:${i}`;
const data = (i: number) => Buffer.alloc(2 * TOKEN, i & 0xff);

/** A counter of INFO commandstats on one node: calls (or rejected_calls) of `cmd`. */
async function stat(c: Redis, cmd: string, field: 'calls' | 'rejected_calls' = 'calls'): Promise<number> {
  const line = parseInfo(String(await c.info('commandstats'))).get(`cmdstat_${cmd}`);
  if (line === undefined) return 0;
  return Number(new RegExp(`${field}=(\\d+)`).exec(line)?.[1] ?? 0);
}

describe('tensors on a three-node kvslab cluster', () => {
  const nodes: RunningServer[] = [];
  let cluster: Cluster;
  let kv: KvTensorClient;
  const owner = (key: string) => nodes[[5460, 10922, 16383].findIndex((end) => keyHashSlot(Buffer.from(key)) <= end)];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await clusterNode());
    expect((await tool('create', ...nodes.map(addr))).code).toBe(0);
    cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0].port }]);
    await cluster.call('PING');
    kv = new KvTensorClient(cluster);
    for (let i = 0; i < 700; i++) expect(await kv.put(chunk(i), data(i), SHAPE)).toBe(2);
  });

  afterAll(async () => {
    cluster?.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('single-key KV.* go straight to the owning node: no node refused one with MOVED', async () => {
    const clients = nodes.map((n) => n.client());
    for (const c of clients) expect(await stat(c, 'kv.put', 'rejected_calls')).toBe(0);
    const puts = await Promise.all(clients.map((c) => stat(c, 'kv.put')));
    expect(puts.reduce((a, b) => a + b)).toBe(700);
    expect(puts.every((p) => p > 150)).toBe(true);
    expect(await kv.len(chunk(5))).toBe(2);
    expect((await kv.slice(chunk(5), 0, 2))!.equals(data(5))).toBe(true);
  });

  it('a node runs KV.PREFIX over keys of many slots it owns, and redirects on the first key it does not own', async () => {
    const mine = Array.from({ length: 700 }, (_, i) => chunk(i)).filter((k) => owner(k) === nodes[0]).slice(0, 50);
    expect(new Set(mine.map((k) => keyHashSlot(Buffer.from(k)))).size).toBeGreaterThan(40);
    const c = nodes[0].client();
    expect(await c.call('KV.PREFIX', ...mine)).toBe(50);
    const foreign = Array.from({ length: 700 }, (_, i) => chunk(i)).find((k) => owner(k) !== nodes[0])!;
    const moved = await c.call('KV.PREFIX', mine[0], foreign, mine[1]).catch((e: Error) => e.message);
    expect(moved).toBe(`MOVED ${keyHashSlot(Buffer.from(foreign))} 127.0.0.1:${owner(foreign).port}`);
    expect(await c.call('KV.MSLICE', '0', '1', ...mine.slice(0, 3)).then((r) => (r as unknown[]).length)).toBe(3);
  });

  it('the client\'s prefix over 1,024 chunks: one KV.PREFIX per node, the first missing chunk over all of them', async () => {
    const keys = Array.from({ length: CHUNKS }, (_, i) => chunk(i));
    const before = await Promise.all(nodes.map((n) => stat(n.client(), 'kv.prefix')));
    expect(await kv.prefix(keys)).toBe(700);
    const after = await Promise.all(nodes.map((n) => stat(n.client(), 'kv.prefix')));
    expect(after.map((a, i) => a - before[i])).toEqual([1, 1, 1]);
    await cluster.del(chunk(300));
    expect(await kv.prefix(keys)).toBe(300);
    expect(await kv.pin(10_000, keys)).toBe(300);
    const slices = await kv.mslice(keys.slice(0, 320), 0, 2);
    expect(slices.length).toBe(300);
    slices.forEach((s, i) => expect(s.equals(data(i))).toBe(true));
    expect(await kv.prefix(keys.slice(301, 400))).toBe(99);
  });

  it('after a reshard the client\'s slot map is stale: it refreshes it and answers the same', async () => {
    const keys = Array.from({ length: CHUNKS }, (_, i) => chunk(i));
    const from = String(await nodes[0].client().call('CLUSTER', 'MYID'));
    const to = String(await nodes[1].client().call('CLUSTER', 'MYID'));
    expect((await tool('reshard', addr(nodes[2]), '--from', from, '--to', to, '--slots', '3000')).code).toBe(0);
    expect(await kv.prefix(keys)).toBe(300);
    expect((await kv.slice(chunk(1), 0, 2))!.equals(data(1))).toBe(true);
  }, 60_000);
});
