// Limits enforced as Redis enforces them, checked side by side: maxclients,
// the idle timeout, the output buffer limit of normal clients, and maxmemory
// with noeviction (OOM for commands that may grow memory, also inside MULTI).

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, Pair } from '../helpers/differential.js';
import { RawClient, encodeCommand, show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });

const ports = () => [pair.kvslab.port, pair.redis.port];

describe('limits', () => {
  it('maxclients closes the extra connection', async () => {
    const results = [];
    for (const port of ports()) {
      const admin = await RawClient.connect(port);
      // The pair's connection and the admin one are there: one more fits.
      await admin.call('CONFIG', 'SET', 'maxclients', '3');
      const third = await RawClient.connect(port);
      expect(show(await third.call('PING'))).toBe('PONG');
      const extra = await RawClient.connect(port);
      const closed = await extra.waitClose(3000);
      results.push({ closed, said: Buffer.concat(extra.raws).toString() });
      third.close();
      extra.close();
      await admin.call('CONFIG', 'SET', 'maxclients', '10000');
      admin.close();
    }
    expect(results.map((r) => r.closed)).toEqual([true, true]);
    // Redis 7.0 writes the error before the connection is set up, and it is
    // often lost; kvslab's arrives.
    expect(results[0].said).toBe('-ERR max number of clients reached\r\n');
  });

  it('timeout closes idle clients', async () => {
    await pair.same(['CONFIG', 'SET', 'timeout', '1']);
    // The pair's own connections stay busy so only the new ones are idle.
    const keepAlive = setInterval(() => { void pair.both(['PING']); }, 200);
    const idle = await Promise.all(ports().map((p) => RawClient.connect(p)));
    const closed = await Promise.all(idle.map((c) => c.waitClose(5000)));
    clearInterval(keepAlive);
    expect(closed).toEqual([true, true]);
    await pair.same(['CONFIG', 'SET', 'timeout', '0']);
  });

  it('closes a client that does not read past the output buffer hard limit', async () => {
    await pair.same(['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 0 0']);
    await pair.same(['SET', 'big', Buffer.alloc(256 * 1024, 0x78)]);
    const outcomes = [];
    for (const port of ports()) {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.pause(); // never read: replies pile up in the server
      let closed = false;
      s.on('close', () => { closed = true; });
      s.on('error', () => {});
      const frames = Buffer.concat(Array.from({ length: 400 }, () => encodeCommand(['GET', 'big'])));
      s.write(frames);
      for (let i = 0; i < 50 && !closed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        // Reading resumes so the close can be observed, once the server had time to act.
        if (i === 20) s.resume();
      }
      outcomes.push(closed);
      s.destroy();
    }
    expect(outcomes).toEqual([true, true]);
    await pair.same(['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0']);
  });

  it('maxmemory with noeviction refuses writes that may grow memory', async () => {
    await pair.same(['SET', 'before', 'x']);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '1']);
    await pair.sequence([
      ['SET', 'a', 'b'], ['GET', 'before'], ['DEL', 'before'], ['INCR', 'n'], ['APPEND', 'before', 'x'], ['EXPIRE', 'before', '10'],
      ['MULTI'], ['GET', 'x'], ['EXEC'], ['PING'],
    ]);
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0']);
    await pair.same(['SET', 'a', 'b']);
  });
});
