// Connections under stress, on loopback: 2,000 clients connected at once
// (fewer if the open-file limit does not allow it: said in the output),
// each doing a few commands; clients that vanish in the middle of a 32 MB
// reply; clients that vanish in the middle of a request. Meanwhile a checker
// client keeps writing and reading its keys. The server must keep serving,
// answer the checker right, and let every connection go.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { RawClient, encodeCommand, show } from '../helpers/raw-client.js';
import { openFileLimit, rssMb, sleep, startChecker, until } from './support.js';

let srv: RunningServer;
let admin: RawClient;
beforeAll(async () => {
  srv = await startKvslab();
  admin = await RawClient.connect(srv.port);
});
afterAll(async () => {
  admin.close();
  await srv.stop();
});

async function connectedClients(): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(show(await admin.call('INFO', 'clients')) as string)?.[1]);
}

/** Drops the checker's keys, so memory is compared without them. */
async function dropCheckerKeys(): Promise<void> {
  const keys = show(await admin.call('KEYS', 'chk:*')) as string[];
  if (keys.length > 0) await admin.call('DEL', ...keys);
}

/** Waits until only the admin connection (and `others`) is left. */
async function settles(others = 0): Promise<number> {
  await until(async () => (await connectedClients()) <= 1 + others, 10_000);
  return connectedClients();
}

describe('connections', () => {
  it('2,000 concurrent connections, each doing a few commands', async () => {
    // Each connection is one descriptor here and one in the server, which has the same limit.
    const limit = openFileLimit();
    const n = Math.min(2000, limit - 200);
    if (n < 2000) console.log(`open-file limit ${limit}: ${n} connections instead of 2,000`);
    await admin.call('DEL', 'conn:counter');

    const clients: RawClient[] = [];
    // In waves, so the accept backlog is not what is being tested.
    for (let i = 0; i < n; i += 250) {
      const wave = await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => RawClient.connect(srv.port)));
      clients.push(...wave);
    }
    const bad: string[] = [];
    await Promise.all(clients.map(async (c, i) => {
      const v = `value-${i}-`.repeat(1 + (i % 40));
      if (show(await c.call('SET', `conn:${i}`, v, 'EX', '300')) !== 'OK') bad.push(`SET ${i}`);
      if (show(await c.call('GET', `conn:${i}`)) !== v) bad.push(`GET ${i}`);
      if (typeof (await c.call('INCR', 'conn:counter')) !== 'number') bad.push(`INCR ${i}`);
    }));
    expect(bad).toEqual([]);
    expect(await connectedClients()).toBe(n + 1);
    const list = (show(await admin.call('CLIENT', 'LIST')) as string).split('\n').filter(Boolean);
    expect(list.length).toBe(n + 1);

    // All still open: a second round, then everyone leaves.
    await Promise.all(clients.map(async (c, i) => {
      if (show(await c.call('CLIENT', 'SETNAME', `c${i}`)) !== 'OK') bad.push(`SETNAME ${i}`);
      if (show(await c.call('STRLEN', `conn:${(i + 1) % n}`)) !== `value-${(i + 1) % n}-`.repeat(1 + (((i + 1) % n) % 40)).length) bad.push(`STRLEN ${i}`);
    }));
    expect(bad).toEqual([]);
    expect(show(await admin.call('GET', 'conn:counter'))).toBe(String(n));
    for (const c of clients) c.close();
    expect(await settles()).toBe(1);
  });

  it('clients that disconnect in the middle of a 32 MB reply', async () => {
    const pid = srv.proc.pid as number;
    const big = Buffer.alloc(32 << 20, 0x62);
    big.write('start', 0);
    big.write('end', big.length - 3);
    expect(show(await admin.call('SET', 'big', big))).toBe('OK');
    // Values copied into the reply (under 64 KiB each), 30 MB of them in one MGET.
    expect(show(await admin.call('SET', 'mid', Buffer.alloc(60_000, 0x6d)))).toBe('OK');
    await admin.call('MEMORY', 'PURGE');
    await sleep(500);
    const baseline = rssMb(pid);

    const checker = startChecker(srv.port, 7);
    const requests = [encodeCommand(['GET', 'big']), encodeCommand(['MGET', ...Array<string>(500).fill('mid')])];
    let cut = 0;
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => new Promise<void>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => resolve());
        s.once('connect', () => s.write(requests[i % 2]));
        // The first chunk of the reply arrives: gone.
        s.once('data', () => { cut++; s.destroy(); });
      })));
    }
    expect(cut).toBe(40);
    await checker.stop();
    expect(checker.wrong).toEqual([]);
    expect(checker.errors).toEqual([]);
    expect(checker.ops).toBeGreaterThan(0);
    expect(await settles()).toBe(1);

    // The value the cut replies were reading is whole, and can change in place again.
    const reader = srv.client();
    const got = await reader.getBuffer('big') as Buffer;
    reader.disconnect();
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
    expect(show(await admin.call('SETRANGE', 'big', '0', 'START'))).toBe(32 << 20);
    expect(show(await admin.call('GETRANGE', 'big', '0', '5'))).toBe('STARTb');

    await dropCheckerKeys();
    await admin.call('MEMORY', 'PURGE');
    await until(() => rssMb(pid) < baseline + 64, 5000);
    expect(rssMb(pid)).toBeLessThan(baseline + 64);
    await admin.call('DEL', 'big', 'mid');
  });

  it('clients that disconnect in the middle of a request', async () => {
    const pid = srv.proc.pid as number;
    await admin.call('MEMORY', 'PURGE');
    await sleep(500);
    const baseline = rssMb(pid);
    const checker = startChecker(srv.port, 8);
    const halves = [
      // A 1 MB bulk string, 600 KB of it sent (redis-parser collects it in chunks).
      Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$8\r\nhalf:big\r\n$${1 << 20}\r\n`), Buffer.alloc(600_000, 0x68)]),
      // A 100 KB bulk string, half of it (carried from read to read).
      Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$8\r\nhalf:mid\r\n$100000\r\n'), Buffer.alloc(50_000, 0x68)]),
      // Cut inside a header, inside an argument, inside an inline command.
      Buffer.from('*3\r\n$3\r\nSET\r\n$1'),
      Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nhal'),
      Buffer.from('SET half:inline "va'),
      // Complete commands first, then half of one.
      Buffer.concat([encodeCommand(['SET', 'half:done', 'x']), encodeCommand(['GET', 'half:done']), Buffer.from('*2\r\n$3\r\nGET\r\n$9\r\nhalf:')]),
    ];
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 60 }, (_, i) => new Promise<void>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => resolve());
        s.once('connect', () => {
          const data = halves[i % halves.length];
          s.write(data);
          // Reset at once, or a moment later (after the server read it).
          if (i % 2 === 0) s.destroy();
          else setTimeout(() => s.destroy(), 20);
        });
      })));
    }
    await checker.stop();
    expect(checker.wrong).toEqual([]);
    expect(checker.errors).toEqual([]);
    expect(await settles()).toBe(1);
    // Nothing of the unfinished writes was stored.
    expect(show(await admin.call('EXISTS', 'half:big', 'half:mid', 'half:inline'))).toBe(0);
    expect(show(await admin.call('PING'))).toBe('PONG');
    await dropCheckerKeys();
    await admin.call('MEMORY', 'PURGE');
    await until(() => rssMb(pid) < baseline + 64, 5000);
    expect(rssMb(pid)).toBeLessThan(baseline + 64);
  });
});
