// Cluster mode with real processes and real clients: three kvslab nodes
// (cluster-enabled yes) given one topology with KVCLUSTER CONFIG, used through
// ioredis's Cluster client and redis-cli -c; a restarted node comes back from
// its cluster-config-file; pushes with a stale epoch or a slot twice are
// refused. Then one emulated node (cluster-enabled emulated) under ioredis
// Cluster and redis-py's RedisCluster.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { freePort, redisCli, startKvslabOn, type RunningServer } from '../helpers/servers.js';
import { keyHashSlot } from '../../src/cluster/keyslot.js';

const PY = '/usr/bin/python3';

interface Node { port: number; dir: string; server: RunningServer; id: string; client: Redis }

async function startNode(port: number, dir: string, extra: string[] = []): Promise<RunningServer> {
  return startKvslabOn(port, ['--cluster-enabled', 'yes', '--dir', dir, ...extra]);
}

/** Three even ranges, as redis-cli --cluster create splits them. */
const RANGES: [number, number][] = [[0, 5460], [5461, 10922], [10923, 16383]];

function topology(epoch: number, nodes: Node[]): string {
  return JSON.stringify({
    epoch,
    shards: nodes.map((n, i) => ({ slots: [RANGES[i]], master: { id: n.id, host: '127.0.0.1', port: n.port }, replicas: [] })),
  });
}

function ownerOf(nodes: Node[], key: string): Node {
  const slot = keyHashSlot(Buffer.from(key));
  return nodes[RANGES.findIndex(([a, b]) => slot >= a && slot <= b)];
}

describe('a three-node kvslab cluster', () => {
  const nodes: Node[] = [];
  let cluster: Cluster;

  beforeAll(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const started = await Promise.all(ports.map(async (port) => {
      const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-node-'));
      return { port, dir, server: await startNode(port, dir) };
    }));
    for (const s of started) {
      const client = s.server.client();
      nodes.push({ ...s, client, id: String(await client.call('CLUSTER', 'MYID')) });
    }
    const layout = topology(1, nodes);
    for (const n of nodes) expect(await n.client.call('KVCLUSTER', 'CONFIG', layout)).toBe('OK');
    cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0].port }], { redisOptions: { maxRetriesPerRequest: 1 } });
  });

  afterAll(async () => {
    cluster?.disconnect();
    await Promise.all(nodes.map((n) => n.server.stop()));
  });

  it('a node before any push owns nothing; after it, reports the layout in CLUSTER SLOTS and INFO', async () => {
    const fresh = await startNode(await freePort(), mkdtempSync(join(tmpdir(), 'kvslab-cluster-node-')));
    try {
      const r = fresh.client();
      expect(await r.call('CLUSTER', 'SLOTS')).toEqual([]);
      expect(await r.get('foo').catch((e: Error) => e.message)).toBe('CLUSTERDOWN Hash slot not served');
      expect(String(await r.call('CLUSTER', 'INFO'))).toContain('cluster_state:fail');
    } finally {
      await fresh.stop();
    }
    const slots = await nodes[1].client.call('CLUSTER', 'SLOTS') as unknown[][];
    expect(slots.map((s) => [s[0], s[1], (s[2] as unknown[]).slice(0, 3)])).toEqual(
      nodes.map((n, i) => [RANGES[i][0], RANGES[i][1], ['127.0.0.1', n.port, n.id]]),
    );
    const info = String(await nodes[1].client.call('CLUSTER', 'INFO'));
    expect(info).toMatch(/^cluster_state:ok\r\ncluster_slots_assigned:16384\r\n/);
    expect(info).toContain('cluster_known_nodes:3\r\ncluster_size:3\r\ncluster_current_epoch:1\r\ncluster_my_epoch:1\r\n');
    expect(await nodes[1].client.info('cluster')).toContain('cluster_enabled:1');
    const lines = String(await nodes[1].client.call('CLUSTER', 'NODES')).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes('myself'))).toBe(`${nodes[1].id} 127.0.0.1:${nodes[1].port}@0 myself,master - 0 0 1 connected 5461-10922`);
  });

  it('ioredis Cluster writes and reads 3,000 keys over all nodes; MGET of one hash tag; MULTI on one slot', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key:${i}`);
    await Promise.all(keys.map((k, i) => cluster.set(k, `v${i}`)));
    const got = await Promise.all(keys.map((k) => cluster.get(k)));
    expect(got).toEqual(keys.map((_, i) => `v${i}`));
    // Every node holds its share, and only keys of its own slots.
    for (const n of nodes) {
      const size = await n.client.dbsize();
      expect(size).toBeGreaterThan(800);
      const sample = await n.client.randomkey();
      expect(ownerOf(nodes, sample!).port).toBe(n.port);
    }
    await cluster.mset('{user1000}.name', 'ann', '{user1000}.age', '41');
    expect(await cluster.mget('{user1000}.name', '{user1000}.age', '{user1000}.none')).toEqual(['ann', '41', null]);
    const tx = await cluster.multi().incr('{acct}.n').incr('{acct}.n').get('{acct}.n').exec();
    expect(tx).toEqual([[null, 1], [null, 2], [null, '2']]);
  });

  it('a node redirects with MOVED, refuses CROSSSLOT, and SELECT of another database', async () => {
    const owner = ownerOf(nodes, 'foo');
    const other = nodes.find((n) => n !== owner)!;
    expect(await other.client.get('foo').catch((e: Error) => e.message)).toBe(`MOVED 12182 127.0.0.1:${owner.port}`);
    expect(await owner.client.mget('foo', 'hello').catch((e: Error) => e.message)).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    expect(await owner.client.select(1).catch((e: Error) => e.message)).toBe('ERR SELECT is not allowed in cluster mode');
    expect(await owner.client.select(0)).toBe('OK');
    // Commands without keys run anywhere.
    expect(await other.client.ping()).toBe('PONG');
  });

  it('MULTI: a queued command of another node\'s slot is refused and dooms EXEC; keys of two slots fail EXEC', async () => {
    const owner = ownerOf(nodes, 'foo');
    const r = owner.client;
    const foreign = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => ownerOf(nodes, k) !== owner)!;
    const moved = await r.multi().set('foo', '1').get(foreign).exec().catch((e: Error) => e.message);
    expect(String(moved)).toContain('EXECABORT');
    // Both slots here but different: queued, then EXEC refuses the whole (as Redis).
    const mine = Array.from({ length: 200 }, (_, i) => `t${i}`).filter((k) => ownerOf(nodes, k) === owner && keyHashSlot(Buffer.from(k)) !== keyHashSlot(Buffer.from('foo')));
    const raw = owner.server.client();
    expect(await raw.call('MULTI')).toBe('OK');
    expect(await raw.call('SET', 'foo', '1')).toBe('QUEUED');
    expect(await raw.call('SET', mine[0], '1')).toBe('QUEUED');
    expect(await raw.call('EXEC').catch((e: Error) => e.message)).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    // The transaction is gone.
    expect(await raw.call('EXEC').catch((e: Error) => e.message)).toBe('ERR EXEC without MULTI');
    // WATCH of keys in two slots.
    expect(await raw.call('WATCH', 'foo', mine[0]).catch((e: Error) => e.message)).toBe("CROSSSLOT Keys in request don't hash to the same slot");
  });

  it('redis-cli -c follows MOVED', () => {
    for (const n of nodes) expect(redisCli(n.port, ['-c', 'SET', `cli:${n.port}`, 'x']).trim()).toBe('OK');
    for (const n of nodes) expect(redisCli(nodes[0].port, ['-c', 'GET', `cli:${n.port}`]).trim()).toBe('x');
  });

  it('refuses a stale epoch and a slot owned twice, keeping the topology in force', async () => {
    const r = nodes[0].client;
    const before = await r.call('KVCLUSTER', 'GETCONFIG');
    expect(await r.call('KVCLUSTER', 'CONFIG', topology(1, nodes)).catch((e: Error) => e.message)).toBe('ERR epoch 1 is not above the current epoch 1');
    const dup = JSON.parse(topology(5, nodes));
    dup.shards[1].slots = [[5000, 10922]];
    expect(await r.call('KVCLUSTER', 'CONFIG', JSON.stringify(dup)).catch((e: Error) => e.message)).toBe('ERR invalid topology: duplicate slot 5000');
    expect(await r.call('KVCLUSTER', 'CONFIG', 'nope').catch((e: Error) => e.message)).toBe('ERR invalid topology: the topology is not valid JSON');
    expect(await r.call('KVCLUSTER', 'GETCONFIG')).toBe(before);
    expect(JSON.parse(String(before)).epoch).toBe(1);
    // Admin and dangerous for the ACL.
    const [[, , , , , , cats]] = await r.call('COMMAND', 'INFO', 'kvcluster|config') as unknown[][];
    expect(cats).toEqual(expect.arrayContaining(['@admin', '@dangerous']));
  });

  it('a restarted node comes back with its id and its slots from cluster-config-file', async () => {
    const n = nodes[2];
    const file = JSON.parse(readFileSync(join(n.dir, 'nodes.conf'), 'utf8'));
    expect(file['node-id']).toBe(n.id);
    expect(file['current-epoch']).toBe(1);
    await n.server.stop();
    n.server = await startNode(n.port, n.dir);
    n.client = n.server.client();
    expect(await n.client.call('CLUSTER', 'MYID')).toBe(n.id);
    const slots = await n.client.call('CLUSTER', 'SLOTS') as unknown[][];
    expect(slots.map((s) => [s[0], s[1]])).toEqual(RANGES);
    const key = Array.from({ length: 100 }, (_, i) => `r${i}`).find((k) => ownerOf(nodes, k) === n)!;
    expect(await n.client.set(key, 'back')).toBe('OK');
    expect(await nodes[0].client.get(key).catch((e: Error) => e.message)).toMatch(new RegExp(`^MOVED \\d+ 127\\.0\\.0\\.1:${n.port}$`));
  });
});

describe('an emulated cluster: one node owning every slot', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startKvslabOn(await freePort(), ['--cluster-enabled', 'emulated', '--dir', mkdtempSync(join(tmpdir(), 'kvslab-emulated-'))]);
  });
  afterAll(async () => { await srv.stop(); });

  it('answers the cluster commands with its own address', async () => {
    const r = srv.client();
    const id = String(await r.call('CLUSTER', 'MYID'));
    expect(await r.call('CLUSTER', 'SLOTS')).toEqual([[0, 16383, ['127.0.0.1', srv.port, id, []]]]);
    expect(String(await r.call('CLUSTER', 'NODES'))).toBe(`${id} 127.0.0.1:${srv.port}@0 myself,master - 0 0 0 connected 0-16383\n`);
    expect(await r.call('KVCLUSTER', 'CONFIG', '{}').catch((e: Error) => e.message)).toMatch(/needs cluster-enabled yes/);
    // CONFIG SET cluster-announce-ip: the announced address replaces the connection's.
    await r.config('SET', 'cluster-announce-ip', '10.9.8.7');
    expect((await r.call('CLUSTER', 'SLOTS') as unknown[][])[0][2]).toEqual(['10.9.8.7', srv.port, id, []]);
    await r.config('SET', 'cluster-announce-ip', '');
  });

  it('serves ioredis Cluster', async () => {
    const c = new Cluster([{ host: '127.0.0.1', port: srv.port }]);
    try {
      await Promise.all(Array.from({ length: 500 }, (_, i) => c.set(`e:${i}`, String(i))));
      expect(await c.get('e:499')).toBe('499');
      expect(await c.mget('{t}a', '{t}b')).toEqual([null, null]);
    } finally {
      c.disconnect();
    }
  });

  it('serves redis-py RedisCluster', () => {
    const script = [
      'import sys, json',
      'from redis.cluster import RedisCluster',
      "rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))",
      "for i in range(300): rc.set('py:%d' % i, i)",
      "out = {'get': rc.get('py:299').decode(), 'nodes': len(rc.get_nodes()), 'slot': rc.keyslot('hello'),",
      "       'mget': [x.decode() for x in rc.mget_nonatomic('py:1', 'py:2')], 'kvlen': rc.execute_command('EXISTS', 'py:1')}",
      'print(json.dumps(out))',
    ].join('\n');
    const out = JSON.parse(execFileSync(PY, ['-c', script, String(srv.port)], { encoding: 'utf8' }));
    expect(out).toEqual({ get: '299', nodes: 1, slot: 866, mget: ['1', '2'], kvlen: 1 });
  });
});
