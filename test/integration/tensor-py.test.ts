// KV.* tensor commands from redis-py (Debian's python3-redis) and numpy
// (python3-numpy): the example src/examples/python/kv_numpy.py run as a user
// would run it, that example's checker shown to catch a corrupted slice, and
// inline scripts for the errors redis-py raises and for KV.* in a pipeline.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, startKvslab, RunningServer } from '../helpers/servers.js';

const PY = '/usr/bin/python3';
const EXAMPLE = join(ROOT, 'src', 'examples', 'python', 'kv_numpy.py');

// The example's figures: 4 layers, 2 heads of 8, 37 tokens, K and V.
const LAYERS = 4;
const TOKENS = 37;
const WIDTH = 2 * 8;

interface Run { status: number | null; stdout: string; stderr: string }

function py(args: string[]): Run {
  const r = spawnSync(PY, args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SUMMARY = [
  /^float16: layers=4 heads=2 headdim=8 tokens=37, (\d+) checks$/,
  /^float32: layers=4 heads=2 headdim=8 tokens=37, (\d+) checks$/,
  /^OK: (\d+) checks passed$/,
];

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

describe('src/examples/python/kv_numpy.py', () => {
  it('passes against kvslab, and again on a re-run over its own keys', () => {
    for (let i = 0; i < 2; i++) {
      const r = py([EXAMPLE, '--port', String(srv.port)]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      const counts = lines.map((l, j) => {
        const m = SUMMARY[j].exec(l);
        expect(m, l).not.toBeNull();
        return Number(m![1]);
      });
      // Each dtype does the same checks; KV.PREFIX adds two.
      expect(counts[0]).toBe(counts[1]);
      expect(counts[0]).toBeGreaterThan(60);
      expect(counts[2]).toBe(counts[0] + counts[1] + 2);
    }
  });

  it('leaves the keys it describes, readable by another client', async () => {
    py([EXAMPLE, '--port', String(srv.port)]);
    const c = srv.client();
    for (const dtype of ['float16', 'float32']) {
      const size = dtype === 'float16' ? 2 : 4;
      const info = await c.call('KV.INFO', `kvnp:${dtype}:put`) as unknown[];
      const m = new Map<string, unknown>();
      for (let i = 0; i < info.length; i += 2) m.set(String(info[i]), info[i + 1]);
      expect(m.get('dtype')).toBe(dtype);
      expect(m.get('length')).toBe(TOKENS);
      expect(m.get('layer_lengths')).toEqual(Array(LAYERS).fill(TOKENS));
      expect(m.get('bytes')).toBe(2 * LAYERS * TOKENS * WIDTH * size);
      const meta = JSON.parse(String(await c.call('KV.META', `kvnp:${dtype}:put`)));
      expect(meta).toEqual({ model: 'example', dtype, seed: 7 });
      // The three keys hold the same array, written three ways.
      const all = await c.callBuffer('KV.SLICE', `kvnp:${dtype}:all`, '0', '-1') as Buffer;
      expect(all.length).toBe(2 * LAYERS * (TOKENS - 1) * WIDTH * size);
      expect((await c.callBuffer('KV.SLICE', `kvnp:${dtype}:layers`, '0', '-1') as Buffer).equals(all)).toBe(true);
      expect((await c.callBuffer('KV.SLICE', `kvnp:${dtype}:put`, '0', '-1') as Buffer).equals(all)).toBe(true);
    }
    expect(await c.call('KV.PREFIX', ...Array.from({ length: 6 }, (_, i) => `kvnp:block:${i}`))).toBe(3);
  });

  it('reports a corrupted slice and exits 1', () => {
    // One bit of the first non-empty KV.SLICE reply flipped on the client side: the example must notice.
    const script = `
import sys, runpy, redis
real = redis.Redis.execute_command
seen = [0]
def corrupt(self, *args, **kw):
    res = real(self, *args, **kw)
    if args[0] == 'KV.SLICE' and res and not seen[0]:
        seen[0] = 1
        res = bytes([res[0] ^ 1]) + res[1:]
    return res
redis.Redis.execute_command = corrupt
sys.argv = [sys.argv[1], '--port', sys.argv[2]]
runpy.run_path(sys.argv[0], run_name='__main__')
`;
    const r = py(['-c', script, EXAMPLE, String(srv.port)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: 1 of \d+ checks$/m);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^MISMATCH: kvnp:float16:\S+: /)]);
  });

  it('exits non-zero when there is no server', async () => {
    const r = py([EXAMPLE, '--port', String(await freePort())]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ConnectionError|Connection refused/);
  });
});

// Errors: each KV.* failure is a redis.ResponseError with the server's text
// ("ERR " removed by redis-py), and leaves the key as it was.
const ERRORS = `
import sys, json, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = {}
def err(name, *args):
    try:
        res = r.execute_command(*args)
        out[name] = ['no error', repr(res)]
    except redis.ResponseError as e:
        out[name] = [type(e).__name__, str(e)]
shape = ['DTYPE', 'float16', 'LAYERS', 2, 'HEADS', 2, 'HEADDIM', 4]  # rows of 16 bytes, tokens of 64
r.delete('t', 'u', 's', 'p')
tok = bytes(range(64))
out['create'] = r.execute_command('KV.CREATE', 't', *shape).decode()
out['append'] = r.execute_command('KV.APPEND', 't', tok)
err('dtype', 'KV.CREATE', 'u', 'DTYPE', 'float64', 'LAYERS', 1, 'HEADS', 1, 'HEADDIM', 1)
err('dtype_put', 'KV.PUT', 'u', tok, 'DTYPE', 'bf16', 'LAYERS', 2, 'HEADS', 2, 'HEADDIM', 4)
err('dtype_create', 'KV.APPEND', 'u', tok, 'CREATE', 'DTYPE', 'fp8', 'LAYERS', 2, 'HEADS', 2, 'HEADDIM', 4)
err('size', 'KV.APPEND', 't', tok[:63])
err('size_layer', 'KV.APPEND', 't', tok[:48], 'LAYER', 1)
err('size_put', 'KV.PUT', 'u', bytes(100), *shape)
err('size_create', 'KV.APPEND', 'u', bytes(65), 'CREATE', *shape)
err('layer_append', 'KV.APPEND', 't', tok[:32], 'LAYER', 2)
err('layer_create', 'KV.APPEND', 'u', tok[:32], 'LAYER', 3, 'CREATE', *shape)
err('layer_slice', 'KV.SLICE', 't', 0, 1, 'LAYER', 5)
err('layers_slice', 'KV.SLICE', 't', 0, 1, 'LAYERS', 1, 3)
err('layer_max', 'KV.APPEND', 't', tok[:32], 'LAYER', 1024)
err('position', 'KV.APPEND', 't', tok, 'AT', 0)
err('position_layer', 'KV.APPEND', 't', tok[:32], 'LAYER', 1, 'AT', 2)
err('position_new', 'KV.APPEND', 'u', tok, 'AT', 3, 'CREATE', *shape)
err('shape', 'KV.APPEND', 't', tok, 'CREATE', 'DTYPE', 'float32', 'LAYERS', 2, 'HEADS', 2, 'HEADDIM', 4)
err('shape_missing', 'KV.APPEND', 'u', tok, 'CREATE', 'DTYPE', 'float16', 'LAYERS', 2, 'HEADS', 2)
err('no_key', 'KV.APPEND', 'u', tok)
out['len_before'] = r.execute_command('KV.LEN', 't')
out['slice_before'] = r.execute_command('KV.SLICE', 't', 0, 10).hex()
# Layer 0 one token ahead: a whole-layer append must wait until layer 1 catches up.
out['layer0'] = r.execute_command('KV.APPEND', 't', tok[:32], 'LAYER', 0)
err('disagree', 'KV.APPEND', 't', tok)
out['layer1'] = r.execute_command('KV.APPEND', 't', tok[32:], 'LAYER', 1, 'AT', 1)
out['slice'] = r.execute_command('KV.SLICE', 't', 0, 10).hex()
r.set('s', 'plain')
try:
    r.get('t')
    out['get'] = ['no error']
except redis.ResponseError as e:
    out['get'] = [type(e).__name__, str(e)]
err('append_string', 'KV.APPEND', 's', tok)
err('slice_string', 'KV.SLICE', 's', 0, 1)
err('mslice_string', 'KV.MSLICE', 0, 1, 't', 's')
out['get_s'] = r.get('s').decode()
out['exists_u'] = r.exists('u')
p = r.pipeline()  # MULTI/EXEC; the failing command does not stop the others
p.execute_command('KV.APPEND', 'p', tok, 'AT', 0, 'CREATE', *shape)
p.execute_command('KV.APPEND', 'p', tok, 'AT', 1)
p.execute_command('KV.APPEND', 'p', tok, 'AT', 1)
p.execute_command('KV.LEN', 'p')
out['pipeline'] = [str(x) if isinstance(x, Exception) else x for x in p.execute(raise_on_error=False)]
print(json.dumps(out))
`;

describe('redis-py errors and pipelines with KV.*', () => {
  it('raises ResponseError with the server message and leaves keys unchanged', () => {
    const r = py(['-c', ERRORS, String(srv.port)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const E = (msg: string) => ['ResponseError', msg];
    const dtypes = 'expected one of float32, float16, bfloat16, float8_e4m3, float8_e5m2, int8, uint8';
    const tok = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
    // [kv][layer][token][row]: token 0 of every stream is tok in 16-byte rows; token 1 of layer 0
    // came from tok[0:32] (K, V), token 1 of layer 1 from tok[32:64].
    const row = (i: number) => tok.subarray(16 * i, 16 * i + 16);
    const after = Buffer.concat([row(0), row(0), row(1), row(2), row(2), row(1), row(3), row(3)]);
    expect(out).toEqual({
      create: 'OK',
      append: 1,
      dtype: E(`unknown dtype 'float64', ${dtypes}`),
      dtype_put: E(`unknown dtype 'bf16', ${dtypes}`),
      dtype_create: E(`unknown dtype 'fp8', ${dtypes}`),
      size: E('payload of 63 bytes is not a whole number of tokens of 64 bytes'),
      size_layer: E('payload of 48 bytes is not a whole number of tokens of 32 bytes'),
      size_put: E('payload of 100 bytes is not a whole number of tokens of 64 bytes'),
      size_create: E('payload of 65 bytes is not a whole number of tokens of 64 bytes'),
      layer_append: E('layer 2 is out of range, the key has 2 layers'),
      layer_create: E('layer 3 is out of range, the key has 2 layers'),
      layer_slice: E('layer 5 is out of range, the key has 2 layers'),
      layers_slice: E('layer 2 is out of range, the key has 2 layers'),
      layer_max: E('LAYER must be between 0 and 1023'),
      position: E('position mismatch, length is 1'),
      position_layer: E('position mismatch, length is 1'),
      position_new: E('position mismatch, length is 0'),
      shape: E('shape mismatch, the key has dtype float16 layers 2 heads 2 headdim 4 kv 2'),
      shape_missing: E('KV.APPEND ... CREATE needs DTYPE, LAYERS, HEADS and HEADDIM'),
      no_key: E('no such key'),
      len_before: 1,
      slice_before: tok.toString('hex'),
      layer0: 1,
      disagree: E('layers hold from 1 to 2 tokens: append by LAYER until they agree'),
      layer1: 2,
      slice: after.toString('hex'),
      get: E('WRONGTYPE Operation against a key holding the wrong kind of value'),
      append_string: E('WRONGTYPE Operation against a key holding the wrong kind of value'),
      slice_string: E('WRONGTYPE Operation against a key holding the wrong kind of value'),
      mslice_string: E('WRONGTYPE Operation against a key holding the wrong kind of value'),
      get_s: 'plain',
      exists_u: 0,
      pipeline: [1, 2, 'position mismatch, length is 2', 2],
    });
  });
});
