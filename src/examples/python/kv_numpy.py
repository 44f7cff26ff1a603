#!/usr/bin/env python3
"""kvslab KV.* commands from Python, with redis-py and numpy only.

An attention K/V cache for one sequence is an array of shape
(kv, layers, tokens, heads * headdim): kv is 2 (K and V). kvslab stores it
under one key, by token position, and every payload it takes or returns is
that array's C-order bytes for some of its part:

    KV.APPEND key payload              arr[:, :, a:b]   ([kv][layer][token][H*D])
    KV.APPEND key payload LAYER l      arr[:, l, a:b]   ([kv][token][H*D])
    KV.SLICE  key a b                  arr[:, :, a:b]
    KV.SLICE  key a b LAYER l          arr[:, l, a:b]
    KV.SLICE  key a b LAYERS f t       arr[:, f:t, a:b]

Token positions a, b behave like Python slice bounds (negatives count from
the end, out-of-range ends are clamped), so numpy slicing is the reference.
This script writes float16 and float32 arrays (with NaNs, infinities and
-0.0 among the values) in blocks, reads parts of them back, and compares every
result bit for bit with numpy. It prints a summary and exits with status 1 on
any mismatch.

    python3 src/examples/python/kv_numpy.py [--host H] [--port N]

It uses (and first deletes) keys under "kvnp:" and leaves them behind for a
look with redis-cli, e.g. KV.INFO kvnp:float16:put.
"""

import argparse
import json
import re
import sys

import numpy as np
import redis

LAYERS, HEADS, HEADDIM, TOKENS = 4, 2, 8, 37
DTYPES = ('float16', 'float32')
# The uint type of the same size: comparing through it makes NaN == NaN bit for bit.
BITS = {'float16': np.uint16, 'float32': np.uint32}

checks = 0
failures = []


def check(what, ok):
    """Counts one check; remembers and prints it when it failed."""
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print('MISMATCH: ' + what, file=sys.stderr)


def same(what, got, expected):
    """Checks a KV.SLICE/KV.MSLICE payload against a numpy array, bit for bit."""
    ok = isinstance(got, bytes) and got == expected.tobytes()
    if ok:
        # Same thing once more the way a user would read a slice: as an array.
        arr = np.frombuffer(got, dtype=expected.dtype).reshape(expected.shape)
        bits = BITS[expected.dtype.name]
        ok = np.array_equal(arr.view(bits), expected.view(bits))
    check(what, ok)


def make_kv(rng, dtype, layers, tokens, width):
    """Random K/V of shape (2, layers, tokens, width), with some special values sprinkled in."""
    a = rng.standard_normal((2, layers, tokens, width)).astype(dtype)
    flat = a.reshape(-1)
    specials = [np.nan, np.inf, -np.inf, -0.0]
    for i, v in zip(rng.choice(flat.size, size=8, replace=False), specials * 2):
        flat[i] = v
    # A NaN with a payload other than numpy's own: only a bitwise compare sees it.
    nan_bits = np.array([0x7E01 if dtype == 'float16' else 0x7FC00001], dtype=BITS[dtype])
    flat[rng.integers(flat.size)] = nan_bits.view(dtype)[0]
    return a


def kv_info(r, key):
    """KV.INFO as a dict; the RESP2 reply is a flat [name, value, name, value, ...] array."""
    flat = r.execute_command('KV.INFO', key)
    it = iter(flat)
    return {k.decode(): (v.decode() if isinstance(v, bytes) else v) for k, v in zip(it, it)}


def append_at(r, key, payload, at, tokens, *options):
    """
    KV.APPEND at a known position, safe to retry. With AT the server appends
    only if the key (or the LAYER) holds exactly `at` tokens. If an earlier
    try landed but its reply was lost, a retry gets "position mismatch, length
    is at+tokens": that means done, not failed. Returns the committed length,
    or None for a retry of a block that was already there.
    """
    try:
        return r.execute_command('KV.APPEND', key, payload, 'AT', at, *options)
    except redis.ResponseError as e:
        m = re.fullmatch(r'position mismatch, length is (\d+)', str(e))
        if m and int(m.group(1)) == at + tokens:
            return None
        raise


def run(r, rng, dtype):
    shape = ['DTYPE', dtype, 'LAYERS', LAYERS, 'HEADS', HEADS, 'HEADDIM', HEADDIM]
    kv = make_kv(rng, dtype, LAYERS, TOKENS, HEADS * HEADDIM)
    k_all, k_lay, k_put = 'kvnp:%s:all' % dtype, 'kvnp:%s:layers' % dtype, 'kvnp:%s:put' % dtype
    r.delete(k_all, k_lay, k_put, 'kvnp:missing')

    # 1. Every layer at once, in blocks, as a decoder appends token by token
    #    (and a prefill appends a prompt): the first block creates the key.
    pos = 0
    for n in (5, 1, 16, 9, 6):
        block = kv[:, :, pos:pos + n].tobytes()
        check('%s: append %d tokens at %d' % (k_all, n, pos),
              append_at(r, k_all, block, pos, n, 'CREATE', *shape) == pos + n)
        # The same block sent again, as after a lost reply: recognised, not doubled.
        check('%s: retry at %d is a no-op' % (k_all, pos), append_at(r, k_all, block, pos, n) is None)
        pos += n
    check('%s: KV.LEN' % k_all, r.execute_command('KV.LEN', k_all) == TOKENS)

    # 2. One layer at a time, as a prefill computes them: the committed length
    #    (tokens present in every layer) moves only when the last layer lands.
    pos = 0
    for n in (8, 13, 16):
        for layer in range(LAYERS):
            got = append_at(r, k_lay, kv[:, layer, pos:pos + n].tobytes(), pos, n,
                            'LAYER', layer, 'CREATE', *shape)
            check('%s: append layer %d at %d' % (k_lay, layer, pos),
                  got == (pos + n if layer == LAYERS - 1 else pos))
            if layer == 0:
                # A layer can be read ahead of the committed length.
                same('%s: layer 0 ahead' % k_lay,
                     r.execute_command('KV.SLICE', k_lay, 0, pos + n, 'LAYER', 0), kv[:, 0, :pos + n])
        pos += n

    # 3. Token ranges, single layers and layer ranges back, from both keys.
    ranges = [(0, TOKENS), (0, 1), (3, 11), (16, 17), (-5, TOKENS), (-6, -2), (30, 1000), (20, 10)]
    for key in (k_all, k_lay):
        for a, b in ranges:
            same('%s: slice %d %d' % (key, a, b), r.execute_command('KV.SLICE', key, a, b), kv[:, :, a:b])
        for layer in range(LAYERS):
            same('%s: slice 2 33 LAYER %d' % (key, layer),
                 r.execute_command('KV.SLICE', key, 2, 33, 'LAYER', layer), kv[:, layer, 2:33])
        for f, t in ((0, 1), (1, 3), (0, LAYERS)):
            same('%s: slice 7 -7 LAYERS %d %d' % (key, f, t),
                 r.execute_command('KV.SLICE', key, 7, -7, 'LAYERS', f, t), kv[:, f:t, 7:-7])

    # 4. The whole array in one KV.PUT, with a META blob and a TTL.
    meta = json.dumps({'model': 'example', 'dtype': dtype, 'seed': 7}).encode()
    check('%s: KV.PUT' % k_put, r.execute_command('KV.PUT', k_put, kv.tobytes(), *shape,
                                                 'META', meta, 'EX', 3600) == TOKENS)
    check('%s: KV.META' % k_put, r.execute_command('KV.META', k_put) == meta)
    info = kv_info(r, k_put)
    row = HEADS * HEADDIM * kv.itemsize
    expected = {'dtype': dtype, 'layers': LAYERS, 'kv': 2, 'heads': HEADS, 'headdim': HEADDIM,
                'length': TOKENS, 'layer_lengths': [TOKENS] * LAYERS, 'bytes_per_token': 2 * LAYERS * row,
                'bytes': kv.nbytes, 'meta_bytes': len(meta)}
    check('%s: KV.INFO %r' % (k_put, info), {k: info.get(k) for k in expected} == expected
          and 0 < info['ttl'] <= 3600)

    # 5. Several keys in one round trip; KV.MSLICE stops at the first missing key.
    got = r.execute_command('KV.MSLICE', 4, 20, k_all, k_lay, k_put, 'kvnp:missing', k_all)
    check('KV.MSLICE: 3 replies', len(got) == 3)
    for key, payload in zip((k_all, k_lay, k_put), got):
        same('KV.MSLICE 4 20: %s' % key, payload, kv[:, :, 4:20])

    # 6. KV.TRUNCATE drops tokens from a position on (e.g. a rejected draft);
    #    appending from there again restores the rest.
    check('%s: KV.TRUNCATE 3' % k_put, r.execute_command('KV.TRUNCATE', k_put, 3) == 3)
    same('%s: after truncate' % k_put, r.execute_command('KV.SLICE', k_put, 0, TOKENS), kv[:, :, :3])
    check('%s: re-append' % k_put, append_at(r, k_put, kv[:, :, 3:].tobytes(), 3, TOKENS - 3) == TOKENS)
    same('%s: after re-append' % k_put, r.execute_command('KV.SLICE', k_put, 0, TOKENS), kv)
    check('%s: META kept' % k_put, r.execute_command('KV.META', k_put) == meta)


def prefix_cache(r):
    """KV.PREFIX: of a chain of keys (one per block of a prompt), how many exist in a row from the first."""
    blocks = ['kvnp:block:%d' % i for i in range(6)]
    r.delete(*blocks)
    payload = np.arange(2 * 1 * 16 * 4, dtype=np.float16).tobytes()  # 16 tokens, 1 layer, 1 head of 4
    for key in blocks:
        r.execute_command('KV.PUT', key, payload, 'DTYPE', 'float16', 'LAYERS', 1, 'HEADS', 1, 'HEADDIM', 4)
    check('KV.PREFIX all', r.execute_command('KV.PREFIX', *blocks) == 6)
    r.delete(blocks[3])  # as if evicted: only the blocks before it can be reused
    check('KV.PREFIX after a gap', r.execute_command('KV.PREFIX', *blocks) == 3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=6379)
    args = p.parse_args()
    r = redis.Redis(host=args.host, port=args.port)
    rng = np.random.default_rng(7)
    for dtype in DTYPES:
        before = checks
        run(r, rng, dtype)
        print('%s: layers=%d heads=%d headdim=%d tokens=%d, %d checks'
              % (dtype, LAYERS, HEADS, HEADDIM, TOKENS, checks - before))
    prefix_cache(r)
    if failures:
        print('FAILED: %d of %d checks' % (len(failures), checks))
        return 1
    print('OK: %d checks passed' % checks)
    return 0


if __name__ == '__main__':
    sys.exit(main())
