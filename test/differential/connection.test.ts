// Connection commands against real Redis: PING, ECHO, HELLO, AUTH, SELECT,
// QUIT, RESET, without and with requirepass (NOAUTH, WRONGPASS, the tighter
// limits on unauthenticated clients).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameOn, startPair, Pair } from '../helpers/differential.js';
import { RawClient, Reply, show } from '../helpers/raw-client.js';

/** HELLO's reply with the connection id blanked (ids differ between servers). */
function helloShape(r: Reply): unknown {
  const s = show(r) as unknown;
  const blank = (pairs: unknown[][]) => pairs.map(([k, v]) => [k, k === 'id' ? 'ID' : v]);
  if (Array.isArray(s)) {
    const flat = s as unknown[];
    const pairs: unknown[][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    return { array: blank(pairs) };
  }
  if (s && typeof s === 'object' && 'map' in s) return { map: blank((s as { map: unknown[][] }).map) };
  return s;
}

describe('without a password', () => {
  let pair: Pair;
  beforeAll(async () => { pair = await startPair(); });
  afterAll(async () => { await pair.stop(); });

  it('PING and ECHO', async () => {
    await pair.sequence([
      ['PING'], ['PING', 'hello'], ['PING', 'a', 'b'], ['ECHO'], ['ECHO', Buffer.from([0, 1, 0xfe])], ['ECHO', 'a', 'b'],
    ]);
  });

  it('HELLO variants', async () => {
    for (const argv of [
      ['HELLO'], ['HELLO', '2'], ['HELLO', '3'], ['HELLO', '2'], ['HELLO', '1'], ['HELLO', '4'], ['HELLO', 'x'],
      ['HELLO', '3', 'SETNAME', 'my-conn'], ['HELLO', '2', 'SETNAME', 'bad name'], ['HELLO', '2', 'AUTH', 'default', 'x'],
      ['HELLO', '2', 'AUTH', 'default'], ['HELLO', '2', 'FOO'], ['HELLO', '3', 'AUTH', 'nobody', 'pw'],
    ]) {
      const [k, r] = await pair.both(argv);
      expect({ argv, reply: helloShape(k) }).toEqual({ argv, reply: helloShape(r) });
    }
    await pair.both(['HELLO', '2']);
    await pair.same(['CLIENT', 'GETNAME']);
  });

  it('AUTH without a configured password', async () => {
    await pair.sequence([
      ['AUTH', 'secret'], ['AUTH', 'default', 'secret'], ['AUTH', 'someone', 'secret'], ['AUTH', 'a', 'b', 'c'], ['AUTH'],
    ]);
  });

  it('SELECT', async () => {
    await pair.sequence([
      ['SELECT', '1'], ['SET', 'in1', 'x'], ['SELECT', '0'], ['EXISTS', 'in1'], ['SELECT', '15'], ['SELECT', '16'],
      ['SELECT', '-1'], ['SELECT', 'abc'], ['SELECT', '1.5'], ['SELECT', '0'], ['SELECT'],
    ]);
  });

  it('RESET returns the connection to its initial state', async () => {
    await pair.sequence([['SELECT', '3'], ['CLIENT', 'SETNAME', 'before'], ['MULTI'], ['SET', 'x', '1'], ['RESET']]);
    await pair.sequence([['CLIENT', 'GETNAME'], ['EXEC'], ['SET', 'db0', 'x'], ['EXISTS', 'db0'], ['RESET', 'extra']]);
    await pair.both(['HELLO', '3']);
    await pair.sequence([['RESET'], ['PING']]);
  });

  it('QUIT replies OK and closes', async () => {
    const [k, r] = await pair.connect();
    const [kr, rr] = await Promise.all([k.call('QUIT'), r.call('QUIT')]);
    expect(show(kr)).toEqual(show(rr));
    expect(await k.waitClose()).toBe(true);
    expect(await r.waitClose()).toBe(true);
  });
});

describe('with requirepass', () => {
  let pair: Pair;
  beforeAll(async () => { pair = await startPair(['--requirepass', 'sekret'], ['--requirepass', 'sekret']); });
  afterAll(async () => { await pair.stop(); });

  it('refuses commands before AUTH, accepts the right password', async () => {
    await pair.sequence([
      ['PING'], ['GET', 'a'], ['NOSUCH'], ['SELECT', '1'], ['AUTH', 'wrong'], ['AUTH', 'default', 'wrong'],
      ['AUTH', 'sekret'], ['PING'], ['SET', 'a', '1'], ['GET', 'a'],
    ]);
  });

  it('HELLO needs AUTH when not authenticated', async () => {
    const [k, r] = await pair.connect();
    for (const argv of [['HELLO', '3'], ['HELLO', '3', 'AUTH', 'default', 'nope'], ['HELLO', '3', 'AUTH', 'default', 'sekret'], ['PING']]) {
      const [kr, rr] = await Promise.all([k.call(...argv), r.call(...argv)]);
      expect({ argv, reply: helloShape(kr) }).toEqual({ argv, reply: helloShape(rr) });
    }
    k.close();
    r.close();
  });

  it('RESET drops the authentication', async () => {
    const [k, r] = await pair.connect();
    await sameOn(k, r, [['AUTH', 'sekret'], ['PING'], ['RESET'], ['PING']]);
    k.close();
    r.close();
  });

  it('limits unauthenticated clients to small requests', async () => {
    for (const bytes of ['*11\r\n', '*1\r\n$16385\r\n']) {
      const out = [];
      for (const port of [pair.kvslab.port, pair.redis.port]) {
        const c = await RawClient.connect(port);
        const [reply] = await c.sendRaw(bytes, 1);
        out.push({ reply: show(reply), closed: await c.waitClose(1000) });
        c.close();
      }
      expect(out[0]).toEqual(out[1]);
    }
  });
});
