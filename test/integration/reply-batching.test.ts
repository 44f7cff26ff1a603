// Replies of every client a loop turn served are written together after the
// turn's reads, each built in its own room of the shared reply buffer (see
// server/shared-buffers.ts). Many clients pipelining at once, some with
// replies far bigger than a room, must each get exactly their own replies,
// in order; and a client closed with a reply still gets it.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

describe('replies written together after a loop turn', () => {
  it('50 clients pipelining small and big replies each get their own, in order', async () => {
    const big = Buffer.alloc(40 * 1024);
    const setup = srv.client();
    for (let c = 0; c < 50; c++) {
      big.fill(65 + (c % 26));
      await setup.set(`big:${c}`, big);
    }
    const clients = Array.from({ length: 50 }, () => srv.client());
    await Promise.all(clients.map(async (r, c) => {
      for (let round = 0; round < 20; round++) {
        const p = r.pipeline();
        for (let i = 0; i < 16; i++) p.set(`k:${c}:${i}`, `v:${c}:${round}:${i}`);
        for (let i = 0; i < 16; i++) p.get(`k:${c}:${i}`);
        // Every third client also asks for values bigger than a room (16 KiB): its replies move to a buffer of their own.
        if (c % 3 === 0) p.mgetBuffer(`big:${c}`, `big:${(c + 1) % 50}`);
        const out = (await p.exec())!;
        for (let i = 0; i < 16; i++) expect(out[16 + i][1]).toBe(`v:${c}:${round}:${i}`);
        if (c % 3 === 0) {
          const [a, b] = out[32][1] as Buffer[];
          expect(a.equals(Buffer.alloc(40 * 1024, 65 + (c % 26)))).toBe(true);
          expect(b.equals(Buffer.alloc(40 * 1024, 65 + ((c + 1) % 50) % 26))).toBe(true);
        }
      }
    }));
    for (const r of clients) r.disconnect();
    setup.disconnect();
  }, 60_000);

  it("QUIT and a protocol error among pipelined commands: the replies before them arrive, then the close, with Redis's texts", async () => {
    for (const [tail, last] of [['QUIT\r\n', '+OK\r\n'], ['*1\r\n$x\r\n', '-ERR Protocol error: invalid bulk length\r\n']]) {
      const s = net.connect(srv.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      const closed = new Promise((r) => s.once('close', r));
      s.write(`PING\r\nSET q 1\r\nGET q\r\n${tail}GET q\r\n`);
      await closed;
      expect(Buffer.concat(got).toString()).toBe(`+PONG\r\n+OK\r\n$1\r\n1\r\n${last}`);
    }
  });
});
