// BGSAVE without fork, on real servers: the dump is the dataset as it was
// when BGSAVE began although every kind of write (overwrite, delete, append,
// expire, evict, rename, move, swap, flush, tensor append, new keys) runs
// while it is written; Debian's redis-check-rdb accepts it and redis-server
// loads it; a kill -9 in the middle leaves the previous dump whole; save rules
// start background saves; BGSAVE SCHEDULE and BGSAVE inside EXEC; FLUSHALL
// and SHUTDOWN stop a running one; and a failed background save gives writes
// -MISCONF exactly as Redis does, until a save works.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freePort, logged, startKvslabOn, startRedis, type RunningServer } from '../helpers/servers.js';
import { info } from '../helpers/info.js';
import { rng } from '../helpers/random.js';

let running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'kvslab-bgsave-'));
}

async function start(args: string[]): Promise<RunningServer> {
  const s = await startKvslabOn(await freePort(), args);
  running.push(s);
  return s;
}

async function persistence(c: Redis): Promise<Map<string, string>> {
  return info(c, 'persistence');
}

/** Waits for the running background save to end; its status. */
async function bgsaveEnded(c: Redis, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = await persistence(c);
    if (p.get('rdb_bgsave_in_progress') === '0') return p.get('rdb_last_bgsave_status') as string;
    if (Date.now() > until) throw new Error('BGSAVE did not end');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function checkRdb(path: string): string {
  return execFileSync('redis-check-rdb', [path], { encoding: 'utf8' });
}

const TENSOR = ['DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '2', 'HEADDIM', '8', 'KV', '2'];
/** Bytes of one token of TENSOR across its layers. */
const TOKEN_BYTES = 2 * 2 * 2 * 8 * 2;

/** db -> key names written by fill(). */
type Layout = Map<number, string[]>;

/** Strings of every encoding (integers, short, compressible, 100 KiB), TTLs, tensors, in databases 0-3. */
async function fill(c: Redis, counts: number[]): Promise<Layout> {
  const layout: Layout = new Map();
  for (let db = 0; db < counts.length; db++) {
    await c.select(db);
    const keys: string[] = [];
    for (let i = 0; i < counts[db]; i += 500) {
      const p = c.pipeline();
      const args: string[] = [];
      for (let j = i; j < Math.min(counts[db], i + 500); j++) {
        const key = `k:${db}:${j}`;
        keys.push(key);
        const value = j % 7 === 0 ? String(j) : j % 501 === 0 ? 'v'.repeat(100_000) : `value-${j}-${'x'.repeat(j % 60)}`;
        args.push(key, value);
        if (j % 10 === 3) p.pexpire(key, 5_000_000 + j);
      }
      await c.mset(...args);
      await p.exec();
    }
    for (let t = 0; t < 4; t++) {
      const key = `t:${db}:${t}`;
      await c.call('KV.CREATE', key, ...TENSOR);
      await c.call('KV.APPEND', key, Buffer.alloc(TOKEN_BYTES * (20 + t), 17 * t + db));
      keys.push(key);
    }
    layout.set(db, keys);
  }
  await c.select(0);
  return layout;
}

/** db -> key -> [DUMP payload, PEXPIRETIME], for every key there is. */
async function capture(c: Redis, layout: Layout, extra: string[] = []): Promise<Map<number, Map<string, [string, number]>>> {
  const out = new Map<number, Map<string, [string, number]>>();
  for (const [db, names] of layout) {
    await c.select(db);
    const m = new Map<string, [string, number]>();
    const all = [...names, ...extra];
    for (let i = 0; i < all.length; i += 1000) {
      const p = c.pipeline();
      for (const k of all.slice(i, i + 1000)) {
        p.dumpBuffer(k);
        p.call('PEXPIRETIME', k);
      }
      const res = await p.exec() as [Error | null, unknown][];
      for (let j = 0; j < res.length; j += 2) {
        const dump = res[j][1] as Buffer | null;
        if (dump !== null) m.set(all[i + j / 2], [dump.toString('hex'), res[j + 1][1] as number]);
      }
    }
    expect(await c.dbsize()).toBe(m.size);
    out.set(db, m);
  }
  await c.select(0);
  return out;
}

/** A pipeline of random writes of every kind over the layout's keys. */
function randomWrites(c: Redis, layout: Layout, r: () => number, n: number): Promise<unknown> {
  const p = c.pipeline();
  for (let i = 0; i < n; i++) {
    const db = Math.floor(r() * 4);
    const names = layout.get(db) as string[];
    const key = names[Math.floor(r() * names.length)];
    p.select(db);
    switch (Math.floor(r() * 12)) {
      case 0: p.set(key, 'overwritten'); break;
      case 1: p.del(key); break;
      case 2: p.append(key, '+tail'); break;
      case 3: p.pexpire(key, 1); break;
      case 4: p.rename(key, `renamed:${i}:${Math.floor(r() * 1e9)}`); break;
      case 5: p.set(`new:${i}:${Math.floor(r() * 1e9)}`, 'born during BGSAVE'); break;
      case 6: p.setrange(key, 2, 'ZZ'); break;
      case 7: p.persist(key); break;
      case 8: p.move(key, String((db + 1) % 4)); break;
      case 9: p.call('KV.APPEND', `t:${db}:${Math.floor(r() * 4)}`, Buffer.alloc(TOKEN_BYTES, 99)); break;
      case 10: p.set(key, 'w'.repeat(90_000)); break;
      case 11: p.getdel(key); break;
    }
  }
  p.select(0);
  return p.exec();
}

describe('BGSAVE writes the dataset as it was when it began', () => {
  it('while every kind of write runs, evictions included; redis-check-rdb and redis-server accept the dump', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client();
    const layout = await fill(c, [120_000, 3_000, 3_000, 3_000]);
    const expected = await capture(c, layout);
    const used = Number((await info(c, 'memory')).get('used_memory'));
    const r = rng(7);
    // BGSAVE and the first writes arrive in one batch: they run before the walk's first slice.
    const first = c.pipeline();
    first.bgsave();
    first.select(2).flushdb().select(0);
    first.swapdb(1, 3);
    first.config('SET', 'maxmemory-policy', 'allkeys-random');
    first.config('SET', 'maxmemory', String(Math.floor(used * 0.7)));
    const replies = await first.exec() as [Error | null, unknown][];
    expect(replies[0][1]).toBe('Background saving started');
    let rounds = 0;
    while ((await persistence(c)).get('rdb_bgsave_in_progress') === '1') {
      await randomWrites(c, layout, r, 300);
      rounds++;
    }
    expect(rounds).toBeGreaterThan(3);
    const p = await persistence(c);
    expect(p.get('rdb_last_bgsave_status')).toBe('ok');
    // The writes came before the walk reached many keys: their old values went in ahead of it.
    expect(Number(p.get('rdb_last_cow_size'))).toBeGreaterThan(100_000);
    expect(Number((await info(c, 'stats')).get('evicted_keys'))).toBeGreaterThan(1000);
    expect(await logged(a, 'Background saving terminated with success')).toBeTruthy();
    const check = checkRdb(join(dir, 'dump.rdb'));
    expect(check).toContain('RDB looks OK!');
    await a.stop();

    // A fresh server loads the dump: every key, value and expiry as at BGSAVE's start.
    const b = await start(['--dir', dir]);
    const bc = b.client();
    expect(await capture(bc, layout)).toEqual(expected);

    // The same server's dump without tensors loads in Debian's redis-server, strings equal.
    await bc.config('SET', 'rdb-save-tensors', 'no');
    expect(await bc.bgsave()).toBe('Background saving started');
    expect(await bgsaveEnded(bc)).toBe('ok');
    const redis = await startRedis(['--dir', dir, '--dbfilename', 'dump.rdb']);
    running.push(redis);
    const rc = redis.client();
    for (const [db, keys] of layout) {
      const strings = keys.filter((k) => !k.startsWith('t:') && expected.get(db)?.has(k));
      await rc.select(db);
      await bc.select(db);
      expect(await rc.dbsize()).toBe(strings.length);
      const sample = strings.filter((_, i) => i % 97 === 0);
      if (sample.length > 0) expect(await rc.mgetBuffer(...sample)).toEqual(await bc.mgetBuffer(...sample));
    }
  }, 120_000);
});

describe('big values stream out of a BGSAVE a piece at a time', () => {
  it('strings of 1 MiB and 2 MiB tensors, rewritten, appended to, deleted while they stream, are dumped as they were', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client();
    const names: string[] = [];
    for (let i = 0; i < 120; i++) {
      const v = Buffer.alloc(1024 * 1024 + i);
      for (let j = 0; j < v.length; j += 512) v[j] = (i + j) & 0xff;
      await c.set(`big:${i}`, v);
      if (i % 3 === 0) await c.pexpire(`big:${i}`, 9_000_000);
      names.push(`big:${i}`);
    }
    const tokens = Math.ceil((2 * 1024 * 1024) / TOKEN_BYTES);
    for (let t = 0; t < 40; t++) {
      await c.call('KV.CREATE', `kv:${t}`, ...TENSOR);
      await c.call('KV.APPEND', `kv:${t}`, Buffer.alloc(TOKEN_BYTES * tokens, t + 1));
      names.push(`kv:${t}`);
    }
    for (let i = 0; i < 2000; i++) names.push(`small:${i}`);
    await c.mset(...names.filter((n) => n.startsWith('small:')).flatMap((n) => [n, n]));
    const layout: Layout = new Map([[0, names]]);
    const expected = await capture(c, layout);
    const r = rng(3);
    const p = c.pipeline().bgsave();
    for (let i = 0; i < 400; i++) {
      const k = Math.floor(r() * 120);
      const t = Math.floor(r() * 40);
      switch (i % 6) {
        case 0: p.append(`big:${k}`, 'appended'); break;
        case 1: p.setrange(`big:${k}`, 1000, 'rewritten in place'); break;
        case 2: p.del(`big:${k}`); break;
        case 3: p.call('KV.APPEND', `kv:${t}`, Buffer.alloc(TOKEN_BYTES, 0xee)); break;
        case 4: p.del(`kv:${t}`); break;
        case 5: p.set(`small:${k}`, 'overwritten'); break;
      }
    }
    const replies = await p.exec() as [Error | null, unknown][];
    expect(replies[0][1]).toBe('Background saving started');
    expect(await bgsaveEnded(c)).toBe('ok');
    expect(checkRdb(join(dir, 'dump.rdb'))).toContain('RDB looks OK!');
    // The writes above landed while the walk had barely begun: most values went out as they were before them.
    expect(Number((await persistence(c)).get('rdb_last_cow_size'))).toBeGreaterThan(10 * 1024 * 1024);
    // Blocks held for the save are let go: a write after it changes the value in place again (no copy left behind).
    await a.stop();
    const b = await start(['--dir', dir]);
    expect(await capture(b.client(), layout)).toEqual(expected);
  }, 120_000);
});

describe('a snapshot within maxmemory', () => {
  it('old values a write frees while they wait to stream count against maxmemory: the store evicts for them', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir, '--maxmemory', String(96 * 1024 * 1024), '--maxmemory-policy', 'allkeys-lru']);
    const c = a.client();
    const old: string[] = [];
    for (let i = 0; i < 40; i++) {
      await c.set(`old:${i}`, Buffer.alloc(1024 * 1024, i));
      old.push(`old:${i}`);
    }
    const expected = await capture(c, new Map([[0, old]]));
    // In one batch, before the walk's first slice: every old value is freed (handed to the save) and replaced.
    const p = c.pipeline().bgsave();
    for (let i = 0; i < 40; i++) p.del(`old:${i}`);
    for (let i = 0; i < 80; i++) p.set(`new:${i}`, Buffer.alloc(1024 * 1024, 200));
    p.info('memory');
    const r = await p.exec() as [Error | null, unknown][];
    expect(r[0][1]).toBe('Background saving started');
    const during = Number(/used_memory:(\d+)/.exec(String(r[r.length - 1][1]))?.[1]);
    expect(during).toBeLessThanOrEqual(96 * 1024 * 1024);
    expect(Number((await info(c, 'stats')).get('evicted_keys'))).toBeGreaterThan(0);
    expect(await bgsaveEnded(c)).toBe('ok');
    await a.stop();
    const b = await start(['--dir', dir]);
    expect(await capture(b.client(), new Map([[0, old]]))).toEqual(expected);
  }, 60_000);
});

describe('the previous dump survives', () => {
  it('a kill -9 in the middle of a BGSAVE leaves it whole and loadable', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    // The server is killed: no reconnecting.
    const c = a.client({ retryStrategy: () => null });
    await fill(c, [30_000, 0, 0, 0]);
    expect(await c.save()).toBe('OK');
    const keysSaved = await c.dbsize();
    await fill(c, [200_000, 0, 0, 0]);
    expect(await c.bgsave()).toBe('Background saving started');
    // Keep it busy: the walk gets a share of a loaded loop.
    await randomWrites(c, new Map([[0, ['k:0:1']], [1, ['k:1:1']], [2, ['k:2:1']], [3, ['k:3:1']]]), rng(1), 2000);
    const p = await persistence(c);
    expect(p.get('rdb_bgsave_in_progress')).toBe('1');
    expect(Number(p.get('current_save_keys_processed'))).toBeGreaterThan(0);
    expect(readdirSync(dir).some((f) => /^temp-\d+\.rdb$/.test(f))).toBe(true);
    a.proc.kill('SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    expect(checkRdb(join(dir, 'dump.rdb'))).toContain('RDB looks OK!');
    const b = await start(['--dir', dir]);
    expect(await b.client().dbsize()).toBe(keysSaved);
  }, 120_000);
});

describe('starting and stopping background saves', () => {
  it('a save rule set at run time (CONFIG SET save) starts one from the cron when due, as Redis logs it', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client();
    expect(await c.config('SET', 'save', '1 2')).toBe('OK');
    expect(await c.config('GET', 'save')).toEqual(['save', '1 2']);
    await c.set('a', '1');
    await c.set('b', '2');
    expect(await logged(a, '2 changes in 1 seconds. Saving...')).toBeTruthy();
    expect(await logged(a, 'Background saving terminated with success')).toBeTruthy();
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
    const p = await persistence(c);
    expect(p.get('rdb_changes_since_last_save')).toBe('0');
    expect(Number(p.get('rdb_last_bgsave_time_sec'))).toBeGreaterThanOrEqual(0);
  });

  it('BGSAVE SCHEDULE, BGSAVE inside EXEC, and the errors of SAVE and BGSAVE while one runs', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client();
    await expect(c.call('BGSAVE', 'later')).rejects.toThrow('ERR syntax error');
    const tx = await c.multi().set('k', 'v').bgsave().exec() as [Error | null, unknown][];
    expect(tx[1][1]).toBe('Background saving scheduled');
    expect(await logged(a, 'Background saving terminated with success')).toBeTruthy();
    await fill(c, [150_000, 0, 0, 0]);
    const p = c.pipeline().bgsave().bgsave().save().call('BGSAVE', 'SCHEDULE');
    const r = await p.exec() as [Error | null, unknown][];
    expect(r[0][1]).toBe('Background saving started');
    expect(r[1][0]?.message).toBe('ERR Background save already in progress');
    expect(r[2][0]?.message).toBe('ERR Background save already in progress');
    expect(r[3][0]?.message).toBe('ERR Background save already in progress');
    expect(await bgsaveEnded(c)).toBe('ok');
  }, 60_000);

  it('FLUSHALL stops a running one: its temporary file goes, the old dump stays', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client();
    await c.set('old', '1');
    await c.save();
    await fill(c, [150_000, 0, 0, 0]);
    const r = await c.pipeline().bgsave().flushall().exec() as [Error | null, unknown][];
    expect(r[0][1]).toBe('Background saving started');
    expect((await persistence(c)).get('rdb_bgsave_in_progress')).toBe('0');
    expect(readdirSync(dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
    await a.stop();
    const b = await start(['--dir', dir]);
    expect(await b.client().get('old')).toBe('1');
  }, 60_000);

  it('SHUTDOWN during one saves in the foreground instead', async () => {
    const dir = scratch();
    const a = await start(['--dir', dir]);
    const c = a.client({ retryStrategy: () => null });
    await fill(c, [100_000, 0, 0, 0]);
    const n = await c.dbsize();
    await c.pipeline().bgsave().call('SHUTDOWN', 'SAVE').exec().catch(() => {});
    await new Promise((r) => a.proc.once('exit', r));
    expect(checkRdb(join(dir, 'dump.rdb'))).toContain('RDB looks OK!');
    const b = await start(['--dir', dir]);
    expect(await b.client().dbsize()).toBe(n);
  }, 60_000);
});

describe('-MISCONF after a failed background save, as Redis', () => {
  it('writes and PING are refused, reads served, until a save works; kvslab and redis-server reply alike', async () => {
    const replies: unknown[][] = [];
    for (const which of ['kvslab', 'redis'] as const) {
      const dir = scratch();
      const gone = join(dir, 'gone');
      execFileSync('mkdir', [gone]);
      const s = which === 'kvslab'
        ? await start(['--dir', dir, '--save', '3600 1', '--enable-protected-configs', 'yes'])
        : await startRedis(['--dir', dir, '--save', '3600 1', '--enable-protected-configs', 'yes']);
      if (which === 'redis') running.push(s);
      const c = s.client();
      await c.set('k', 'v');
      // The save's directory vanishes: the background save fails (the child finds out, in Redis).
      await c.config('SET', 'dir', gone);
      rmSync(gone, { recursive: true });
      expect(await c.bgsave()).toBe('Background saving started');
      expect(await bgsaveEnded(c)).toBe('err');
      const out: unknown[] = [];
      const settle = async (p: Promise<unknown>) => p.then((v) => v, (e: Error) => `error: ${e.message}`);
      out.push(await settle(c.set('k', 'w')));
      out.push(await settle(c.ping()));
      out.push(await settle(c.get('k')));
      out.push(await settle(c.multi().set('k', 'x').exec()));
      out.push(await settle(c.multi().get('k').exec()));
      // stop-writes-on-bgsave-error no lets writes through; yes again refuses them.
      await c.config('SET', 'stop-writes-on-bgsave-error', 'no');
      out.push(await settle(c.set('k', 'w2')));
      await c.config('SET', 'stop-writes-on-bgsave-error', 'yes');
      out.push(await settle(c.del('k')));
      // A save that works (back in a directory that exists) clears it.
      await c.config('SET', 'dir', dir);
      out.push(await settle(c.save()));
      out.push(await settle(c.set('k', 'w3')));
      out.push((await persistence(c)).get('rdb_last_bgsave_status'));
      replies.push(out);
    }
    expect(replies[0][0]).toMatch(/^error: MISCONF Redis is configured to save RDB snapshots/);
    expect(replies[0]).toEqual(replies[1]);
  }, 60_000);
});
