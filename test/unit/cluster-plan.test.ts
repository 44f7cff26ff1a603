// The cluster manager's decisions (src/manager/plan.ts), without servers:
// the even split (redis-cli's), the topologies of create, add-node,
// del-node and fix, and check's comparison of the nodes' views.

import { describe, expect, it } from 'vitest';
import {
  checkViews, createTopology, evenRanges, fixTopology, mergeRanges, movedTopology, parseAddr, parseRangesText, pickSlots, rebalanceMoves,
  slotCount, unownedRanges, withNode, withoutNode, type NodeAddr, type TopologyJson,
} from '../../src/manager/plan.js';

const node = (i: number): NodeAddr => ({ id: String(i).repeat(40).slice(0, 40).replace(/[^0-9a-f]/g, 'a'), host: '127.0.0.1', port: 7000 + i });

function covered(t: TopologyJson): number {
  return t.shards.reduce((n, s) => n + slotCount(s), 0);
}

describe('evenRanges', () => {
  it('splits 16,384 slots as redis-cli --cluster create does', () => {
    expect(evenRanges(3)).toEqual([[0, 5460], [5461, 10922], [10923, 16383]]);
    expect(evenRanges(1)).toEqual([[0, 16383]]);
    expect(evenRanges(2)).toEqual([[0, 8191], [8192, 16383]]);
  });

  it('covers every slot once for any count; shares differ by at most one', () => {
    for (const n of [1, 2, 3, 5, 7, 10, 100, 1000, 16384]) {
      const r = evenRanges(n);
      expect(r.length).toBe(n);
      let next = 0;
      for (const [a, b] of r) {
        expect(a).toBe(next);
        next = b + 1;
      }
      expect(next).toBe(16384);
      const sizes = r.map(([a, b]) => b - a + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('more masters than slots: the last ones get none', () => {
    const r = evenRanges(5, 0, 2);
    expect(r.filter(([a, b]) => b >= a).map(([a, b]) => b - a + 1).reduce((x, y) => x + y, 0)).toBe(3);
    const t = createTopology(1, [0, 1, 2, 3].map(node));
    expect(covered(t)).toBe(16384);
  });
});

describe('the next topology', () => {
  const three = createTopology(1, [1, 2, 3].map(node));

  it('add-node: a master without slots, one epoch up', () => {
    const t = withNode(three, node(4));
    expect(t.epoch).toBe(2);
    expect(t.shards.map((s) => slotCount(s))).toEqual([5461, 5462, 5461, 0]);
  });

  it('del-node: only a master without slots leaves', () => {
    expect(withoutNode(three, node(2).id)).toMatch(/owns 5462 slots/);
    expect(withoutNode(three, 'f'.repeat(40))).toMatch(/no node/);
    const t = withoutNode(withNode(three, node(4)), node(4).id) as TopologyJson;
    expect(t.epoch).toBe(3);
    expect(t.shards.map((s) => s.master.id)).toEqual([1, 2, 3].map((i) => node(i).id));
  });

  it('fix: a dead master\'s slots go to the others in contiguous runs, evenly; everything covered once', () => {
    const r = fixTopology(three, new Set([node(2).id]));
    if (typeof r === 'string') throw new Error(r);
    expect(r.moved).toBe(5462);
    expect(r.topology.epoch).toBe(2);
    expect(r.topology.shards.map((s) => s.master.id)).toEqual([node(1).id, node(3).id]);
    expect(r.topology.shards.map((s) => slotCount(s))).toEqual([8192, 8192]);
    expect(r.topology.shards[0].slots).toEqual([[0, 8191]]);
    expect(r.topology.shards[1].slots).toEqual([[8192, 16383]]);
    expect(unownedRanges(r.topology)).toEqual([]);
  });

  it('fix: slots nobody owned are split over the masters too, the one with fewest first; with no master left it refuses', () => {
    const holes: TopologyJson = { epoch: 5, shards: [{ slots: [[0, 99], [200, 16383]], master: node(1), replicas: [] }, { slots: [], master: node(2), replicas: [] }] };
    const r = fixTopology(holes, new Set());
    if (typeof r === 'string') throw new Error(r);
    expect(r.moved).toBe(100);
    expect(r.topology.shards[1].slots).toEqual([[100, 149]]);
    expect(r.topology.shards[0].slots).toEqual([[0, 99], [150, 16383]]);
    expect(fixTopology(three, new Set([1, 2, 3].map((i) => node(i).id)))).toMatch(/no master/);
  });

  it('mergeRanges sorts and joins ranges that touch or overlap', () => {
    expect(mergeRanges([[10, 20], [0, 4], [5, 9], [30, 40], [35, 50]])).toEqual([[0, 20], [30, 50]]);
  });
});

describe('check', () => {
  const t = createTopology(3, [1, 2, 3].map(node));
  const views = t.shards.map((s) => ({ addr: `${s.master.host}:${s.master.port}`, id: s.master.id, topology: t }));

  it('no problem when every node holds the topology', () => {
    expect(checkViews(t, views)).toEqual([]);
  });

  it('names a node that does not answer, one at another epoch, one with another map, uncovered slots', () => {
    const older = { ...t, epoch: 2 };
    const other: TopologyJson = { epoch: 3, shards: t.shards.map((s, i) => ({ ...s, slots: i === 0 ? [[0, 100]] : s.slots })) };
    const problems = checkViews(other, [
      { addr: views[0].addr, error: 'no connection' },
      { ...views[1], topology: older },
      views[2],
    ]);
    expect(problems[0]).toMatch(/127\.0\.0\.1:7001 .* does not answer: no connection/);
    expect(problems[1]).toMatch(/7002 is at epoch 2, the cluster at 3/);
    expect(problems[2]).toMatch(/7003 has another slot map at the same epoch 3/);
    expect(problems[3]).toMatch(/^5360 slots are not covered \(101-5460\)$/);
  });
});

describe('parseAddr', () => {
  it('host:port, [v6]:port; refuses a bad port or none', () => {
    expect(parseAddr('127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseAddr('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseAddr('host:0')).toBeNull();
    expect(parseAddr('host')).toBeNull();
    expect(parseAddr(':7000')).toBeNull();
  });
});

describe('moving slots', () => {
  const three = createTopology(1, [1, 2, 3].map(node));

  it('pickSlots takes a master\'s lowest slots, across its ranges', () => {
    const s = { slots: [[100, 109], [0, 4]] as [number, number][], master: node(1), replicas: [] };
    expect(pickSlots(s, 3)).toEqual([[0, 2]]);
    expect(pickSlots(s, 8)).toEqual([[0, 4], [100, 102]]);
    expect(pickSlots(s, 99)).toEqual([[0, 4], [100, 109]]);
  });

  it('movedTopology: the ranges leave one master for another at the epoch given; the rest is as it was', () => {
    const t = movedTopology(three, node(1).id, node(2).id, [[0, 99], [5000, 5460]], 7);
    expect(t.epoch).toBe(7);
    expect(t.shards[0].slots).toEqual([[100, 4999]]);
    expect(t.shards[1].slots).toEqual([[0, 99], [5000, 10922]]);
    expect(t.shards[2]).toEqual(three.shards[2]);
    expect(unownedRanges(t)).toEqual([]);
  });

  it('rebalanceMoves: a new empty master gets its share from the others; a balanced cluster needs none', () => {
    const four = withNode(three, node(4));
    const moves = rebalanceMoves(four);
    expect(moves.every((m) => m.to === node(4).id)).toBe(true);
    expect(moves.reduce((n, m) => n + m.count, 0)).toBe(4096);
    let t = four;
    for (const m of moves) {
      const from = t.shards.find((s) => s.master.id === m.from)!;
      t = movedTopology(t, m.from, m.to, pickSlots(from, m.count), t.epoch + 1);
    }
    expect(t.shards.map((s) => slotCount(s))).toEqual([4096, 4096, 4096, 4096]);
    expect(rebalanceMoves(t)).toEqual([]);
    expect(rebalanceMoves(three)).toEqual([]);
  });

  it('rebalanceMoves leaves a master alone within the threshold', () => {
    const skew: TopologyJson = { epoch: 1, shards: [
      { slots: [[0, 8250]], master: node(1), replicas: [] }, { slots: [[8251, 16383]], master: node(2), replicas: [] },
    ] };
    // 59 slots over an even 8192: 0.7% off.
    expect(rebalanceMoves(skew)).toEqual([]);
    expect(rebalanceMoves(skew, 0.1)).toEqual([{ from: node(1).id, to: node(2).id, count: 59 }]);
  });

  it('parseRangesText reads GETSLOTMIGRATIONS\'s ranges', () => {
    expect(parseRangesText('0-99,5000-5460')).toEqual([[0, 99], [5000, 5460]]);
    expect(parseRangesText('')).toEqual([]);
  });
});
