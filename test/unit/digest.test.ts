// DEBUG DIGEST and DEBUG DIGEST-VALUE in-process (persistence/digest.ts):
// known datasets against the digests Redis 7.0.15 gave for them, and the
// rule for KV tensors, which Redis has no digest of. The live comparison
// with a running redis-server is test/differential/digest.test.ts.

import { describe, expect, it } from 'vitest';
import { TestServer, type TestContext } from '../helpers/context.js';

const ZEROS = '0'.repeat(40);
const BINARY_KEY = Buffer.from([0, 0xff, 13, 10]);

/**
 * Replies of Debian's redis-server 7.0.15 (enable-debug-command yes) to
 * DEBUG DIGEST / DEBUG DIGEST-VALUE after the commands named, recorded by
 * hand from redis-cli and ioredis.
 */
const REDIS = {
  // SET foo bar
  fooBar: 'd2ab4820c1be0580ea28efbfe8bfa1dc05bb802a',
  // ... SET n 12345, SET empty "", SET "\x00\xff\r\n" "\x01\x02", SET t v EX 100000
  db0: 'a2973c3609076c47e46f2835aea4945af4c62314',
  // ... SELECT 3, SET foo bar
  db0db3: 'b9f790cf88c39b12ec6cdde6c55e9cf5b94d7a2d',
  // ... PERSIST t (db 0)
  persisted: 'f94ab1b18478323654bf9c7ea4fc2bd1b06e816d',
  // DEBUG DIGEST-VALUE foo n empty "\x00\xff\r\n" t missing, before the PERSIST
  values: [
    '68467c70ae30376e7ce005bcc8827f5ba7fd67dc',
    'e1cf90774e995ae03de66e8109dc5cb9d9c2dc83',
    '8b3447c33a834b810e3e181b6fd6a2ee1020921c',
    'e6bfb95493f9bc78f9bea69a07db27f7bb2eb14f',
    '311b17018163335616e089f6b951c82c477335ac',
    ZEROS,
  ],
  // DEBUG DIGEST-VALUE t after the PERSIST
  tPersisted: 'd79ee9fe5d5ad902d7f6620efc3b07b75ddd742f',
};

function connect(): TestContext {
  return new TestServer().connect();
}

const digest = (c: TestContext) => c.run('DEBUG', 'DIGEST');

describe('DEBUG DIGEST and DIGEST-VALUE give Redis 7.0.15\'s digests', () => {
  it('an empty dataset is 40 zeros, and so is the value of a missing key', () => {
    const c = connect();
    expect(digest(c)).toBe(ZEROS);
    expect(c.run('DEBUG', 'DIGEST-VALUE', 'nothing', 'here')).toEqual([ZEROS, ZEROS]);
    expect(c.run('DEBUG', 'DIGEST-VALUE')).toEqual([]);
  });

  it('strings (integers, empty, binary), a TTL and two databases', () => {
    const c = connect();
    c.run('SET', 'foo', 'bar');
    expect(digest(c)).toBe(REDIS.fooBar);
    c.run('SET', 'n', '12345');
    c.run('SET', 'empty', '');
    c.run('SET', BINARY_KEY, Buffer.from([1, 2]));
    c.run('SET', 't', 'v', 'EX', '100000');
    expect(digest(c)).toBe(REDIS.db0);
    expect(c.run('DEBUG', 'DIGEST-VALUE', 'foo', 'n', 'empty', BINARY_KEY, 't', 'missing')).toEqual(REDIS.values);
    c.run('SELECT', '3');
    c.run('SET', 'foo', 'bar');
    expect(digest(c)).toBe(REDIS.db0db3);
    c.run('SELECT', '0');
    c.run('PERSIST', 't');
    expect(digest(c)).toBe(REDIS.persisted);
    expect(c.run('DEBUG', 'DIGEST-VALUE', 't')).toEqual([REDIS.tPersisted]);
  });

  it('keys set in another order give the same digest; the same keys in another database do not', () => {
    const c = connect();
    c.run('SET', 't', 'v', 'EX', '100000');
    c.run('SET', BINARY_KEY, Buffer.from([1, 2]));
    c.run('SET', 'empty', '');
    c.run('SET', 'n', '12345');
    c.run('SET', 'foo', 'bar');
    expect(digest(c)).toBe(REDIS.db0);
    c.run('SWAPDB', '0', '1');
    expect(digest(c)).not.toBe(REDIS.db0);
    expect(digest(c)).not.toBe(ZEROS);
  });

  it('a key whose TTL passed but is not yet deleted still counts, as in Redis (which reads its dict)', async () => {
    const c = connect();
    c.run('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    c.run('SET', 'foo', 'bar');
    c.run('SET', 'n', '12345');
    c.run('SET', 'empty', '');
    c.run('SET', BINARY_KEY, Buffer.from([1, 2]));
    c.run('SET', 't', 'v', 'PX', '1');
    await new Promise((r) => setTimeout(r, 10));
    // Only the expire marker is digested, not the time: the digests of a long TTL.
    expect(c.run('DEBUG', 'DIGEST-VALUE', 't')).toEqual([REDIS.values[4]]);
    expect(digest(c)).toBe(REDIS.db0);
    // A lookup deletes it; then it is gone from the digest too.
    expect(c.run('GET', 't')).toBe(null);
    expect(c.run('DEBUG', 'DIGEST-VALUE', 't')).toEqual([ZEROS]);
  });

  it('DEBUG DIGEST takes no argument', () => {
    expect(connect().run('DEBUG', 'DIGEST', 'x')).toEqual({ error: 'ERR unknown subcommand or wrong number of arguments for \'DIGEST\'. Try DEBUG HELP.' });
  });
});

describe('a KV tensor\'s digest', () => {
  const shape = ['DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '4', 'KV', '2'];
  const ROW = 8;
  /** kv x layers streams of `tokens` rows; a row's bytes are all one number, of its stream and token. */
  const payload = (tokens: number, seed: number): Buffer => {
    const b = Buffer.alloc(2 * 2 * tokens * ROW);
    for (let st = 0; st < 4; st++) {
      for (let t = 0; t < tokens; t++) b.fill((st * 31 + t * 7 + seed) & 0xff, (st * tokens + t) * ROW, (st * tokens + t + 1) * ROW);
    }
    return b;
  };

  it('is its content: the same tensor stored with another capacity, or with stale rows past its length, digests the same', () => {
    const c = connect();
    // KV.PUT stores 3 tokens at capacity 3, KV.APPEND grows the capacity to 16.
    c.run('KV.PUT', 'a', payload(3, 1), ...shape);
    c.run('KV.CREATE', 'b', ...shape);
    c.run('KV.APPEND', 'b', payload(3, 1));
    const [a, b] = c.run('DEBUG', 'DIGEST-VALUE', 'a', 'b') as string[];
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(a).not.toBe(ZEROS);
    expect(b).toBe(a);
    // 5 tokens truncated to 3: the 2 rows past the length are still in the value, but not in its content.
    c.run('KV.PUT', 'c', payload(5, 1), ...shape);
    c.run('KV.TRUNCATE', 'c', '3');
    expect(c.run('DEBUG', 'DIGEST-VALUE', 'c')).toEqual([a]);
  });

  it('changes with the data, the shape and the TTL, and differs from a string of the same bytes', () => {
    const c = connect();
    c.run('KV.PUT', 'a', payload(3, 1), ...shape);
    const base = (c.run('DEBUG', 'DIGEST-VALUE', 'a') as string[])[0];
    c.run('KV.PUT', 'other', payload(3, 2), ...shape);
    // The same bytes as one layer of 6 tokens.
    c.run('KV.PUT', 'reshaped', payload(3, 1), ...shape.slice(0, 3), '1', ...shape.slice(4));
    c.run('KV.PUT', 'ttl', payload(3, 1), ...shape, 'EX', '1000');
    const [other, reshaped, ttl] = c.run('DEBUG', 'DIGEST-VALUE', 'other', 'reshaped', 'ttl') as string[];
    expect(new Set([base, other, reshaped, ttl]).size).toBe(4);
    c.run('SET', 'string', payload(3, 1));
    expect(c.run('DEBUG', 'DIGEST-VALUE', 'string')).not.toEqual([base]);
  });
});
