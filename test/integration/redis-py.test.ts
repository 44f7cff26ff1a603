// redis-py (Debian's python3-redis) against kvslab: plain commands, binary
// values, pipeline() (MULTI/EXEC by default), WATCH with a retried
// transaction, SCAN iteration, errors raised as Python exceptions.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, RunningServer } from '../helpers/servers.js';

const PY = '/usr/bin/python3';

const SCRIPT = `
import sys, json, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = {}
out['ping'] = r.ping()
r.set(b'bin\\x00key', b'\\x00\\xff\\r\\n')
out['bin'] = r.get(b'bin\\x00key').hex()
out['incr'] = r.incrby('n', 41) + 0
r.incr('n')
out['n'] = int(r.get('n'))
p = r.pipeline()  # transaction=True: MULTI ... EXEC
p.set('a', 1).incr('a').get('a').expire('a', 100).ttl('a')
out['pipeline'] = [x.decode() if isinstance(x, bytes) else x for x in p.execute()]
def bump(pipe):
    v = int(pipe.get('w') or 0)
    pipe.multi()
    pipe.set('w', v + 1)
out['watch'] = r.transaction(bump, 'w')
out['w'] = int(r.get('w'))
for i in range(250):
    r.set('scan:%d' % i, i)
out['scan'] = len(set(r.scan_iter(match='scan:*', count=20)))
try:
    r.execute_command('INCR', 'bin\\x00key')
except redis.ResponseError as e:
    out['error'] = str(e)
out['mget'] = [x.decode() if x else None for x in r.mget('a', 'missing', 'n')]
out['info_keys'] = r.info('keyspace')['db0']['keys']
print(json.dumps(out))
`;

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

describe('redis-py', () => {
  it('works unchanged', () => {
    const out = JSON.parse(execFileSync(PY, ['-c', SCRIPT, String(srv.port)], { encoding: 'utf8' }));
    expect(out).toEqual({
      ping: true,
      bin: '00ff0d0a',
      incr: 41,
      n: 42,
      pipeline: [true, 2, '2', true, 100],
      watch: [true],
      w: 1,
      scan: 250,
      error: 'value is not an integer or out of range',
      mget: ['2', null, '42'],
      info_keys: 254,
    });
  });
});
