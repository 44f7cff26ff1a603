// Cluster mode against a real Redis Cluster: three redis-server nodes joined
// by redis-cli --cluster create, and three kvslab nodes given the same slot
// layout (read from Redis's CLUSTER SLOTS) with KVCLUSTER CONFIG. Compared:
// CLUSTER KEYSLOT for many keys, the error texts (MOVED with the port of the
// corresponding node substituted, CROSSSLOT, SELECT, MOVE, SWAPDB, MULTI
// bodies), the shapes of CLUSTER SLOTS / SHARDS / INFO / NODES (ids, ports
// and epochs differ). And a standalone Redis against a standalone kvslab:
// the cluster commands' refusals byte for byte.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RawClient, type Reply } from '../helpers/raw-client.js';
import { compareOn } from '../helpers/differential.js';
import { kvslabAndRedis, startKvslab, startRedis, type RunningServer } from '../helpers/servers.js';

interface Side { servers: RunningServer[]; clients: Redis[]; raw: RawClient[]; ids: string[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** [start, end, owner index] of a CLUSTER SLOTS reply, by slot. */
function layoutOf(slots: unknown[][], ports: number[]): [number, number, number][] {
  return slots.map((s) => [s[0] as number, s[1] as number, ports.indexOf((s[2] as unknown[])[1] as number)] as [number, number, number])
    .sort((a, b) => a[0] - b[0]);
}

describe('against a three-node Redis Cluster with the same slot layout', () => {
  const redis: Side = { servers: [], clients: [], raw: [], ids: [] };
  const kv: Side = { servers: [], clients: [], raw: [], ids: [] };
  let layout: [number, number, number][] = [];

  beforeAll(async () => {
    redis.servers = await Promise.all([0, 1, 2].map(() => startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'])));
    execFileSync('redis-cli', ['--cluster', 'create', ...redis.servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-yes'], { encoding: 'utf8' });
    redis.clients = redis.servers.map((s) => s.client());
    const end = Date.now() + 20_000;
    for (const c of redis.clients) {
      while (!String(await c.call('CLUSTER', 'INFO')).includes('cluster_state:ok') && Date.now() < end) await sleep(100);
    }
    const rports = redis.servers.map((s) => s.port);
    layout = layoutOf(await redis.clients[0].call('CLUSTER', 'SLOTS') as unknown[][], rports);
    kv.servers = await Promise.all([0, 1, 2].map(() => startKvslab(['--cluster-enabled', 'yes', '--dir', mkdtempSync(join(tmpdir(), 'kvslab-dcluster-'))])));
    kv.clients = kv.servers.map((s) => s.client());
    kv.ids = await Promise.all(kv.clients.map(async (c) => String(await c.call('CLUSTER', 'MYID'))));
    redis.ids = await Promise.all(redis.clients.map(async (c) => String(await c.call('CLUSTER', 'MYID'))));
    const topology = JSON.stringify({
      epoch: 1,
      shards: kv.servers.map((s, i) => ({
        slots: layout.filter((r) => r[2] === i).map((r) => [r[0], r[1]]),
        master: { id: kv.ids[i], host: '127.0.0.1', port: s.port },
      })),
    });
    for (const c of kv.clients) expect(await c.call('KVCLUSTER', 'CONFIG', topology)).toBe('OK');
    redis.raw = await Promise.all(redis.servers.map((s) => RawClient.connect(s.port)));
    kv.raw = await Promise.all(kv.servers.map((s) => RawClient.connect(s.port)));
  });

  afterAll(async () => {
    for (const r of [...redis.raw, ...kv.raw]) r.close();
    await Promise.all([...redis.servers, ...kv.servers].map((s) => s.stop()));
  });

  /** Node i's port on the other side: kvslab's replies name kvslab's ports, Redis's Redis's. */
  const toRedisPorts = (text: string) => kv.servers.reduce((t, s, i) => t.replaceAll(`:${s.port}`, `:${redis.servers[i].port}`), text);

  /** Sends argv to node i of both sides; the replies' bytes must match once kvslab's ports are mapped to Redis's. */
  async function same(i: number, ...argv: (string | Buffer)[]): Promise<string> {
    await Promise.all([kv.raw[i].call(...argv), redis.raw[i].call(...argv)]);
    const k = toRedisPorts(kv.raw[i].lastRaw.toString('latin1'));
    expect({ argv: argv.map(String), reply: k }).toEqual({ argv: argv.map(String), reply: redis.raw[i].lastRaw.toString('latin1') });
    return k;
  }

  it('reads the same layout back from both (3 masters, all slots)', async () => {
    expect(layout.reduce((n, r) => n + r[1] - r[0] + 1, 0)).toBe(16384);
    expect(new Set(layout.map((r) => r[2]))).toEqual(new Set([0, 1, 2]));
    expect(layoutOf(await kv.clients[1].call('CLUSTER', 'SLOTS') as unknown[][], kv.servers.map((s) => s.port))).toEqual(layout);
  });

  it('CLUSTER KEYSLOT agrees on 2,000 keys: text, binary, hash tags of every shape', async () => {
    const keys: Buffer[] = ['', '123456789', 'hello', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'foo{bar}{zap}', 'a{}b}c', '{', '}', '{}', '{{}}']
      .map((k) => Buffer.from(k));
    let seed = 7;
    const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
    while (keys.length < 2000) {
      const k = Buffer.alloc(rnd() % 20);
      for (let j = 0; j < k.length; j++) k[j] = rnd() % 5 === 0 ? (rnd() % 2 ? 0x7b : 0x7d) : rnd() & 0xff;
      keys.push(k);
    }
    const ask = async (c: Redis) => {
      const p = c.pipeline();
      for (const k of keys) p.call('CLUSTER', 'KEYSLOT', k);
      return (await p.exec())!.map(([e, v]) => e?.message ?? v);
    };
    const [a, b] = await Promise.all([ask(kv.clients[0]), ask(redis.clients[0])]);
    expect(a).toEqual(b);
  });

  it('redirections and refusals have Redis\'s texts', async () => {
    const fooOwner = layout.find((r) => 12182 >= r[0] && 12182 <= r[1])![2];
    const elsewhere = (fooOwner + 1) % 3;
    expect(await same(elsewhere, 'GET', 'foo')).toMatch(/^-MOVED 12182 127\.0\.0\.1:\d+\r\n$/);
    await same(elsewhere, 'SET', '{foo}x', 'v');
    await same(fooOwner, 'SET', 'foo', 'v');
    await same(fooOwner, 'MGET', 'foo', 'hello');
    await same(fooOwner, 'DEL', 'foo', '{foo}x', 'bar');
    await same(fooOwner, 'MSET', '{foo}a', '1', '{foo}b', '2');
    await same(fooOwner, 'RENAME', '{foo}a', 'zzz');
    await same(fooOwner, 'SELECT', '1');
    await same(fooOwner, 'SELECT', '0');
    await same(fooOwner, 'SELECT', 'x');
    await same(fooOwner, 'MOVE', '{foo}a', '1');
    await same(fooOwner, 'SWAPDB', '0', '1');
    await same(fooOwner, 'COPY', '{foo}a', '{foo}c', 'DB', '1');
    await same(fooOwner, 'PING');
    await same(elsewhere, 'DBSIZE');
    await same(fooOwner, 'WATCH', 'foo', 'hello');
    await same(elsewhere, 'WATCH', 'foo');
    await same(fooOwner, 'UNWATCH');
  });

  it('COUNTKEYSINSLOT and GETKEYSINSLOT: the same counts and keys (in any order), the same errors', async () => {
    const fooOwner = layout.find((r) => 12182 >= r[0] && 12182 <= r[1])![2];
    for (const c of [kv.clients[fooOwner], redis.clients[fooOwner]]) {
      const p = c.pipeline();
      for (let i = 0; i < 300; i++) p.set(`{foo}:${i}`, 'v');
      // An expired key still counts until it is reclaimed, on both: none here.
      await p.exec();
    }
    await same(fooOwner, 'CLUSTER', 'COUNTKEYSINSLOT', '12182');
    await same(fooOwner, 'CLUSTER', 'COUNTKEYSINSLOT', '0');
    await same(fooOwner, 'CLUSTER', 'GETKEYSINSLOT', '12182', '0');
    await same(fooOwner, 'CLUSTER', 'GETKEYSINSLOT', '1', '10');
    for (const argv of [['COUNTKEYSINSLOT', '16384'], ['COUNTKEYSINSLOT', '-1'], ['COUNTKEYSINSLOT', 'x'], ['GETKEYSINSLOT', '16384', '1'],
      ['GETKEYSINSLOT', '1', '-1'], ['GETKEYSINSLOT', 'x', '1'], ['GETKEYSINSLOT', '1', 'x'], ['COUNTKEYSINSLOT'], ['GETKEYSINSLOT', '1']]) {
      await same(fooOwner, 'CLUSTER', ...argv);
    }
    const keysOf = async (c: Redis, n: number) => ((await c.call('CLUSTER', 'GETKEYSINSLOT', '12182', String(n))) as string[]).sort();
    const [kAll, rAll] = await Promise.all([keysOf(kv.clients[fooOwner], 1000), keysOf(redis.clients[fooOwner], 1000)]);
    expect(kAll).toEqual(rAll);
    expect(kAll.length).toBeGreaterThanOrEqual(300);
    const some = await keysOf(kv.clients[fooOwner], 17);
    expect(some.length).toBe(17);
    expect(some.every((k) => rAll.includes(k))).toBe(true);
  });

  it('MULTI: a queued redirection dooms EXEC; keys of two slots fail EXEC itself', async () => {
    const ownerOf = (slot: number) => layout.find((r) => slot >= r[0] && slot <= r[1])![2];
    const fooOwner = ownerOf(12182);
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const slots = await kv.clients[0].pipeline(keys.map((key) => ['cluster', 'keyslot', key])).exec();
    const slotOf = (key: string) => Number(slots![keys.indexOf(key)][1]);
    // A key of the same node in another slot, and one of another node.
    const mine = keys.find((key) => slotOf(key) !== 12182 && ownerOf(slotOf(key)) === fooOwner)!;
    const foreign = keys.find((key) => ownerOf(slotOf(key)) !== fooOwner)!;
    for (const cmds of [
      [['MULTI'], ['SET', 'foo', '1'], ['GET', foreign], ['EXEC']],
      [['MULTI'], ['SET', 'foo', '1'], ['SET', mine, '2'], ['EXEC'], ['EXEC']],
      [['MULTI'], ['SET', 'foo', '1'], ['GET', '{foo}z'], ['EXEC']],
    ]) for (const argv of cmds) await same(fooOwner, ...argv);
  });

  it('CLUSTER SLOTS: the same reply once ids and ports are named by node', async () => {
    const norm = (slots: unknown[][], side: Side) => slots.map((s) => {
      const n = s[2] as unknown[];
      const i = side.servers.findIndex((x) => x.port === n[1]);
      return [s[0], s[1], [n[0], `port${i}`, side.ids[i] === n[2] ? `id${i}` : 'bad id', n[3]]];
    }).sort((a, b) => (a[0] as number) - (b[0] as number));
    const [k, r] = await Promise.all([kv.clients[2].call('CLUSTER', 'SLOTS'), redis.clients[2].call('CLUSTER', 'SLOTS')]);
    expect(norm(k as unknown[][], kv)).toEqual(norm(r as unknown[][], redis));
  });

  it('CLUSTER SHARDS: the same maps (RESP2 and RESP3) once ids and ports are named by node', async () => {
    const norm = (reply: Reply, side: Side) => {
      // RESP2: flat [k, v, ...] arrays; RESP3: maps. Both to plain objects.
      const obj = (x: Reply): Record<string, Reply> => {
        const pairs = Array.isArray(x) ? Array.from({ length: x.length / 2 }, (_, j) => [x[2 * j], x[2 * j + 1]]) : (x as { map: [Reply, Reply][] }).map;
        return Object.fromEntries(pairs.map(([key, v]) => [String(key), v]));
      };
      return (reply as Reply[]).map((sh) => {
        const s = obj(sh);
        const nodes = (s.nodes as Reply[]).map((n) => {
          const o = obj(n);
          const i = side.servers.findIndex((x) => x.port === o.port);
          return Object.keys(o).map((key) => [key, key === 'id' ? (String(o.id) === side.ids[i] ? `id${i}` : 'bad') : key === 'port' ? `port${i}` : String(o[key])]);
        });
        return { slots: s.slots, nodes };
      }).sort((a, b) => ((a.slots as number[])[0] ?? 0) - ((b.slots as number[])[0] ?? 0));
    };
    for (const resp of [2, 3]) {
      if (resp === 3) await Promise.all([kv.raw[0].call('HELLO', '3'), redis.raw[0].call('HELLO', '3')]);
      const [k, r] = await Promise.all([kv.raw[0].call('CLUSTER', 'SHARDS'), redis.raw[0].call('CLUSTER', 'SHARDS')]);
      expect(norm(k, kv)).toHaveLength(3);
      expect(norm(k, kv)).toEqual(norm(r, redis));
    }
    await Promise.all([kv.raw[0].call('HELLO', '2'), redis.raw[0].call('HELLO', '2')]);
  });

  it('CLUSTER INFO: the same fields and, but for epochs and bus counters, the same values', async () => {
    const fields = async (c: Redis) => Object.fromEntries(String(await c.call('CLUSTER', 'INFO')).trim().split('\r\n').map((l) => l.split(':')));
    const [k, r] = await Promise.all([fields(kv.clients[0]), fields(redis.clients[0])]);
    // Redis lists per-type message counters only when not zero; kvslab has no bus, so none.
    const general = (f: Record<string, string>) => Object.keys(f).filter((n) => !/^cluster_stats_messages_.+_(sent|received)$/.test(n));
    expect(general(k)).toEqual(general(r));
    for (const n of ['cluster_state', 'cluster_slots_assigned', 'cluster_slots_ok', 'cluster_slots_pfail', 'cluster_slots_fail', 'cluster_known_nodes', 'cluster_size']) {
      expect([n, k[n]]).toEqual([n, r[n]]);
    }
  });

  it('CLUSTER NODES: one line per node in Redis\'s format, the same slots per node', async () => {
    const LINE = /^([0-9a-f]{40}) 127\.0\.0\.1:(\d+)@\d+ (myself,master|master) - \d+ \d+ \d+ connected((?: \d+(?:-\d+)?)*)$/;
    const parse = (text: string, side: Side) => text.trim().split('\n').map((l) => {
      const m = LINE.exec(l);
      expect(m, l).not.toBeNull();
      const i = side.servers.findIndex((s) => s.port === Number(m![2]));
      expect(side.ids[i]).toBe(m![1]);
      return [i, m![3], m![4].trim()];
    }).sort((a, b) => (a[0] as number) - (b[0] as number));
    const [k, r] = await Promise.all([kv.clients[1].call('CLUSTER', 'NODES'), redis.clients[1].call('CLUSTER', 'NODES')]);
    expect(parse(String(k), kv)).toEqual(parse(String(r), redis));
  });
});

describe('without cluster mode: a standalone kvslab and a standalone Redis', () => {
  const both = kvslabAndRedis();
  let k: RawClient;
  let r: RawClient;
  beforeAll(async () => {
    [k, r] = await Promise.all([RawClient.connect(both.kv.port), RawClient.connect(both.redis.port)]);
  });
  afterAll(() => { k?.close(); r?.close(); });

  it('every cluster command answers "cluster support disabled", KEYSLOT and HELP included; INFO says cluster_enabled:0', async () => {
    for (const argv of [
      ['CLUSTER', 'INFO'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'], ['CLUSTER', 'NODES'], ['CLUSTER', 'MYID'],
      ['CLUSTER', 'KEYSLOT', 'foo'], ['CLUSTER', 'HELP'], ['CLUSTER', 'KEYSLOT'], ['CLUSTER', 'NOSUCH'], ['CLUSTER'],
      ['READONLY'], ['READWRITE'], ['ASKING'], ['READONLY', 'x'],
      ['SELECT', '1'], ['MGET', 'foo', 'hello'],
    ]) await compareOn(k, r, argv);
    const [ki, ri] = await Promise.all([k.call('INFO', 'cluster'), r.call('INFO', 'cluster')]);
    expect(String(ki)).toBe(String(ri));
  });
});
