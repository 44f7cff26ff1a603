// Keyv with @keyv/redis against kvslab, as an application's cache uses it:
// one Keyv per namespace on the same server, values serialized by Keyv, TTLs
// in milliseconds (SET ... PX), getMany/setMany/deleteMany, clear() of one
// namespace only (SCAN MATCH ns::* TYPE string + UNLINK in batches), iteration,
// and service again once the server comes back after a restart.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import { createKeyv } from '@keyv/redis';
import { Redis } from 'ioredis';
import { freePort, startKvslabOn, RunningServer } from '../helpers/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


interface User { id: number; name: string; tags: string[] }

let port: number;
let proc: RunningServer;
let users: Keyv<User>;
let sessions: Keyv<string>;
let raw: Redis;
const errors: unknown[] = [];

beforeAll(async () => {
  port = await freePort();
  proc = await startKvslabOn(port);
  const url = `redis://127.0.0.1:${port}`;
  users = createKeyv(url, { namespace: 'users' }) as Keyv<User>;
  sessions = createKeyv(url, { namespace: 'sessions' }) as Keyv<string>;
  for (const k of [users, sessions]) k.on('error', (e: unknown) => { errors.push(e); });
  // What an operator sees of the same data.
  raw = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  raw.on('error', () => {});
});

afterAll(async () => {
  raw.disconnect();
  await Promise.allSettled([users.disconnect(), sessions.disconnect()]);
  await proc.stop();
});

describe('Keyv with @keyv/redis', () => {
  it('get, set, has, delete of serialized values under the namespace prefix', async () => {
    const ada: User = { id: 1, name: 'Ada', tags: ['admin', 'ops'] };
    expect(await users.get('1')).toBeUndefined();
    expect(await users.set('1', ada)).toBe(true);
    expect(await users.get('1')).toEqual(ada);
    expect(await users.has('1')).toBe(true);
    // Stored under "users::1" (@keyv/redis's default separator), as Keyv's JSON.
    expect(JSON.parse((await raw.get('users::1')) as string)).toMatchObject({ value: ada });
    expect(await raw.pttl('users::1')).toBe(-1);
    // The same key in another namespace is another entry.
    expect(await sessions.get('1')).toBeUndefined();
    expect(await users.delete('1')).toBe(true);
    expect(await users.get('1')).toBeUndefined();
    expect(await users.has('1')).toBe(false);
    expect(await raw.exists('users::1')).toBe(0);
  });

  it('TTL in milliseconds: SET ... PX, gone once it passes', async () => {
    expect(await sessions.set('tok-a', 'alice', 300)).toBe(true);
    expect(await sessions.set('tok-b', 'bob', 60_000)).toBe(true);
    const pttl = await raw.pttl('sessions::tok-a');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    expect(await raw.ttl('sessions::tok-b')).toBeGreaterThan(55);
    expect(await sessions.get('tok-a')).toBe('alice');
    await sleep(500);
    expect(await sessions.get('tok-a')).toBeUndefined();
    expect(await raw.exists('sessions::tok-a')).toBe(0);
    expect(await sessions.get('tok-b')).toBe('bob');
  });

  it('setMany, getMany, deleteMany', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ key: `m${i}`, value: { id: i, name: `u${i}`, tags: [] }, ttl: i % 2 ? 60_000 : undefined }));
    await users.setMany(entries);
    const got = await users.getMany(entries.map((e) => e.key).concat('missing'));
    expect(got.slice(0, 50)).toEqual(entries.map((e) => e.value));
    expect(got[50]).toBeUndefined();
    expect(await raw.ttl('users::m1')).toBeGreaterThan(55);
    expect(await raw.ttl('users::m0')).toBe(-1);
    expect(await users.deleteMany(['m0', 'm1', 'm2'])).toBe(true);
    expect(await users.getMany(['m0', 'm1', 'm2', 'm3'])).toEqual([undefined, undefined, undefined, entries[3].value]);
  });

  it('clear() empties its own namespace only, across many SCAN batches', async () => {
    // More than one clear batch (1,000 keys) of users, some with TTLs.
    await Promise.all(Array.from({ length: 2500 }, (_, i) => users.set(`bulk${i}`, { id: i, name: 'x', tags: [] }, i % 3 ? undefined : 120_000)));
    await Promise.all(Array.from({ length: 200 }, (_, i) => sessions.set(`s${i}`, `v${i}`)));
    await raw.set('unrelated', 'keep me');
    await raw.set('users', 'a key named like the namespace');
    expect(await raw.dbsize()).toBeGreaterThan(2700);

    await users.clear();
    expect(await raw.keys('users::*')).toEqual([]);
    expect(await users.get('bulk7')).toBeUndefined();
    expect((await raw.keys('sessions::*')).length).toBe(201);
    expect(await sessions.get('s199')).toBe('v199');
    expect(await raw.get('unrelated')).toBe('keep me');
    expect(await raw.get('users')).toBe('a key named like the namespace');

    // Iteration walks one namespace. It rides on SCAN, which may return a key twice while the
    // table resizes (the clear above shrinks it), in Redis as here: count distinct keys.
    const seen: string[] = [];
    for await (const [key] of sessions.iterator!(undefined)) seen.push(key as string);
    expect(new Set(seen).size).toBe(201);
    expect(seen.length).toBeLessThanOrEqual(201 * 2);
    expect(seen.every((k) => k === 'tok-b' || /^s\d+$/.test(k))).toBe(true);
  });

  it('serves again after the server restarts on the same port', async () => {
    await users.set('before', { id: 1, name: 'before', tags: [] });
    await proc.stop();
    await sleep(200);
    proc = await startKvslabOn(port);
    // The reconnect strategy backs off up to 2 s: retry as an app would.
    let ok = false;
    for (let i = 0; i < 60 && !ok; i++) {
      try {
        ok = await users.set('after', { id: 2, name: 'after', tags: [] }, 60_000);
      } catch {
        ok = false;
      }
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
    expect(await users.get('after')).toEqual({ id: 2, name: 'after', tags: [] });
    // A cache restarts empty.
    expect(await users.get('before')).toBeUndefined();
    expect(await raw.ttl('users::after')).toBeGreaterThan(55);
    await sessions.set('again', 'yes');
    expect(await sessions.get('again')).toBe('yes');
    await users.clear();
    expect(await sessions.get('again')).toBe('yes');
    expect(await users.get('after')).toBeUndefined();
  });
});
