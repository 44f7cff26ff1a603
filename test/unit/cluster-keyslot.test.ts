// Hash slots: CRC16/XMODEM test vectors, Redis's hash tag rules, and
// agreement with ioredis's own cluster-key-slot on random binary keys.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc16, keyHashSlot } from '../../src/cluster/keyslot.js';

// ioredis's router (CommonJS, no types): slot of a Buffer.
const clusterKeySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: Buffer) => number;

const slot = (s: string) => keyHashSlot(Buffer.from(s, 'latin1'));

describe('CRC16/XMODEM and keyslot', () => {
  it('matches the CRC16/XMODEM check value and the Redis Cluster spec vectors', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(crc16(Buffer.alloc(0))).toBe(0);
    expect(slot('123456789')).toBe(12739);
    expect(slot('hello')).toBe(866);
    expect(slot('foo')).toBe(12182);
    expect(slot('')).toBe(0);
  });

  it('hashes only the tag: the text between the first { and the first } after it, when not empty', () => {
    expect(slot('{user1000}.following')).toBe(slot('user1000'));
    expect(slot('{user1000}.followers')).toBe(slot('{user1000}.following'));
    // "{}" is empty: the whole key is hashed.
    expect(slot('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) & 16383);
    // The tag starts after the first '{': "{bar".
    expect(slot('foo{{bar}}zap')).toBe(slot('{bar'));
    // Only the first tag counts.
    expect(slot('foo{bar}{zap}')).toBe(slot('bar'));
    // No closing brace: the whole key.
    expect(slot('foo{bar')).toBe(crc16(Buffer.from('foo{bar')) & 16383);
    expect(slot('}foo{bar}')).toBe(slot('bar'));
  });

  // cluster-key-slot differs from Redis in one case: after an empty first tag ("{}") it goes on to the
  // next '}' and hashes what lies between, braces left out ("a{}b}c" -> "b"), where Redis hashes the whole key.
  const emptyFirstTagThenBrace = (k: Buffer) => {
    const open = k.indexOf(0x7b);
    return open >= 0 && k[open + 1] === 0x7d && k.indexOf(0x7d, open + 2) >= 0;
  };

  it('agrees with cluster-key-slot (ioredis) on 5,000 random binary keys, braces included, but for its empty-tag quirk', () => {
    let seed = 12345;
    const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.alloc(rnd() % 24);
      // Bytes biased towards braces so that tags of every shape occur.
      for (let j = 0; j < key.length; j++) key[j] = rnd() % 4 === 0 ? (rnd() % 2 ? 0x7b : 0x7d) : rnd() & 0xff;
      if (emptyFirstTagThenBrace(key)) {
        expect(keyHashSlot(key), key.toString('hex')).toBe(crc16(key) & 16383);
        continue;
      }
      expect(keyHashSlot(key), key.toString('hex')).toBe(clusterKeySlot(key));
      compared++;
    }
    expect(compared).toBeGreaterThan(4500);
  });

  it('hashes the whole key after an empty first tag, as Redis (cluster-key-slot does not)', () => {
    const k = Buffer.from('a{}b}c');
    expect(keyHashSlot(k)).toBe(crc16(k) & 16383);
    expect(clusterKeySlot(k)).toBe(slot('b'));
  });

  it('reads a key in place: a Buffer view into a larger buffer hashes its own bytes only', () => {
    const big = Buffer.from('xx{user1000}.followingyy');
    expect(keyHashSlot(big.subarray(2, big.length - 2))).toBe(slot('user1000'));
  });
});
