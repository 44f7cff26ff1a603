// SLOWLOG and LATENCY on a real kvslab, where the timings are kvslab's own:
// default directives, slow calls logged with their duration while pipelined
// fast commands around them are not, commands run by EXEC, the ring's
// length and ids, the client's address and name as ioredis sees them, the
// latency monitor's command event, LATENCY HISTOGRAM against INFO
// commandstats, and CONFIG RESETSTAT.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RunningServer, startKvslab } from '../helpers/servers.js';
import { parseInfo } from '../helpers/info.js';

type Entry = [number, number, number, string[], string, string];

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client();
  await r.set('a', '1');
});
afterAll(async () => { await srv.stop(); });

async function slowlog(count = '-1'): Promise<Entry[]> {
  return await r.call('SLOWLOG', 'GET', count) as Entry[];
}

describe('SLOWLOG', () => {
  it('defaults: 10 ms, 128 entries, latency monitor off', async () => {
    expect(await r.call('CONFIG', 'GET', 'slowlog-log-slower-than')).toEqual(['slowlog-log-slower-than', '10000']);
    expect(await r.call('CONFIG', 'GET', 'slowlog-max-len')).toEqual(['slowlog-max-len', '128']);
    expect(await r.call('CONFIG', 'GET', 'latency-monitor-threshold')).toEqual(['latency-monitor-threshold', '0']);
  });

  it('logs a slow call with its duration, and not the pipelined fast commands around it', async () => {
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '40000');
    await r.call('SLOWLOG', 'RESET');
    // One read: GETs, a 100 ms DEBUG SLEEP, GETs. Fast commands are timed from the end of the previous one.
    const p = r.pipeline();
    for (let i = 0; i < 50; i++) p.get('a');
    p.call('DEBUG', 'SLEEP', '0.1');
    for (let i = 0; i < 50; i++) p.get('a');
    await p.exec();
    const log = await slowlog();
    expect(log.map((e) => e[3])).toEqual([['DEBUG', 'SLEEP', '0.1']]);
    const [, time, us, , addr, name] = log[0];
    expect(us).toBeGreaterThanOrEqual(100_000);
    expect(us).toBeLessThan(5_000_000);
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(10);
    const me = parseInfo((await r.call('CLIENT', 'INFO') as string).replace(/ /g, '\r\n').replace(/=/g, ':'));
    expect(addr).toBe(me.get('addr'));
    expect(name).toBe('');
  });

  it('logs the slow command EXEC runs, not EXEC; names the client', async () => {
    await r.call('CLIENT', 'SETNAME', 'worker-7');
    await r.call('SLOWLOG', 'RESET');
    const m = r.multi();
    m.get('a');
    m.call('DEBUG', 'SLEEP', '0.05');
    m.get('a');
    await m.exec();
    const log = await slowlog();
    expect(log.map((e) => e[3][0])).toEqual(['DEBUG']);
    expect(log[0][2]).toBeGreaterThanOrEqual(50_000);
    expect(log[0][5]).toBe('worker-7');
    await r.call('CLIENT', 'SETNAME', '');
  });

  it('keeps the newest slowlog-max-len entries with increasing ids; -1 turns it off', async () => {
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await r.call('CONFIG', 'SET', 'slowlog-max-len', '5');
    for (let i = 0; i < 20; i++) await r.set(`s${i}`, String(i));
    expect(await r.call('SLOWLOG', 'LEN')).toBe(5);
    const log = await slowlog();
    // SLOWLOG LEN is the newest, then the last SETs.
    expect(log.map((e) => e[3].join(' '))).toEqual(['SLOWLOG LEN', 'set s19 19', 'set s18 18', 'set s17 17', 'set s16 16']);
    for (let i = 1; i < log.length; i++) expect(log[i][0]).toBe(log[i - 1][0] - 1);
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    await r.call('SLOWLOG', 'RESET');
    await r.call('DEBUG', 'SLEEP', '0.02');
    expect(await r.call('SLOWLOG', 'LEN')).toBe(0);
    await r.call('CONFIG', 'SET', 'slowlog-max-len', '128');
  });

  it('a long argument is cut in the log, the key and value stay whole in the store', async () => {
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await r.call('SLOWLOG', 'RESET');
    const big = 'z'.repeat(100_000);
    await r.set('big', big);
    const [entry] = (await slowlog('2')).filter((e) => e[3][0] === 'set');
    expect(entry[3]).toEqual(['set', 'big', `${'z'.repeat(128)}... (99872 more bytes)`]);
    expect(await r.strlen('big')).toBe(100_000);
    await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });
});

describe('LATENCY', () => {
  it('the latency monitor records slow commands as the "command" event once over the threshold', async () => {
    await r.call('LATENCY', 'RESET');
    await r.call('DEBUG', 'SLEEP', '0.05');
    expect(await r.call('LATENCY', 'LATEST')).toEqual([]);
    await r.call('CONFIG', 'SET', 'latency-monitor-threshold', '30');
    await r.call('DEBUG', 'SLEEP', '0.001');
    expect(await r.call('LATENCY', 'LATEST')).toEqual([]);
    await r.call('DEBUG', 'SLEEP', '0.05');
    await r.call('DEBUG', 'SLEEP', '0.08');
    const latest = await r.call('LATENCY', 'LATEST') as [string, number, number, number][];
    expect(latest).toHaveLength(1);
    const [event, , last, max] = latest[0];
    expect(event).toBe('command');
    expect(last).toBeGreaterThanOrEqual(50);
    expect(max).toBeGreaterThanOrEqual(80);
    expect(max).toBeGreaterThanOrEqual(last);
    // Samples of one second are merged (the worst kept): one or two samples, the highest >= 80 ms.
    const history = await r.call('LATENCY', 'HISTORY', 'command') as [number, number][];
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(history.length).toBeLessThanOrEqual(2);
    expect(Math.max(...history.map((h) => h[1]))).toBe(max);
    expect(await r.call('LATENCY', 'RESET', 'command', 'nosuch')).toBe(1);
    expect(await r.call('LATENCY', 'LATEST')).toEqual([]);
    await r.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  });

  it('HISTOGRAM counts every call, as INFO commandstats does, and restarts with CONFIG RESETSTAT', async () => {
    await r.call('CONFIG', 'RESETSTAT');
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.get(i % 2 ? 'a' : 'nosuch');
    for (let i = 0; i < 100; i++) p.set(`h${i}`, 'v');
    await p.exec();
    const stats = parseInfo(await r.info('commandstats'));
    const h = await r.call('LATENCY', 'HISTOGRAM') as unknown[];
    const names = h.filter((_, i) => i % 2 === 0);
    expect(names.sort()).toEqual(['config|resetstat', 'get', 'info', 'set']);
    for (const cmd of ['get', 'set', 'config|resetstat']) {
      const [, calls, , cdf] = h[h.indexOf(cmd) + 1] as [string, number, string, number[]];
      expect(stats.get(`cmdstat_${cmd}`)).toMatch(new RegExp(`^calls=${calls},`));
      expect(cdf[cdf.length - 1]).toBe(calls);
      for (let j = 3; j < cdf.length; j += 2) expect(cdf[j]).toBeGreaterThan(cdf[j - 2]);
    }
    expect((h[h.indexOf('get') + 1] as unknown[])[1]).toBe(1000);
    await r.call('CONFIG', 'RESETSTAT');
    expect(await r.call('LATENCY', 'HISTOGRAM', 'get', 'set')).toEqual([]);
  });
});
