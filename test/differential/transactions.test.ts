// MULTI/EXEC/DISCARD/WATCH against real Redis, including queuing errors
// (EXECABORT), runtime errors inside EXEC, and WATCH invalidation.

import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { startPair, Pair } from '../helpers/differential.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });
beforeEach(async () => { await pair.same(['FLUSHALL']); });

describe('transactions', () => {
  it('queues and executes', async () => {
    await pair.sequence([
      ['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a'], ['EXEC'], ['GET', 'a'],
    ]);
  });

  it('reports errors at queue time with EXECABORT', async () => {
    await pair.sequence([
      ['MULTI'], ['SET', 'a'], ['NOSUCHCMD', 'x'], ['SET', 'b', '2'], ['EXEC'], ['EXISTS', 'b'],
    ]);
  });

  it('keeps going after a runtime error inside EXEC', async () => {
    await pair.sequence([
      ['SET', 's', 'text'], ['MULTI'], ['INCR', 's'], ['SET', 'after', 'yes'], ['EXEC'], ['GET', 'after'],
    ]);
  });

  it('rejects nesting, EXEC/DISCARD without MULTI, WATCH inside MULTI', async () => {
    await pair.sequence([
      ['EXEC'], ['DISCARD'], ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['PING'], ['EXEC'],
      ['MULTI'], ['SET', 'd', '1'], ['DISCARD'], ['EXISTS', 'd'], ['EXEC'],
    ]);
  });

  it('fails EXEC when a watched key changes on another connection', async () => {
    const [k2, r2] = await pair.connect();
    await pair.sequence([['SET', 'w', '1'], ['WATCH', 'w']]);
    await k2.call('SET', 'w', '2');
    await r2.call('SET', 'w', '2');
    await pair.sequence([['MULTI'], ['SET', 'w', '3'], ['EXEC'], ['GET', 'w']]);
    k2.close();
    r2.close();
  });

  it('succeeds when the watched key is untouched, and UNWATCH/DISCARD forget watches', async () => {
    const [k2, r2] = await pair.connect();
    await pair.sequence([['WATCH', 'u'], ['MULTI'], ['SET', 'u', '1'], ['EXEC']]);
    await pair.sequence([['WATCH', 'u'], ['UNWATCH']]);
    await k2.call('SET', 'u', '9');
    await r2.call('SET', 'u', '9');
    await pair.sequence([['MULTI'], ['INCR', 'u'], ['EXEC']]);
    k2.close();
    r2.close();
  });

  it('is invalidated by FLUSHALL and by expiry of a watched key', async () => {
    const [k2, r2] = await pair.connect();
    await pair.sequence([['SET', 'f', '1'], ['WATCH', 'f']]);
    await k2.call('FLUSHALL');
    await r2.call('FLUSHALL');
    await pair.sequence([['MULTI'], ['PING'], ['EXEC']]);
    await pair.sequence([['SET', 'e', '1', 'PX', '50'], ['WATCH', 'e']]);
    await new Promise((r) => setTimeout(r, 120));
    await pair.sequence([['MULTI'], ['PING'], ['EXEC']]);
    k2.close();
    r2.close();
  });

  it('watching a missing key that gets created fails EXEC', async () => {
    const [k2, r2] = await pair.connect();
    await pair.sequence([['WATCH', 'm']]);
    await k2.call('SET', 'm', 'x');
    await r2.call('SET', 'm', 'x');
    await pair.sequence([['MULTI'], ['GET', 'm'], ['EXEC']]);
    k2.close();
    r2.close();
  });

  it('RESP3 null for an aborted EXEC, and SELECT inside a transaction', async () => {
    await pair.both(['HELLO', '3']); // replies differ only in the client id
    const [k2, r2] = await pair.connect();
    await pair.sequence([['SET', 'n', '1'], ['WATCH', 'n']]);
    await k2.call('DEL', 'n');
    await r2.call('DEL', 'n');
    await pair.sequence([['MULTI'], ['PING'], ['EXEC']]);
    await pair.sequence([['MULTI'], ['SELECT', '2'], ['SET', 'in2', 'v'], ['SELECT', '0'], ['EXEC'], ['EXISTS', 'in2']]);
    await pair.both(['HELLO', '2']);
    k2.close();
    r2.close();
  });
});
