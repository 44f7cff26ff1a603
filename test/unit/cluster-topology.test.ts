// Topology JSON: what a push must satisfy, the slot map and the merged
// ranges of an accepted one, and the config file that keeps it.

import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { derivedShardId, emulatedTopology, parseTopology, Topology } from '../../src/cluster/topology.js';
import { readNodeConfig, writeNodeConfig } from '../../src/cluster/node-config-file.js';
import { ClusterState, ERR_DOWN, ERR_NOT_SERVED } from '../../src/cluster/cluster-state.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function shard(id: string, port: number, slots: number[][], extra: Record<string, unknown> = {}) {
  return { slots, master: { id, host: '127.0.0.1', port, ...extra }, replicas: [] };
}

function topo(epoch: number, shards: unknown[]): string {
  return JSON.stringify({ epoch, shards });
}

function parsed(text: string): Topology {
  const t = parseTopology(text);
  if (typeof t === 'string') throw new Error(t);
  return t;
}

const THREE = topo(3, [shard(A, 7000, [[0, 5460]]), shard(B, 7001, [[5461, 10922]]), shard(C, 7002, [[10923, 16383]])]);

describe('parseTopology', () => {
  it('a node with a tls-port: MOVED names it to clients on TLS, the plain port to the others', () => {
    const t = parsed(JSON.stringify({ epoch: 1, shards: [{ slots: [[0, 16383]], master: { id: A, host: '10.0.0.1', port: 7000, 'tls-port': 7100 } }] }));
    expect(t.moved(5, 0, false)).toBe('MOVED 5 10.0.0.1:7000');
    expect(t.moved(5, 0, true)).toBe('MOVED 5 10.0.0.1:7100');
    expect(t.shards[0].master.tlsPort).toBe(7100);
  });

  it('accepts three shards splitting the slots, with a slot -> shard map and MOVED texts', () => {
    const t = parsed(THREE);
    expect(t.epoch).toBe(3);
    expect(t.assigned).toBe(16384);
    expect(t.slotOwner.length).toBe(16384);
    expect([t.slotOwner[0], t.slotOwner[5460], t.slotOwner[5461], t.slotOwner[16383]]).toEqual([0, 0, 1, 2]);
    expect(t.ranges).toEqual([{ start: 0, end: 5460, shard: 0 }, { start: 5461, end: 10922, shard: 1 }, { start: 10923, end: 16383, shard: 2 }]);
    expect(t.moved(12739, 2, false)).toBe('MOVED 12739 127.0.0.1:7002');
    // No tls-port: a client on TLS is sent to the plain port too.
    expect(t.moved(12739, 2, true)).toBe('MOVED 12739 127.0.0.1:7002');
    expect(t.shardOf(B)).toBe(1);
    expect(t.shards[0].id).toBe(derivedShardId(A));
    expect(Object.isFrozen(t.shards)).toBe(true);
  });

  it('merges adjacent ranges and leaves unlisted slots unowned', () => {
    const t = parsed(topo(1, [shard(A, 7000, [[10, 19], [0, 9], [30, 30]]), shard(B, 7001, [[20, 29]])]));
    expect(t.shards[0].ranges).toEqual([[0, 19], [30, 30]]);
    expect(t.ranges).toEqual([{ start: 0, end: 19, shard: 0 }, { start: 20, end: 29, shard: 1 }, { start: 30, end: 30, shard: 0 }]);
    expect(t.assigned).toBe(31);
    expect(t.slotOwner[31]).toBe(-1);
  });

  it('round-trips through toJSON (shard ids, tls-port kept)', () => {
    const t = parsed(topo(5, [shard(A, 7000, [[0, 16383]], { 'tls-port': 7100 })]));
    const again = parsed(JSON.stringify(t.toJSON()));
    expect(again.toJSON()).toEqual(t.toJSON());
    expect(again.shards[0].master.tlsPort).toBe(7100);
  });

  const refusals: [string, string, RegExp][] = [
    ['not JSON', '{', /not valid JSON/],
    ['no epoch', JSON.stringify({ shards: [] }), /epoch must be/],
    ['negative epoch', topo(-1, []), /epoch must be/],
    ['shards not an array', JSON.stringify({ epoch: 1, shards: {} }), /shards must be an array/],
    ['a slot twice', topo(1, [shard(A, 7000, [[0, 100]]), shard(B, 7001, [[100, 200]])]), /^duplicate slot 100$/],
    ['a slot twice in one shard', topo(1, [shard(A, 7000, [[0, 10], [5, 6]])]), /^duplicate slot 5$/],
    ['a slot past 16383', topo(1, [shard(A, 7000, [[0, 16384]])]), /bad slot range/],
    ['a range backwards', topo(1, [shard(A, 7000, [[10, 5]])]), /bad slot range/],
    ['an upper-case id', topo(1, [shard(A.toUpperCase(), 7000, [])]), /bad id/],
    ['a short id', topo(1, [shard('abc', 7000, [])]), /bad id/],
    ['a node twice', topo(1, [shard(A, 7000, []), shard(A, 7001, [])]), /duplicate node id/],
    ['port 0', topo(1, [shard(A, 0, [])]), /bad port/],
    ['port 65536', topo(1, [shard(A, 65536, [])]), /bad port/],
    ['a bad tls-port', topo(1, [shard(A, 7000, [], { 'tls-port': 'x' })]), /bad tls-port/],
    ['an empty host', topo(1, [{ slots: [], master: { id: A, host: '', port: 7000 } }]), /bad host/],
    ['replicas', topo(1, [{ ...shard(A, 7000, []), replicas: [{ id: B, host: 'h', port: 1 }] }]), /not supported yet/],
    ['a bad shard id', topo(1, [{ ...shard(A, 7000, []), id: 'xyz' }]), /bad shard id/],
  ];
  for (const [what, text, why] of refusals) {
    it(`refuses ${what}`, () => {
      const t = parseTopology(text);
      expect(typeof t).toBe('string');
      expect(t).toMatch(why);
    });
  }
});

describe('the emulated topology', () => {
  it('is one shard owning every slot', () => {
    const t = emulatedTopology(0, { id: A, host: '', port: 7000, tlsPort: 0 });
    expect(t.assigned).toBe(16384);
    expect(t.ranges).toEqual([{ start: 0, end: 16383, shard: 0 }]);
    expect(t.shards[0].ranges).toEqual([[0, 16383]]);
  });
});

describe('cluster state and its config file', () => {
  const settings = { announceIp: '', port: 7000, tlsPort: 0, requireFullCoverage: true };

  it('makes an id at first start, keeps it, and installs only higher epochs, writing the file first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-'));
    const file = join(dir, 'nodes.conf');
    const s = ClusterState.open('yes', file, settings);
    expect(s.myId).toMatch(/^[0-9a-f]{40}$/);
    expect(readNodeConfig(file)).toEqual({ nodeId: s.myId, currentEpoch: 0, topology: null });
    // Nothing owned yet: every slot is not served.
    expect(s.refusal(0, false, false)).toBe(ERR_NOT_SERVED);
    const me = s.myId;
    const layout = topo(2, [shard(me, 7000, [[0, 8191]]), shard(B, 7001, [[8192, 16383]])]);
    expect(s.install(layout)).toBeNull();
    expect(s.currentEpoch).toBe(2);
    expect(s.myShard).toBe(0);
    expect(s.refusal(100, false, false)).toBeNull();
    expect(s.refusal(9000, false, false)).toBe('MOVED 9000 127.0.0.1:7001');
    // The same epoch again, or a lower one: refused, the old topology stays.
    expect(s.install(layout)).toBe('epoch 2 is not above the current epoch 2');
    expect(s.install(topo(1, []))).toBe('epoch 1 is not above the current epoch 2');
    expect(s.install(topo(9, [shard(B, 1, [[0, 0]]), shard(C, 2, [[0, 0]])]))).toBe('invalid topology: duplicate slot 0');
    expect(s.topology.epoch).toBe(2);
    // Atomic write: no temporary file left behind; a restart reads it all back.
    expect(readdirSync(dir)).toEqual(['nodes.conf']);
    const again = ClusterState.open('yes', file, settings);
    expect(again.myId).toBe(me);
    expect(again.currentEpoch).toBe(2);
    expect(again.refusal(9000, false, false)).toBe('MOVED 9000 127.0.0.1:7001');
    expect(again.topology.toJSON()).toEqual(s.topology.toJSON());
  });

  it('with full coverage required, an unowned slot takes the cluster down; without, only that slot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-'));
    const s = ClusterState.open('yes', join(dir, 'nodes.conf'), settings);
    expect(s.install(topo(1, [shard(s.myId, 7000, [[0, 100]])]))).toBeNull();
    expect(s.isDown).toBe(true);
    expect(s.refusal(50, false, false)).toBe(ERR_DOWN);
    expect(s.refusal(500, false, false)).toBe(ERR_NOT_SERVED);
    s.configure({ ...settings, requireFullCoverage: false });
    expect(s.isDown).toBe(false);
    expect(s.refusal(50, false, false)).toBeNull();
    expect(s.refusal(500, false, false)).toBe(ERR_NOT_SERVED);
  });

  it('refuses a corrupt config file rather than start with a new id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-'));
    const file = join(dir, 'nodes.conf');
    writeFileSync(file, '{"node-id": "nope"');
    expect(() => ClusterState.open('yes', file, settings)).toThrow(/corrupted cluster config file/);
    writeNodeConfig(file, { nodeId: A, currentEpoch: 4, topology: null });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'node-id': A, 'current-epoch': 4, topology: null });
  });

  it('emulated: every slot here, at the announced address; KVCLUSTER CONFIG refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-cluster-'));
    const s = ClusterState.open('emulated', join(dir, 'nodes.conf'), { ...settings, announceIp: '10.1.2.3' });
    expect(s.refusal(0, false, false)).toBeNull();
    expect(s.refusal(16383, false, false)).toBeNull();
    expect(s.topology.shards[0].master).toEqual({ id: s.myId, host: '10.1.2.3', port: 7000, tlsPort: 0 });
    expect(s.install(topo(1, []))).toMatch(/needs cluster-enabled yes/);
  });
});
