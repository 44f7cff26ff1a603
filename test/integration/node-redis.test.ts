// node-redis (npm `redis`, v6) against kvslab, over RESP2 and RESP3, doing
// what an application's cache layer does with it: get, set with a TTL,
// delete, binary values, pipelined and transactional writes, clearing one
// namespace with SCAN + UNLINK, and carrying on after the server restarts on
// the same port (node-redis reconnects and says HELLO again).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { freePort, startKvslabOn, RunningServer } from '../helpers/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe.each([2, 3] as const)('node-redis over RESP%i', (resp) => {
  let port: number;
  let proc: RunningServer;
  let client: ReturnType<typeof makeClient>;
  const errors: Error[] = [];

  function makeClient() {
    const c = createClient({
      RESP: resp,
      socket: { host: '127.0.0.1', port, reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 500) },
    });
    // Without a listener node-redis would throw the connection errors of a restart.
    c.on('error', (e: Error) => { errors.push(e); });
    return c;
  }

  beforeAll(async () => {
    port = await freePort();
    proc = await startKvslabOn(port);
    client = makeClient();
    await client.connect();
  });
  afterAll(async () => {
    if (client.isOpen) client.destroy();
    await proc.stop();
  });

  it('connects with HELLO and CLIENT SETINFO as the protocol asks', async () => {
    const info = await client.clientInfo();
    expect(info.resp).toBe(resp);
    expect(info.libName).toMatch(/^node-redis/);
    expect(info.libVer).toMatch(/^\d+\.\d+\.\d+/);
    expect(await client.ping()).toBe('PONG');
  });

  it('get, set with a TTL, delete, exists', async () => {
    expect(await client.get('user:1')).toBeNull();
    expect(await client.set('user:1', JSON.stringify({ name: 'Ada' }))).toBe('OK');
    expect(JSON.parse((await client.get('user:1')) as string)).toEqual({ name: 'Ada' });
    expect(await client.ttl('user:1')).toBe(-1);

    expect(await client.set('session:1', 'token', { expiration: { type: 'EX', value: 60 } })).toBe('OK');
    const ttl = await client.ttl('session:1');
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await client.set('flash', 'soon gone', { expiration: { type: 'PX', value: 200 } })).toBe('OK');
    expect(await client.get('flash')).toBe('soon gone');
    await sleep(400);
    expect(await client.get('flash')).toBeNull();
    // The older option spelling still used by many apps.
    expect(await client.set('legacy', 'v', { EX: 30 })).toBe('OK');
    expect(await client.ttl('legacy')).toBeGreaterThan(25);
    expect(await client.set('legacy', 'w', { condition: 'NX' })).toBeNull();
    expect(await client.setEx('setex', 100, 'x')).toBe('OK');
    expect(await client.pTTL('setex')).toBeGreaterThan(95_000);
    expect(await client.expire('user:1', 10)).toBe(1);
    expect(await client.persist('user:1')).toBe(1);

    expect(await client.exists(['user:1', 'session:1', 'nope'])).toBe(2);
    expect(await client.del(['user:1', 'session:1', 'nope'])).toBe(2);
    expect(await client.get('user:1')).toBeNull();
    expect(await client.unlink('legacy')).toBe(1);
  });

  it('binary values, big values, counters, mGet/mSet', async () => {
    const bin = Buffer.from([0, 255, 13, 10, 0x2a, 0x24]);
    await client.set('bin', bin);
    const buffers = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    expect(await buffers.get('bin')).toEqual(bin);
    const big = Buffer.alloc(3 << 20, 0x5a);
    big.write('head', 0);
    big.write('tail', big.length - 4);
    await client.set('big', big);
    expect(((await buffers.get('big')) as Buffer).equals(big)).toBe(true);
    expect(await client.strLen('big')).toBe(big.length);

    expect(await client.incr('hits')).toBe(1);
    expect(await client.incrBy('hits', 41)).toBe(42);
    await expect(client.incr('bin')).rejects.toThrow('value is not an integer or out of range');
    expect(await client.mSet({ 'm:a': '1', 'm:b': '2' })).toBe('OK');
    expect(await client.mGet(['m:a', 'm:missing', 'm:b'])).toEqual(['1', null, '2']);
  });

  it('a burst of pipelined commands and a MULTI/EXEC transaction', async () => {
    // node-redis pipelines whatever is sent in the same tick.
    const writes = Array.from({ length: 2000 }, (_, i) => client.set(`burst:${i}`, `v${i}`));
    expect((await Promise.all(writes)).every((r) => r === 'OK')).toBe(true);
    const reads = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.get(`burst:${i}`)));
    expect(reads.every((v, i) => v === `v${i}`)).toBe(true);

    const res = await client.multi().set('tx:a', '1').incr('tx:a').get('tx:a').expire('tx:a', 100).exec();
    expect(res).toEqual(['OK', 2, '2', 1]);
    // WATCH: a change by another connection makes EXEC fail.
    const other = client.duplicate();
    other.on('error', () => {});
    await other.connect();
    await client.watch('tx:a');
    await other.set('tx:a', 'changed');
    await expect(client.multi().set('tx:a', 'mine').exec()).rejects.toThrow();
    expect(await client.get('tx:a')).toBe('changed');
    other.destroy();
  });

  it('clears one namespace with SCAN + UNLINK, leaving the others', async () => {
    await Promise.all(Array.from({ length: 500 }, (_, i) => client.set(`cache:a:${i}`, 'x')));
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`cache:b:${i}`, 'y', { expiration: { type: 'EX', value: 300 } })));
    let removed = 0;
    for await (const keys of client.scanIterator({ MATCH: 'cache:a:*', COUNT: 100 })) {
      if (keys.length > 0) removed += await client.unlink(keys);
    }
    expect(removed).toBe(500);
    const left: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: 'cache:*', COUNT: 1000 })) left.push(...keys);
    expect(left.length).toBe(300);
    expect(left.every((k) => k.startsWith('cache:b:'))).toBe(true);
    expect(await client.get('cache:b:7')).toBe('y');
  });

  it('carries on after the server restarts on the same port', async () => {
    await client.set('before-restart', '1');
    let reconnecting = 0;
    client.on('reconnecting', () => { reconnecting++; });
    await proc.stop();
    // Commands sent while the server is away wait in node-redis's offline queue.
    const pending = client.set('during-restart', 'queued');
    await sleep(300);
    proc = await startKvslabOn(port);
    expect(await pending).toBe('OK');
    expect(reconnecting).toBeGreaterThan(0);
    // node-redis answers its offline queue just before it reports ready.
    for (let i = 0; i < 100 && !client.isReady; i++) await sleep(20);
    expect(client.isReady).toBe(true);
    // A cache restarts empty; what was written after it is there.
    expect(await client.get('before-restart')).toBeNull();
    expect(await client.get('during-restart')).toBe('queued');
    expect(await client.set('after-restart', 'v', { expiration: { type: 'EX', value: 100 } })).toBe('OK');
    expect(await client.get('after-restart')).toBe('v');
    // The new connection was set up again with the same protocol.
    expect((await client.clientInfo()).resp).toBe(resp);
    expect(errors.length).toBeGreaterThan(0);
  });
});
