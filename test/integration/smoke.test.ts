import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, RunningServer } from '../helpers/servers.js';
import { RawClient } from '../helpers/raw-client.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

describe('smoke', () => {
  it('answers ioredis', async () => {
    const r = srv.client();
    expect(await r.ping()).toBe('PONG');
    expect(await r.set('k', 'v')).toBe('OK');
    expect(await r.get('k')).toBe('v');
  });
  it('answers raw frames', async () => {
    const c = await RawClient.connect(srv.port);
    expect(await c.call('ECHO', Buffer.from([0, 1, 2, 255]))).toEqual(Buffer.from([0, 1, 2, 255]));
    c.close();
  });
});
