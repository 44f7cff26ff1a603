// Expiry through a real client on a real kvslab process: setting and reading
// TTLs, conditional EXPIRE, lazy expiry on access, and active expiry that
// reclaims keys (and their memory) nobody touches again.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  // hz 10 is Redis's default; the active cycle runs from the server cron.
  srv = await startKvslab(['--enable-debug-command', 'yes', '--hz', '10']);
  r = srv.client({ enableReadyCheck: false });
});
afterAll(async () => { await srv.stop(); });
beforeEach(async () => {
  await r.flushall();
  await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
});

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(25);
  }
  return cond();
}

async function infoField(section: string, field: string): Promise<number> {
  const text = await r.info(section);
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in INFO ${section}`);
  return Number(m[1]);
}

describe('setting and reading TTLs', () => {
  it('EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT and the TTL family agree', async () => {
    await r.set('k', 'v');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.pttl('k')).toBe(-1);
    expect(await r.expiretime('k')).toBe(-1);
    expect(await r.ttl('missing')).toBe(-2);
    expect(await r.pexpiretime('missing')).toBe(-2);
    expect(await r.expire('k', 100)).toBe(1);
    expect(await r.ttl('k')).toBe(100);
    const pttl = await r.pttl('k');
    expect(pttl).toBeGreaterThan(98_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    const at = Math.floor(Date.now() / 1000) + 5000;
    expect(await r.expireat('k', at)).toBe(1);
    expect(await r.expiretime('k')).toBe(at);
    expect(await r.pexpiretime('k')).toBe(at * 1000);
    expect(await r.pexpireat('k', at * 1000 + 600)).toBe(1);
    // Seconds are rounded to the nearest.
    expect(await r.expiretime('k')).toBe(at + 1);
    expect(await r.pexpire('k', 1600)).toBe(1);
    expect(await r.ttl('k')).toBe(2);
    expect(await r.persist('k')).toBe(1);
    expect(await r.persist('k')).toBe(0);
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.expire('missing', 10)).toBe(0);
  });

  it('NX, XX, GT and LT decide whether the TTL changes', async () => {
    await r.set('k', 'v');
    expect(await r.call('EXPIRE', 'k', '100', 'XX')).toBe(0);
    expect(await r.call('EXPIRE', 'k', '100', 'GT')).toBe(0); // no TTL counts as infinite
    expect(await r.call('EXPIRE', 'k', '100', 'NX')).toBe(1);
    expect(await r.call('EXPIRE', 'k', '200', 'NX')).toBe(0);
    expect(await r.call('EXPIRE', 'k', '50', 'GT')).toBe(0);
    expect(await r.call('EXPIRE', 'k', '200', 'GT')).toBe(1);
    expect(await r.call('EXPIRE', 'k', '300', 'LT')).toBe(0);
    expect(await r.call('EXPIRE', 'k', '150', 'XX', 'LT')).toBe(1);
    expect(await r.ttl('k')).toBe(150);
    await expect(r.call('EXPIRE', 'k', '1', 'NX', 'GT')).rejects.toThrow('ERR NX and XX, GT or LT options at the same time are not compatible');
    await expect(r.call('EXPIRE', 'k', '1', 'GT', 'LT')).rejects.toThrow('ERR GT and LT options at the same time are not compatible');
    await expect(r.call('EXPIRE', 'k', '1', 'SOON')).rejects.toThrow('ERR Unsupported option SOON');
  });

  it('a time in the past deletes the key at once', async () => {
    await r.set('k', 'v');
    expect(await r.expire('k', -1)).toBe(1);
    expect(await r.exists('k')).toBe(0);
    await r.set('k', 'v');
    expect(await r.pexpireat('k', 1)).toBe(1);
    expect(await r.exists('k')).toBe(0);
  });

  it('rejects times that overflow', async () => {
    await r.set('k', 'v');
    await expect(r.call('EXPIRE', 'k', '9223372036854775')).rejects.toThrow("ERR invalid expire time in 'expire' command");
    await expect(r.call('PEXPIRE', 'k', '9223372036854775807')).rejects.toThrow("ERR invalid expire time in 'pexpire' command");
    // Far-future absolute times are kept exactly.
    expect(await r.call('PEXPIREAT', 'k', '9223372036854775807')).toBe(1);
    const exact = srv.client({ enableReadyCheck: false, stringNumbers: true });
    expect(await exact.call('PEXPIRETIME', 'k')).toBe('9223372036854775807');
    expect(await exact.call('EXPIRETIME', 'k')).toBe('9223372036854776');
  });
});

describe('lazy expiry', () => {
  it('an expired key counts in DBSIZE until something touches it', async () => {
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await r.set('k', 'v', 'PX', 10);
    await r.set('other', 'v');
    await sleep(50);
    expect(await r.dbsize()).toBe(2);
    expect(await r.get('k')).toBe(null);
    expect(await r.dbsize()).toBe(1);
  });
});

describe('active expiry', () => {
  it('reclaims thousands of untouched keys and their memory', async () => {
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    const n = 5000;
    for (let i = 0; i < n; i += 1000) {
      const p = r.pipeline();
      for (let j = i; j < i + 1000; j++) p.set(`vol:${j}`, 'x'.repeat(1000), 'PX', 100);
      await p.exec();
    }
    await r.set('keeper', 'v');
    const memFull = await infoField('memory', 'used_memory');
    await sleep(200);
    // Everything is expired but nothing reclaimed while the cycle is off.
    expect(await r.dbsize()).toBe(n + 1);
    const expiredBefore = await infoField('stats', 'expired_keys');
    await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    // Only DBSIZE/INFO from here on: neither looks keys up.
    expect(await waitFor(async () => (await r.dbsize()) === 1, 5000)).toBe(true);
    expect(await infoField('stats', 'expired_keys')).toBe(expiredBefore + n);
    // Memory goes back a page at a time: all but the page holding 'keeper' (and one more, at most) are gone.
    expect(await infoField('memory', 'used_memory')).toBeLessThan(memFull - n * 1000 + 2 * 1024 * 1024);
    expect(await r.get('keeper')).toBe('v');
  });

  it('leaves keys that have time left', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`short:${i}`, 'x', 'PX', 50);
    for (let i = 0; i < 500; i++) p.set(`long:${i}`, 'x', 'EX', 1000);
    await p.exec();
    expect(await waitFor(async () => (await r.dbsize()) === 500, 5000)).toBe(true);
    expect(await r.exists('long:0', 'long:499')).toBe(2);
  });

  it('reclaims keys in every db', async () => {
    const dbs = [0, 3, 15];
    for (const d of dbs) {
      const c = srv.client({ enableReadyCheck: false });
      await c.select(d);
      const p = c.pipeline();
      for (let i = 0; i < 300; i++) p.set(`k${i}`, 'x', 'PX', 50);
      await p.exec();
    }
    const sizes = async () => {
      let total = 0;
      for (const d of dbs) {
        const c = srv.client({ enableReadyCheck: false });
        await c.select(d);
        total += await c.dbsize();
        c.disconnect();
      }
      return total;
    };
    expect(await waitFor(async () => (await sizes()) === 0, 5000)).toBe(true);
  });
});
