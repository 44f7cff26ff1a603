// MIGRATE on kvslab and on Debian's Redis 7.0, reply for reply (the bytes):
// argument errors in Redis's order, NOKEY, the IOERR replies (a closed port,
// a name that does not resolve, a target that never answers, one that hangs
// up), and targets' errors passed back (BUSYKEY, SELECT out of range, NOAUTH,
// WRONGPASS), from a Redis target and a kvslab target alike. Both sources
// send the same commands, so their cached connections go through the same
// states (the db last selected, an AUTH that went through).

import net from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startPair, type Argv, type Pair } from '../helpers/differential.js';
import { startKvslab, startRedis, type RunningServer } from '../helpers/servers.js';

const HOST = '127.0.0.1';

let pair: Pair;
let redisTarget: RunningServer;
let lockedRedis: RunningServer;
let lockedKvslab: RunningServer;

beforeAll(async () => {
  [pair, redisTarget, lockedRedis, lockedKvslab] = await Promise.all([
    startPair(),
    startRedis(),
    startRedis(['--requirepass', 'pw']),
    startKvslab(['--requirepass', 'pw']),
  ]);
  await pair.sequence([['SET', 'k', 'v'], ['SET', 'busy', 'here']]);
  await redisTarget.client().set('busy', 'there');
});

afterAll(async () => {
  await Promise.all([pair?.stop(), redisTarget?.stop(), lockedRedis?.stop(), lockedKvslab?.stop()]);
});

/** A port that accepts and then does `onConnection`, for the test's duration. */
async function listening(onConnection: (s: net.Socket) => void, body: (port: number) => Promise<void>): Promise<void> {
  const server = net.createServer(onConnection);
  await new Promise<void>((res) => server.listen(0, HOST, res));
  try {
    await body((server.address() as net.AddressInfo).port);
  } finally {
    server.close();
  }
}

describe('MIGRATE: the same replies as Redis', () => {
  it('argument errors in Redis\'s order, and NOKEY', async () => {
    const m = (...rest: string[]): Argv => ['MIGRATE', HOST, '1', ...rest];
    await pair.sequence([
      ['MIGRATE'],
      m('k', '0'),
      m('k', '0', '5', 'BOGUS'),
      m('k', '0', '5', 'AUTH'),
      m('k', '0', '5', 'AUTH2', 'user'),
      m('k', '0', '5', 'COPY', 'REPLACE', 'AUTH'),
      m('k', '0', '5', 'KEYS', 'a'),
      m('k', '0', '5', 'COPY', 'KEYS'),
      m('k', '0', '5', 'BOGUS', 'KEYS', 'a'),
      m('k', '0', '5', 'KEYS', 'a', 'BOGUS'),
      m('k', 'x', '5'),
      m('k', '0', 'x'),
      m('k', 'x', 'y', 'BOGUS'),
      m('k', '0', '99999999999999999999'),
      m('k', '0', '5.5'),
      m('k', '1.0', '5'),
      m('missing', '0', '5'),
      m('missing', '-1', '0', 'COPY', 'REPLACE', 'AUTH2', 'u', 'p', 'AUTH', 'p2'),
      m('', '0', '5'),
      m('', '0', '5', 'KEYS'),
      m('', '0', '5', 'KEYS', 'a', 'b', 'KEYS', 'BOGUS'),
      m('', '0', '5', 'AUTH', 'KEYS', 'KEYS', 'a'),
      ['migrate', HOST, '1', '', '0', '5', 'keys', 'missing'],
      ['COMMAND', 'INFO', 'MIGRATE'],
    ]);
  });

  it('the ACL checks the keys MIGRATE names: the key argument, or those after KEYS', async () => {
    const dry = (...rest: string[]): Argv => ['ACL', 'DRYRUN', 'mover', 'MIGRATE', HOST, '1', ...rest];
    await pair.sequence([
      ['ACL', 'SETUSER', 'mover', 'on', 'nopass', '~a*', '+@all'],
      dry('', '0', '5', 'KEYS', 'a1', 'b1'),
      dry('', '0', '5', 'KEYS', 'a1', 'a2'),
      dry('b', '0', '5'),
      dry('a', '0', '5', 'AUTH', 'KEYS'),
      dry('', '0', '5', 'AUTH', 'KEYS', 'b'),
      ['ACL', 'DELUSER', 'mover'],
    ]);
  });

  it('a target that cannot be reached: IOERR connecting (no such name) or writing (a closed port, as Redis\'s connect does not fail)', async () => {
    let closed = 0;
    await listening(() => {}, async (port) => { closed = port; });
    await pair.sequence([
      ['MIGRATE', HOST, String(closed), 'k', '0', '500'],
      ['MIGRATE', HOST, String(closed), '', '0', '500', 'KEYS', 'missing', 'k'],
      ['MIGRATE', 'no-such-host.invalid', '6379', 'k', '0', '500'],
      ['MIGRATE', '', String(redisTarget.port), 'k', '0', '500'],
      ['MIGRATE', HOST, '-1', 'k', '0', '500'],
      ['MIGRATE', HOST, 'abc', 'k', '0', '500'],
      ['MIGRATE', HOST, '65536', 'k', '0', '500'],
      ['GET', 'k'],
    ]);
  });

  it('a target that never answers, and one that hangs up at once: IOERR reading', async () => {
    await listening(() => {}, (port) => pair.sequence([['MIGRATE', HOST, String(port), 'k', '0', '300'], ['GET', 'k']]));
    await listening((s) => s.destroy(), (port) => pair.sequence([['MIGRATE', HOST, String(port), 'k', '0', '300', 'COPY'], ['GET', 'k']]));
  });

  it('a Redis target\'s errors: BUSYKEY, a db out of range; a negative db on a new connection sends no SELECT', async () => {
    const to = (host: string, ...rest: string[]): Argv => ['MIGRATE', host, String(redisTarget.port), ...rest];
    await pair.sequence([
      to(HOST, 'busy', '0', '1000'),
      to(HOST, 'busy', '0', '1000', 'COPY'),
      to(HOST, 'k', '99', '1000', 'COPY'),
      to(HOST, 'k', '0', '1000', 'COPY', 'REPLACE'),
      to(HOST, '', '0', '1000', 'COPY', 'KEYS', 'k', 'busy'),
      // Redis starts a connection with no db selected (-1): MIGRATE to db -1 then sends no SELECT, and works.
      to('localhost', 'k', '-1', '1000', 'COPY', 'REPLACE'),
      to('localhost', 'k', '-1', '1000', 'COPY', 'REPLACE'),
      to('localhost', 'k', '0', '1000', 'COPY', 'REPLACE'),
      to('localhost', 'k', '-1', '1000', 'COPY', 'REPLACE'),
      ['GET', 'k'],
      ['GET', 'busy'],
    ]);
  });

  for (const which of ['Redis', 'kvslab'] as const) {
    it(`a ${which} target with requirepass: NOAUTH, WRONGPASS, then through; a wrong AUTH on a connection already in still fails`, async () => {
      const port = String((which === 'Redis' ? lockedRedis : lockedKvslab).port);
      // A host word of each target's own, so that the connection starts unauthenticated.
      const host = which === 'Redis' ? HOST : 'localhost';
      const to = (...rest: string[]): Argv => ['MIGRATE', host, port, 'k', ...rest];
      await pair.sequence([
        to('0', '1000', 'COPY'),
        to('0', '1000', 'COPY', 'AUTH', 'wrong'),
        to('0', '1000', 'COPY', 'AUTH2', 'default', 'wrong'),
        to('0', '1000', 'COPY', 'AUTH2', 'nosuchuser', 'pw'),
        to('2', '1000', 'COPY', 'REPLACE', 'AUTH', 'pw'),
        to('2', '1000', 'COPY', 'REPLACE', 'AUTH', 'wrong'),
        to('2', '1000', 'COPY', 'REPLACE', 'AUTH2', 'default', 'pw'),
        to('2', '1000', 'COPY'),
      ]);
    });
  }
});
