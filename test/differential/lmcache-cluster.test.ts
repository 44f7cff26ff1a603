// LMCache's redis-cluster:// connector, replayed with redis-py's RedisCluster
// (as LMCache runs it) against a three-node kvslab cluster and a three-node
// Redis Cluster: the same command sequence as its redis:// connector (a
// chunk is two keys, `<key>kv_bytes` and `<key>metadata`, which land in
// different slots and so mostly on different nodes), and the two transcripts
// (each command and a summary of its reply) must be equal.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../helpers/servers.js';
import { addr, clusterNode, clusterTool as tool, redisCluster } from '../helpers/cluster-tool.js';

const PY = '/usr/bin/python3';

// The connector's sequence: store every chunk (SET ... EX, data then metadata),
// look the prefix up with EXISTS per chunk until the first 0, read metadata
// then data, drop metadata whose data is gone, and a chunk stored again.
const REPLAY = `
import hashlib, sys
from redis.cluster import RedisCluster
rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))
out = []
def log(cmd, r):
    if isinstance(r, bytes):
        r = '<%d bytes %s>' % (len(r), hashlib.sha256(r).hexdigest()[:16])
    out.append('%s -> %r' % (cmd, r))
def data(i, n):
    return hashlib.shake_256(b'kv:%d' % i).digest(n)
sizes = [1, 4096, 65536, 65537, 1 << 20, 4000000]
prev = b'\\0' * 32
keys = []
for i in range(len(sizes) + 2):
    prev = hashlib.sha256(prev + b'chunk%d' % i).digest()
    keys.append('llama3-8b@1@0@%s@bfloat16' % prev.hex())
for i, n in enumerate(sizes):
    log('SET %skv_bytes <%d> EX 600' % (keys[i], n), rc.set(keys[i] + 'kv_bytes', data(i, n), ex=600))
    log('SET %smetadata EX 600' % keys[i], rc.set(keys[i] + 'metadata', b'meta%d' % i, ex=600))
def lookup(ks):
    for k in ks:
        n = rc.exists(k + 'metadata')
        log('EXISTS %smetadata' % k, n)
        if n == 0:
            break
lookup(keys)
for i in range(len(sizes)):
    m = rc.get(keys[i] + 'metadata')
    log('GET %smetadata' % keys[i], m)
    log('GET %skv_bytes' % keys[i], rc.get(keys[i] + 'kv_bytes'))
log('DEL %skv_bytes' % keys[3], rc.delete(keys[3] + 'kv_bytes'))
log('GET %smetadata' % keys[3], rc.get(keys[3] + 'metadata'))
d = rc.get(keys[3] + 'kv_bytes')
log('GET %skv_bytes' % keys[3], d)
if d is None:
    log('DEL %smetadata' % keys[3], rc.delete(keys[3] + 'metadata'))
lookup(keys)
log('SET %skv_bytes again' % keys[3], rc.set(keys[3] + 'kv_bytes', data(3, sizes[3]), ex=600))
log('SET %smetadata again' % keys[3], rc.set(keys[3] + 'metadata', b'meta3', ex=600))
lookup(keys)
log('TTL', 590 <= rc.ttl(keys[0] + 'kv_bytes') <= 600)
stored = [k + s for k in keys[:6] for s in ('kv_bytes', 'metadata')]
print(len({rc.keyslot(k) for k in stored}), len({rc.get_node_from_key(k).port for k in stored}))
print('\\n'.join(out))
`;

/** The transcript, and how many slots and nodes the 12 stored keys landed in. */
async function replay(port: number): Promise<{ slots: number; nodes: number; transcript: string[] }> {
  const { stdout } = await promisify(execFile)(PY, ['-c', REPLAY, String(port)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const [spread, ...transcript] = stdout.trim().split('\n');
  const [slots, nodes] = spread.split(' ').map(Number);
  return { slots, nodes, transcript };
}

describe("LMCache's redis-cluster:// connector (redis-py RedisCluster)", () => {
  const kv: RunningServer[] = [];
  let redis: RunningServer[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) kv.push(await clusterNode());
    expect((await tool('create', ...kv.map(addr))).code).toBe(0);
    redis = await redisCluster(3);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...kv, ...redis].map((s) => s.stop()));
  });

  it('the same transcript on a kvslab cluster and on a Redis Cluster, a chunk\'s two keys in different slots and nodes', async () => {
    const [k, r] = await Promise.all([replay(kv[0].port), replay(redis[0].port)]);
    expect(k.transcript.length).toBeGreaterThan(30);
    expect(k.transcript).toEqual(r.transcript);
    expect(k.transcript).toContain(`EXISTS ${k.transcript.find((l) => l.startsWith('DEL') && l.includes('metadata'))!.split(' ')[1]} -> 0`);
    expect(k.slots).toBe(12);
    expect(k.nodes).toBeGreaterThanOrEqual(2);
    expect(r.nodes).toBe(k.nodes);
  }, 60_000);
});
