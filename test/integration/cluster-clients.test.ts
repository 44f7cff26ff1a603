// The clients people use against a kvslab cluster made by kvslab-cluster
// create: node-redis createCluster, valkey-glide's GlideClusterClient (its
// Rust core, from npm), redis-py RedisCluster (Debian's python3-redis),
// redis-benchmark --cluster; each writes and reads keys over every node, and
// node-redis and glide go on doing so across a reshard, and after kvslab-cluster
// fix has replaced a node that was killed under them.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster } from 'redis';
import { GlideClusterClient } from '@valkey/valkey-glide';
import type { RunningServer } from '../helpers/servers.js';
import { addr, clusterNode, clusterTool as tool } from '../helpers/cluster-tool.js';

const PY = '/usr/bin/python3';

describe('clients on a three-node kvslab cluster', () => {
  const nodes: RunningServer[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await clusterNode());
    expect((await tool('create', ...nodes.map(addr))).code).toBe(0);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('node-redis createCluster: 3,000 keys over every node, MGET by hash tag, and writes and reads across a reshard without an error', async () => {
    const c = createCluster({ rootNodes: [{ url: `redis://${addr(nodes[0])}` }] });
    c.on('error', () => {});
    await c.connect();
    try {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => c.set(`nr:${i}`, `v${i}`)));
      await c.mSet([['{tag}a', '1'], ['{tag}b', '2']]);
      expect(await c.mGet(['{tag}a', '{tag}b'])).toEqual(['1', '2']);
      const sizes = await Promise.all(nodes.map(async (n) => Number(await n.client().dbsize())));
      expect(sizes.every((s) => s > 800)).toBe(true);
      const from = String(await nodes[0].client().call('CLUSTER', 'MYID'));
      const to = String(await nodes[2].client().call('CLUSTER', 'MYID'));
      let stop = false;
      const misses: string[] = [];
      // Writes and reads while 2,000 slots move: a write in the last moment of a move waits for it (node-redis does not retry TRYAGAIN).
      let writes = 0;
      const writer = (async () => {
        for (let i = 0; !stop; i = (i + 1) % 3000) {
          const r = await c.set(`nw:${i}`, `w${i}`).catch((e: Error) => `error ${e.message}`);
          if (r !== 'OK') misses.push(`SET nw:${i}: ${r}`);
          else writes++;
        }
      })();
      const reader = (async () => {
        for (let i = 0; !stop; i = (i + 1) % 3000) {
          const v = await c.get(`nr:${i}`).catch((e: Error) => `error ${e.message}`);
          if (v !== `v${i}`) misses.push(`nr:${i}=${v}`);
        }
      })();
      const r = await tool('reshard', addr(nodes[1]), '--from', from, '--to', to, '--slots', '2000');
      stop = true;
      await reader;
      await writer;
      expect(r.code).toBe(0);
      expect(misses).toEqual([]);
      expect(writes).toBeGreaterThan(100);
      for (let i = 0; i < 3000; i += 7) expect(await c.get(`nr:${i}`)).toBe(`v${i}`);
    } finally {
      await c.quit();
    }
  }, 60_000);

  it('valkey-glide GlideClusterClient: 3,000 keys over every node, then writes and reads across a reshard without an error', async () => {
    const g = await GlideClusterClient.createClient({ addresses: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), requestTimeout: 5000 });
    try {
      // Glide caps the requests in flight (1,000 by default): 500 at a time.
      for (let b = 0; b < 3000; b += 500) await Promise.all(Array.from({ length: 500 }, (_, i) => g.set(`gl:${b + i}`, `v${b + i}`)));
      for (let i = 0; i < 3000; i += 11) expect(String(await g.get(`gl:${i}`))).toBe(`v${i}`);
      const from = String(await nodes[2].client().call('CLUSTER', 'MYID'));
      const to = String(await nodes[0].client().call('CLUSTER', 'MYID'));
      let stop = false;
      const problems: string[] = [];
      let writes = 0;
      const writer = (async () => {
        for (let i = 0; !stop; i = (i + 1) % 3000) {
          try {
            await g.set(`gl:${i}`, `w${i}`);
            writes++;
            const v = String(await g.get(`gl:${i}`));
            if (v !== `w${i}`) problems.push(`gl:${i}=${v}`);
          } catch (e) {
            problems.push((e as Error).message);
          }
        }
      })();
      const r = await tool('reshard', addr(nodes[1]), '--from', from, '--to', to, '--slots', '2000');
      stop = true;
      await writer;
      expect(r.code).toBe(0);
      expect(problems).toEqual([]);
      expect(writes).toBeGreaterThan(100);
    } finally {
      g.close();
    }
  }, 60_000);

  it('redis-py RedisCluster: discovers the nodes, writes and reads 2,000 keys, pipelines per node', async () => {
    const script = `
import sys
from redis.cluster import RedisCluster
rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))
print(len(rc.get_nodes()))
for i in range(2000):
    rc.set(f'py:{i}', f'v{i}')
ok = all(rc.get(f'py:{i}') == f'v{i}'.encode() for i in range(0, 2000, 3))
p = rc.pipeline()
for i in range(100):
    p.incr(f'pyc:{i}')
print(ok, sum(p.execute()))
`;
    const { stdout } = await promisify(execFile)(PY, ['-c', script, String(nodes[1].port)], { encoding: 'utf8' });
    expect(stdout.trim().split('\n')).toEqual(['3', 'True 100']);
  }, 60_000);

  it('redis-py RedisCluster, one long-lived client writing and reading while 2,000 slots move under it: no error, every value right', async () => {
    const script = `
import sys, time
from redis.cluster import RedisCluster
rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))
print('ready', flush=True)
end = time.time() + float(sys.argv[2])
n = errors = wrong = 0
while time.time() < end:
    k = 'pyl:%d' % (n % 2000)
    try:
        rc.set(k, 'v%d' % n)
        if rc.get(k) != ('v%d' % n).encode():
            wrong += 1
    except Exception as e:
        errors += 1
        print('error', repr(e), flush=True)
    n += 1
print('done', n, errors, wrong, flush=True)
`;
    const py = spawn(PY, ['-c', script, String(nodes[0].port), '6']);
    let out = '';
    py.stdout.on('data', (d) => { out += d; });
    py.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<void>((resolve) => py.on('exit', () => resolve()));
    for (let i = 0; i < 100 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const from = String(await nodes[1].client().call('CLUSTER', 'MYID'));
    const to = String(await nodes[2].client().call('CLUSTER', 'MYID'));
    const r = await tool('reshard', addr(nodes[0]), '--from', from, '--to', to, '--slots', '2000');
    expect(r.code).toBe(0);
    await exited;
    const done = /done (\d+) (\d+) (\d+)/.exec(out);
    expect(done, out).not.toBeNull();
    expect(Number(done![1])).toBeGreaterThan(500);
    expect({ errors: Number(done![2]), wrong: Number(done![3]) }).toEqual({ errors: 0, wrong: 0 });
  }, 60_000);

  it('redis-benchmark --cluster: SET and GET over all three nodes, every request answered', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('redis-benchmark', ['--cluster', '-h', '127.0.0.1', '-p', String(nodes[0].port), '-t', 'set,get', '-n', '30000', '-P', '16', '-q']);
      let text = '';
      p.stdout.on('data', (d) => { text += d; });
      p.stderr.on('data', (d) => { text += d; });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
    });
    expect(out).toMatch(/Cluster has 3 master nodes/);
    expect(out).toMatch(/SET: [\d.]+ requests per second/);
    expect(out).toMatch(/GET: [\d.]+ requests per second/);
    // Its keys carry a hash tag per node ("key:{tag}:__rand_int__"): each node got its own.
    for (const n of nodes) expect((await n.client().keys('key:{*}:__rand_int__')).length).toBe(1);
  }, 60_000);
  it('a node killed under node-redis and glide clients: after kvslab-cluster fix both write and read every slot again', async () => {
    const nr = createCluster({ rootNodes: [{ url: `redis://${addr(nodes[0])}` }] });
    nr.on('error', () => {});
    await nr.connect();
    const g = await GlideClusterClient.createClient({ addresses: [{ host: '127.0.0.1', port: nodes[0].port }], requestTimeout: 2000 });
    try {
      await nr.set('before', '1');
      await g.set('before', '2');
      await nodes[1].stop();
      const fixed = await tool('fix', addr(nodes[0]));
      expect(fixed.code).toBe(0);
      // Until each client has seen the new slot map (its first commands to the dead node's slots fail or wait).
      const eventually = async (f: () => Promise<unknown>) => {
        for (let i = 0; ; i++) {
          try {
            return await f();
          } catch (e) {
            if (i > 100) throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      for (let i = 0; i < 500; i++) {
        await eventually(() => nr.set(`after:nr:${i}`, `n${i}`));
        await eventually(() => g.set(`after:g:${i}`, `g${i}`));
      }
      for (let i = 0; i < 500; i++) {
        expect(await nr.get(`after:nr:${i}`)).toBe(`n${i}`);
        expect(String(await g.get(`after:g:${i}`))).toBe(`g${i}`);
      }
      const { stdout } = await promisify(execFile)(PY, ['-c', `
import sys
from redis.cluster import RedisCluster
rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))
print(len(rc.get_nodes()), all(rc.get(f'after:nr:{i}') == f'n{i}'.encode() for i in range(500)))
`, String(nodes[0].port)], { encoding: 'utf8' });
      expect(stdout.trim()).toBe('2 True');
    } finally {
      await nr.quit().catch(() => {});
      g.close();
    }
  }, 90_000);
});
