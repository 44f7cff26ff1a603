// kvslab-cluster end to end, with real node processes and real clients: four
// empty nodes; create makes a cluster of three that ioredis's Cluster client
// and redis-cli -c use, and that both `kvslab-cluster check` and
// `redis-cli --cluster check` pass; create refuses a node with keys, one
// already in a cluster and one not started as a cluster node; add-node and
// del-node the fourth; a killed node fails check, fix gives its slots to the
// others, check passes again and a client that was connected all along
// reaches every slot. Then the same with ACL users and a password.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { freePort, startKvslab, type RunningServer } from '../helpers/servers.js';
import { addr, clusterNode, clusterTool as tool, redisCliCheck } from '../helpers/cluster-tool.js';
import { keyHashSlot } from '../../src/cluster/keyslot.js';

describe('kvslab-cluster', () => {
  const nodes: RunningServer[] = [];
  const others: RunningServer[] = [];
  let cluster: Cluster;

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) nodes.push(await clusterNode());
  });

  afterAll(async () => {
    cluster?.disconnect();
    await Promise.all([...nodes, ...others].map((s) => s.stop()));
  });

  it('create: three empty nodes become one cluster that clients and both checks accept', async () => {
    const r = await tool('create', ...nodes.slice(0, 3).map(addr));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('-> slots 0-5460');
    expect(r.out).toContain('-> slots 10923-16383');
    expect(r.out).toContain('[OK] All 16384 slots covered.');
    cluster = new Cluster([{ host: '127.0.0.1', port: nodes[1].port }]);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => cluster.set(`key:${i}`, `value:${i}`)));
    expect(await cluster.get('key:1999')).toBe('value:1999');
    const check = await tool('check', addr(nodes[2]));
    expect(check.code).toBe(0);
    expect(check.out).toContain('[OK] All nodes agree about slots configuration.');
    const sizes = await Promise.all(nodes.slice(0, 3).map(async (n) => Number(await n.client().dbsize())));
    expect(sizes.reduce((a, b) => a + b)).toBe(2000);
    for (const s of sizes) expect(s).toBeGreaterThan(500);
    const info = await tool('info', addr(nodes[0]));
    expect(info.out).toContain('[OK] 2000 keys in 3 masters.');
    const rc = await redisCliCheck(nodes[0].port);
    expect(rc.code).toBe(0);
    expect(rc.out).toContain('[OK] All 16384 slots covered.');
    // COUNTKEYSINSLOT on the owner agrees with the keys written there.
    const slot = keyHashSlot(Buffer.from('key:7'));
    const expected = Array.from({ length: 2000 }, (_, i) => `key:${i}`).filter((k) => keyHashSlot(Buffer.from(k)) === slot).length;
    const owner = nodes[[5460, 10922, 16383].findIndex((end) => slot <= end)];
    expect(await owner.client().call('CLUSTER', 'COUNTKEYSINSLOT', String(slot))).toBe(expected);
  });

  it('create refuses a node in a cluster, a node with keys and a node without cluster mode, naming it', async () => {
    const inCluster = await tool('create', addr(nodes[0]), addr(nodes[3]));
    expect(inCluster.code).toBe(1);
    expect(inCluster.err).toContain(`[ERR] Node ${addr(nodes[0])} is not empty`);
    const withKeys = await clusterNode();
    const plain = await startKvslab([]);
    others.push(withKeys, plain);
    // A node that owned every slot, took a key, then was given an empty topology: keys but no cluster.
    await withKeys.client().call('KVCLUSTER', 'CONFIG', JSON.stringify({ epoch: 1, shards: [{ slots: [[0, 16383]], master: { id: String(await withKeys.client().call('CLUSTER', 'MYID')), host: '127.0.0.1', port: withKeys.port } }] }));
    await withKeys.client().set('k', 'v');
    await withKeys.client().call('KVCLUSTER', 'CONFIG', JSON.stringify({ epoch: 2, shards: [] }));
    const keys = await tool('create', addr(withKeys), addr(nodes[3]));
    expect(keys.code).toBe(1);
    expect(keys.err).toContain(`Node ${addr(withKeys)} is not empty`);
    const notCluster = await tool('create', addr(plain));
    expect(notCluster.code).toBe(1);
    expect(notCluster.err).toContain(`Node ${addr(plain)} is not configured as a cluster node`);
    // Nothing was pushed to the fourth node meanwhile.
    expect(JSON.parse(String(await nodes[3].client().call('KVCLUSTER', 'GETCONFIG'))).shards).toEqual([]);
  });

  it('add-node and del-node: the fourth node joins without slots, then leaves and forgets the cluster', async () => {
    const add = await tool('add-node', addr(nodes[3]), addr(nodes[0]));
    expect(add.code).toBe(0);
    const check = await tool('check', addr(nodes[3]));
    expect(check.code).toBe(0);
    expect(check.out).toContain('(0 slots) master');
    expect((await redisCliCheck(nodes[3].port)).code).toBe(0);
    const id = String(await nodes[3].client().call('CLUSTER', 'MYID'));
    const busy = await tool('del-node', addr(nodes[0]), String(await nodes[1].client().call('CLUSTER', 'MYID')));
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/owns 5462 slots/);
    const del = await tool('del-node', addr(nodes[0]), id);
    expect(del.code).toBe(0);
    expect(JSON.parse(String(await nodes[3].client().call('KVCLUSTER', 'GETCONFIG'))).shards).toEqual([]);
    const after = await tool('check', addr(nodes[0]));
    expect(after.code).toBe(0);
    expect(after.out.match(/^M: /gm)?.length).toBe(3);
  });

  it('fix: a killed node fails check; its slots go to the others and a client connected all along reaches every slot', async () => {
    await nodes[2].stop();
    const check = await tool('check', addr(nodes[0]));
    expect(check.code).toBe(1);
    expect(check.err).toContain(`node ${addr(nodes[2])}`);
    const fix = await tool('fix', addr(nodes[1]));
    expect(fix.code).toBe(0);
    expect(fix.out).toContain('5461 slots go to the masters that answer');
    expect((await tool('check', addr(nodes[0]))).code).toBe(0);
    expect((await redisCliCheck(nodes[1].port)).code).toBe(0);
    // Keys of the lost node's slots are gone (a cache); every slot takes writes again.
    for (let i = 0; i < 300; i++) await cluster.set(`after:${i}`, String(i));
    for (let i = 0; i < 300; i += 37) expect(await cluster.get(`after:${i}`)).toBe(String(i));
    const again = await tool('fix', addr(nodes[0]));
    expect(again.code).toBe(0);
    expect(again.out).toContain('nothing to fix');
  }, 60_000);
});

describe('kvslab-cluster with ACL', () => {
  it('--user and --pass reach nodes that need them; without, it says why', async () => {
    const auth = ['--user', 'admin', 'on', '>secret', '~*', '&*', '+@all', '--user', 'default', 'off'];
    const nodes = await Promise.all([0, 1].map(() => clusterNode(auth)));
    try {
      const denied = await tool('create', ...nodes.map(addr));
      expect(denied.code).toBe(1);
      expect(denied.err).toMatch(/NOAUTH|WRONGPASS|NOPERM/);
      const ok = await tool('--user', 'admin', '--pass', 'secret', 'create', ...nodes.map(addr));
      expect(ok.code).toBe(0);
      const check = await tool('--user', 'admin', '--pass', 'secret', 'check', addr(nodes[0]));
      expect(check.code).toBe(0);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  }, 60_000);
});

describe('kvslab-cluster over TLS', () => {
  it('--tls --cacert creates a cluster through the nodes\' TLS ports; clients on TLS are sent to TLS ports, the others to plain ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-tls-'));
    // One self-signed certificate for 127.0.0.1, its own CA.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'n.key', '-out', 'n.crt',
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    const tlsArgs = async () => ['--tls-port', String(await freePort()), '--tls-cert-file', join(dir, 'n.crt'), '--tls-key-file', join(dir, 'n.key'),
      '--tls-ca-cert-file', join(dir, 'n.crt'), '--tls-auth-clients', 'no'];
    const nodes = [await clusterNode(await tlsArgs()), await clusterNode(await tlsArgs())];
    try {
      const tlsPorts = await Promise.all(nodes.map(async (n) => Number((await n.client().config('GET', 'tls-port') as string[])[1])));
      const created = await tool('--tls', '--cacert', join(dir, 'n.crt'), 'create', ...tlsPorts.map((p) => `127.0.0.1:${p}`));
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      const t = JSON.parse(String(await nodes[0].client().call('KVCLUSTER', 'GETCONFIG')));
      expect(t.shards.map((s: { master: { port: number; 'tls-port': number } }) => [s.master.port, s.master['tls-port']])).toEqual(nodes.map((n, i) => [n.port, tlsPorts[i]]));
      const tlsCli = (args: string[]) => execFileSync('redis-cli', ['--tls', '--cacert', join(dir, 'n.crt'), '-p', String(tlsPorts[0]), ...args], { encoding: 'utf8' });
      // foo's slot (12182) is on the second node.
      expect(tlsCli(['GET', 'foo']).trim()).toBe(`MOVED 12182 127.0.0.1:${tlsPorts[1]}`);
      expect(await nodes[0].client().get('foo').catch((e: Error) => e.message)).toBe(`MOVED 12182 127.0.0.1:${nodes[1].port}`);
      expect(tlsCli(['CLUSTER', 'NODES'])).toContain(`127.0.0.1:${tlsPorts[1]}@0 master`);
      expect(tlsCli(['-c', 'SET', 'foo', 'bar']).trim()).toBe('OK');
      expect(await nodes[1].client().get('foo')).toBe('bar');
      expect((await tool('--tls', '--cacert', join(dir, 'n.crt'), 'check', `127.0.0.1:${tlsPorts[1]}`)).code).toBe(0);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  }, 60_000);
});
