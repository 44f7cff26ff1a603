// DEBUG DIGEST, DEBUG DIGEST-VALUE and DEBUG RELOAD against Debian's Redis
// 7.0: the same strings (binary keys, empty values, integers, TTLs, several
// databases, a seeded random dataset, keys whose TTL passed) give the same
// digests, byte for byte, before and after writes and after a reload; the
// reload's options and its errors are Redis's replies.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Argv, startPair, type Pair } from '../helpers/differential.js';
import { rng, randomBytes } from '../helpers/random.js';
import { parseInfo } from '../helpers/info.js';

const ZEROS = '0'.repeat(40);
const kdir = mkdtempSync(join(tmpdir(), 'kvslab-digest-'));
const rdir = mkdtempSync(join(tmpdir(), 'kvslab-digest-redis-'));

let pair: Pair;
beforeAll(async () => {
  // A later --dir wins over the one startRedis gives.
  pair = await startPair(['--dir', kdir, '--enable-debug-command', 'yes'], ['--dir', rdir, '--enable-debug-command', 'yes']);
});
afterAll(async () => { await pair?.stop(); });
beforeEach(async () => {
  await pair.reset();
  for (const c of [pair.k, pair.r]) await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  for (const d of [kdir, rdir]) rmSync(join(d, 'dump.rdb'), { recursive: true, force: true });
});

/** DEBUG DIGEST on both: the same status reply, returned as text. */
async function sameDigest(): Promise<string> {
  return String(await pair.same(['DEBUG', 'DIGEST']));
}

const BINARY = Buffer.from([0, 255, 13, 10, 0, 1]);

/** Strings of every kind in databases 0, 3 and 15, some with TTLs. */
function dataset(): Argv[] {
  return [
    ['SET', 'str', 'hello world'],
    ['SET', 'empty', ''],
    ['SET', '', 'the empty key'],
    ['SET', BINARY, Buffer.from([0, 0, 0])],
    ['SET', 'utf8', 'κλειδί — 鍵'],
    ['SET', 'big', randomBytes(100_000, 7)],
    ...['7', '-128', '32767', '-2147483648', '9223372036854775807', '007', '-0', ' 1', '1e3'].map((v, i): Argv => ['SET', `int:${i}`, v]),
    ['SET', 'ttl:ex', 'a', 'EX', '100000'],
    ['SET', 'ttl:px', 'b', 'PX', '5000000'],
    ['SET', 'ttl:exat', '42', 'EXAT', '4000000000'],
    ['SET', 'ttl:later', 'c'],
    ['PEXPIRE', 'ttl:later', '9000000'],
    ['SELECT', '3'],
    ['SET', 'str', 'hello world'],
    ['SET', BINARY, ''],
    ['SET', 'ttl:ex', 'a', 'EX', '100000'],
    ['SELECT', '15'],
    ['SET', 'only:15', '15'],
    ['SELECT', '0'],
  ];
}

const keysOf0: Argv = ['str', 'empty', '', BINARY, 'utf8', 'big', 'int:0', 'int:4', 'int:5', 'int:6', 'ttl:ex', 'ttl:px', 'ttl:exat', 'ttl:later', 'missing'];

describe('DEBUG DIGEST and DIGEST-VALUE', () => {
  it('an empty dataset, missing keys, no keys, and DIGEST with an argument', async () => {
    expect(await sameDigest()).toBe(ZEROS);
    await pair.same(['DEBUG', 'DIGEST-VALUE', 'missing', 'also-missing']);
    await pair.same(['DEBUG', 'DIGEST-VALUE']);
    await pair.same(['DEBUG', 'DIGEST', 'extra']);
    await pair.same(['debug', 'digest-value', 'x']);
  });

  it('the same strings, integers, TTLs and databases give the same digests, write after write', async () => {
    for (const argv of dataset()) {
      await pair.same(argv);
      if (argv[0] !== 'SELECT') await sameDigest();
    }
    const digest = await sameDigest();
    expect(digest).not.toBe(ZEROS);
    await pair.same(['DEBUG', 'DIGEST-VALUE', ...keysOf0]);
    await pair.same(['SELECT', '3']);
    await pair.same(['DEBUG', 'DIGEST-VALUE', 'str', BINARY, 'ttl:ex', 'only:15']);
    await pair.same(['SELECT', '0']);
    const writes: Argv[] = [
      ['APPEND', 'str', '!'], ['INCR', 'int:0'], ['INCRBY', 'int:4', '-1'], ['SETRANGE', 'empty', '3', 'x'],
      ['PERSIST', 'ttl:ex'], ['EXPIRE', 'str', '1000'], ['SETBIT', 'bits', '100', '1'], ['INCRBYFLOAT', 'f', '1.5'],
      ['RENAME', 'utf8', 'renamed'], ['COPY', 'renamed', 'copied', 'DB', '7'], ['MOVE', 'int:1', '3'],
      ['SWAPDB', '3', '4'], ['DEL', 'big'], ['SET', 'ttl:px', 'kept', 'KEEPTTL'], ['GETEX', 'int:2', 'PX', '100000'],
      ['FLUSHDB'],
    ];
    for (const argv of writes) {
      await pair.same(argv);
      await sameDigest();
    }
  });

  it('a seeded random dataset: binary keys and values, TTLs, 16 databases', async () => {
    const r = rng(20240601);
    for (let i = 0; i < 400; i++) {
      const db = String(Math.floor(r() * 16));
      const key = randomBytes(Math.floor(r() * 12), i * 2 + 1, r() < 0.5 ? 4 : 256);
      const value = r() < 0.2 ? String(Math.floor(r() * 2 ** 40) - 2 ** 39) : randomBytes(Math.floor(r() * 300), i * 2 + 2);
      const ttl: Argv = r() < 0.3 ? ['PX', String(1_000_000 + Math.floor(r() * 1e9))] : [];
      for (const c of [pair.k, pair.r]) {
        await c.call('SELECT', db);
        await c.call('SET', key, value, ...ttl);
      }
    }
    await pair.same(['SELECT', '0']);
    await pair.same(['DBSIZE']);
    expect(await sameDigest()).not.toBe(ZEROS);
  });

  it('a key whose TTL passed but is not deleted yet still counts in both, until a lookup deletes it', async () => {
    await pair.same(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
    await pair.same(['SET', 'stays', 'x']);
    await pair.same(['SET', 'passed', 'y', 'PX', '1']);
    await new Promise((r) => setTimeout(r, 20));
    await pair.same(['DEBUG', 'DIGEST-VALUE', 'passed']);
    const before = await sameDigest();
    await pair.same(['GET', 'passed']);
    expect(await sameDigest()).not.toBe(before);
  });
});

describe('DEBUG RELOAD', () => {
  async function loaded(): Promise<void> {
    const [k, r] = await pair.both(['INFO', 'persistence']);
    const field = (x: unknown) => parseInfo(String(x)).get('rdb_last_load_keys_loaded');
    expect(field(k)).toBe(field(r));
  }

  it('saves, flushes and loads: the digest, every value digest and the load count are the same on both', async () => {
    await pair.sequence(dataset());
    const digest = await sameDigest();
    await pair.same(['DEBUG', 'RELOAD']);
    expect(await sameDigest()).toBe(digest);
    await pair.same(['DEBUG', 'DIGEST-VALUE', ...keysOf0]);
    await pair.same(['DBSIZE']);
    await pair.same(['TTL', 'ttl:ex']);
    await loaded();
    const [k, r] = await pair.both(['INFO', 'persistence']);
    expect(parseInfo(String(k)).get('rdb_changes_since_last_save')).toBe(parseInfo(String(r)).get('rdb_changes_since_last_save'));
  });

  it('NOSAVE replaces the dataset with the dump; NOFLUSH MERGE adds the dump to it, the dump\'s keys replacing', async () => {
    await pair.sequence([['SET', 'a', '1'], ['SET', 'b', '2', 'EX', '10000'], ['SAVE']]);
    const saved = await sameDigest();
    await pair.sequence([['SET', 'a', 'changed'], ['SET', 'c', '3'], ['PERSIST', 'b']]);
    await pair.same(['DEBUG', 'RELOAD', 'NOSAVE']);
    expect(await sameDigest()).toBe(saved);
    await pair.sequence([['SET', 'a', 'changed'], ['SET', 'c', '3'], ['SELECT', '2'], ['SET', 'a', 'db2'], ['SELECT', '0']]);
    await pair.same(['DEBUG', 'RELOAD', 'nosave', 'noflush', 'merge']);
    await pair.sequence([['GET', 'a'], ['GET', 'c'], ['TTL', 'b'], ['SELECT', '2'], ['GET', 'a'], ['SELECT', '0'], ['DBSIZE']]);
    await sameDigest();
    await loaded();
  });

  it('the errors: an unknown option, no dump to load (after the flush), a save that fails', async () => {
    await pair.same(['SET', 'k', 'v']);
    await pair.same(['DEBUG', 'RELOAD', 'NOSAVE', 'sometimes']);
    await pair.same(['DBSIZE']);
    expect(existsSync(join(kdir, 'dump.rdb'))).toBe(false);
    await pair.same(['DEBUG', 'RELOAD', 'NOSAVE']);
    await pair.same(['DBSIZE']);
    // The dump's name is a directory: the rename at the end of the save fails.
    for (const d of [kdir, rdir]) mkdirSync(join(d, 'dump.rdb', 'x'), { recursive: true });
    await pair.same(['SET', 'k', 'v']);
    await pair.same(['DEBUG', 'RELOAD']);
    await pair.same(['GET', 'k']);
  });
});
