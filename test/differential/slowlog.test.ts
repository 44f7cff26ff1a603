// SLOWLOG and LATENCY against real Redis 7.0, with slowlog-log-slower-than 0
// on both so that every command is logged: entry shapes (argument truncation,
// redaction, client names), which commands are logged (EXEC is not, the
// commands it runs are), LEN/RESET/max-len, HELP text and every error text.
// Durations and timestamps differ by nature: they are checked for range,
// everything else byte for byte or value for value.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argv, Pair, startPair } from '../helpers/differential.js';
import { RawClient, Reply, show } from '../helpers/raw-client.js';

let pair: Pair;
const args = ['--slowlog-log-slower-than', '0'];
beforeAll(async () => { pair = await startPair(args, [...args, '--enable-debug-command', 'yes']); });
afterAll(async () => { await pair.stop(); });

type Entry = [number, number, number, string[], string, string];

/** SLOWLOG GET's entries with what must match kept (argv, client name, id steps) and the rest range-checked. */
function normalize(r: Reply): { step: number; argv: string[]; name: string }[] {
  const entries = show(r) as Entry[];
  const now = Date.now() / 1000;
  return entries.map((e, i) => {
    expect(e).toHaveLength(6);
    expect(Math.abs(e[1] - now)).toBeLessThan(30);
    expect(e[2]).toBeGreaterThanOrEqual(0);
    expect(e[4]).toMatch(/^127\.0\.0\.1:\d+$/);
    return { step: entries[0][0] - e[0] - i, argv: e[3], name: e[5] };
  });
}

/** Runs `cmds` on both servers after a SLOWLOG RESET, then compares SLOWLOG GET (normalized) and LEN. */
async function sameLog(k: RawClient, r: RawClient, cmds: Argv[], count = '-1'): Promise<{ step: number; argv: string[]; name: string }[]> {
  for (const c of [k, r]) await c.call('SLOWLOG', 'RESET');
  for (const cmd of cmds) await Promise.all([k.call(...cmd), r.call(...cmd)]);
  const [kl, rl] = await Promise.all([k.call('SLOWLOG', 'LEN'), r.call('SLOWLOG', 'LEN')]);
  expect(kl).toEqual(rl);
  const [kg, rg] = await Promise.all([k.call('SLOWLOG', 'GET', count), r.call('SLOWLOG', 'GET', count)]);
  const kn = normalize(kg);
  expect(kn).toEqual(normalize(rg));
  return kn;
}

describe('SLOWLOG entries', () => {
  it('log each command after it ran, newest first, with the client name', async () => {
    const [k, r] = await pair.connect();
    const log = await sameLog(k, r, [['SET', 'a', '1'], ['GET', 'a'], ['CLIENT', 'SETNAME', 'probe'], ['INCR', 'a'], ['GET', 'missing']]);
    // SLOWLOG LEN, asked before GET, is the newest; the name applies from CLIENT SETNAME's own entry.
    expect(log.map((e) => e.argv[0])).toEqual(['SLOWLOG', 'GET', 'INCR', 'CLIENT', 'GET', 'SET', 'SLOWLOG']);
    expect(log.map((e) => e.name)).toEqual(['probe', 'probe', 'probe', 'probe', '', '', '']);
    expect(log.every((e) => e.step === 0)).toBe(true);
    k.close();
    r.close();
  });

  it('cut commands at 32 arguments and arguments at 128 bytes, as Redis says', async () => {
    const [k, r] = await pair.connect();
    const many = Array.from({ length: 40 }, (_, i) => `key${i}`);
    const long = 'x'.repeat(200);
    const log = await sameLog(k, r, [['EXISTS', ...many], ['ECHO', long], ['ECHO', 'y'.repeat(128)], ['ECHO', Buffer.from([0, 1, 255, 10])]]);
    expect(log[4].argv).toHaveLength(32);
    expect(log[4].argv[31]).toBe('... (10 more arguments)');
    expect(log[3].argv[1]).toBe(`${'x'.repeat(128)}... (72 more bytes)`);
    expect(log[2].argv[1]).toBe('y'.repeat(128));
    k.close();
    r.close();
  });

  it('redact passwords of AUTH, HELLO AUTH and CONFIG SET requirepass', async () => {
    const [k, r] = await pair.connect();
    const log = await sameLog(k, r, [
      ['AUTH', 'secret'], ['AUTH', 'user', 'secret'], ['HELLO', '2', 'AUTH', 'default', 'secret'],
      ['HELLO', '2', 'SETNAME', 'auth', 'AUTH', 'default', 'secret'], ['CONFIG', 'SET', 'requirepass', ''],
      ['CONFIG', 'SET', 'maxmemory-samples', '5'],
    ]);
    expect(log[2].argv).toEqual(['CONFIG', 'SET', 'requirepass', '(redacted)']);
    expect(log[1].argv).toEqual(['CONFIG', 'SET', 'maxmemory-samples', '5']);
    expect(log[5].argv).toEqual(['AUTH', '(redacted)', '(redacted)']);
    k.close();
    r.close();
  });

  it('MULTI/EXEC: the queued commands are logged when EXEC runs them, EXEC itself is not', async () => {
    const [k, r] = await pair.connect();
    const log = await sameLog(k, r, [['MULTI'], ['SET', 'm', '1'], ['INCR', 'm'], ['EXEC'], ['DISCARD'], ['GET', 'm']]);
    expect(log.map((e) => e.argv[0])).toEqual(['SLOWLOG', 'GET', 'DISCARD', 'INCR', 'SET', 'MULTI', 'SLOWLOG']);
    k.close();
    r.close();
  });

  it('unknown commands and arity errors are not logged; failed calls are', async () => {
    const [k, r] = await pair.connect();
    await sameLog(k, r, [['NOSUCH', 'x'], ['GET'], ['SET', 'a', 'b', 'NX', 'XX'], ['INCR', 'x'.repeat(3)], ['SLOWLOG', 'NOPE']]);
    k.close();
    r.close();
  });

  it('GET count: default 10, -1 for all, 0 for none', async () => {
    const [k, r] = await pair.connect();
    const cmds: Argv[] = Array.from({ length: 14 }, (_, i) => ['SET', `c${i}`, String(i)]);
    expect(await sameLog(k, r, cmds, '-1')).toHaveLength(16);
    for (const count of [[], ['0'], ['3'], ['100']]) {
      const [kg, rg] = await Promise.all([k.call('SLOWLOG', 'GET', ...count), r.call('SLOWLOG', 'GET', ...count)]);
      expect(normalize(kg)).toEqual(normalize(rg));
    }
    k.close();
    r.close();
  });
});

describe('SLOWLOG LEN, RESET, max-len and thresholds', () => {
  it('RESET empties the log (then logs itself); LEN counts', async () => {
    await pair.sequence([['SLOWLOG', 'RESET'], ['SLOWLOG', 'LEN'], ['SLOWLOG', 'LEN'], ['PING'], ['SLOWLOG', 'LEN']]);
  });

  it('slowlog-max-len trims on the next entry; 0 keeps nothing', async () => {
    await pair.sequence([
      ['SLOWLOG', 'RESET'], ['SET', 'a', '1'], ['SET', 'a', '2'], ['SET', 'a', '3'], ['SET', 'a', '4'], ['SLOWLOG', 'LEN'],
      ['CONFIG', 'SET', 'slowlog-max-len', '2'], ['SLOWLOG', 'LEN'], ['SLOWLOG', 'LEN'],
      ['CONFIG', 'SET', 'slowlog-max-len', '0'], ['SLOWLOG', 'LEN'], ['SLOWLOG', 'GET'],
      ['CONFIG', 'SET', 'slowlog-max-len', '128'], ['SLOWLOG', 'LEN'],
    ]);
  });

  it('slowlog-log-slower-than -1 turns logging off; a high threshold logs only slow calls', async () => {
    await pair.sequence([
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'], ['SLOWLOG', 'RESET'], ['SET', 'a', '1'], ['SLOWLOG', 'LEN'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '100000'], ['DEBUG', 'SLEEP', '0'], ['SLOWLOG', 'LEN'],
      ['DEBUG', 'SLEEP', '0.15'], ['SLOWLOG', 'LEN'],
    ]);
    const [k, r] = await pair.both(['SLOWLOG', 'GET', '1']);
    const ke = show(k) as Entry[];
    const re = show(r) as Entry[];
    expect(ke[0][3]).toEqual(re[0][3]);
    expect(ke[0][2]).toBeGreaterThanOrEqual(150_000);
    expect(ke[0][2]).toBeLessThan(1_000_000);
    await pair.same(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
  });

  it('directives: defaults, ranges and error texts', async () => {
    for (const d of ['slowlog-max-len', 'latency-monitor-threshold']) await pair.same(['CONFIG', 'GET', d]);
    for (const d of ['slowlog-log-slower-than', 'slowlog-max-len', 'latency-monitor-threshold']) {
      for (const v of ['-2', '-1', 'abc', '1.5', '99999999999999999999', '9223372036854775807']) await pair.same(['CONFIG', 'SET', d, v]);
    }
    await pair.same(['CONFIG', 'SET', 'slowlog-max-len', '128']);
    await pair.same(['CONFIG', 'SET', 'latency-monitor-threshold', '0']);
    await pair.same(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
    await pair.same(['CONFIG', 'GET', 'slowlog-log-slower-than']);
  });
});

describe('HELP and errors', () => {
  it('SLOWLOG HELP is word for word Redis\'s, in RESP2 and RESP3', async () => {
    await pair.sequence([['SLOWLOG', 'HELP'], ['slowlog', 'help'], ['SlowLog', 'Help']]);
    const [k, r] = await pair.connect();
    await Promise.all([k.call('HELLO', '3'), r.call('HELLO', '3')]);
    const [kh, rh] = await Promise.all([k.call('SLOWLOG', 'HELP'), r.call('SLOWLOG', 'HELP')]);
    expect(k.lastRaw.toString('latin1')).toBe(r.lastRaw.toString('latin1'));
    expect(show(kh)).toEqual(show(rh));
    k.close();
    r.close();
  });

  it('SLOWLOG and LATENCY errors match', async () => {
    await pair.sequence([
      ['SLOWLOG'], ['SLOWLOG', 'FOO'], ['SLOWLOG', 'GET', '-2'], ['SLOWLOG', 'GET', 'abc'], ['SLOWLOG', 'GET', '1', '2'],
      ['SLOWLOG', 'get', '1', '2', '3'], ['SLOWLOG', 'GET', '99999999999999999999'], ['SLOWLOG', 'LEN', 'x'],
      ['SLOWLOG', 'RESET', 'x'], ['SLOWLOG', 'HELP', 'x'],
      ['LATENCY'], ['LATENCY', 'FOO'], ['LATENCY', 'LATEST', 'x'], ['LATENCY', 'HISTORY'], ['LATENCY', 'HISTORY', 'a', 'b'],
      ['LATENCY', 'HELP', 'x'],
    ]);
  });

  it('COMMAND INFO entries match', async () => {
    for (const name of ['slowlog', 'latency|latest', 'latency|history', 'latency|reset', 'latency|histogram', 'latency|help']) {
      const [k, r] = await pair.both(['COMMAND', 'INFO', name]);
      const ke = show(k) as unknown[][];
      const re = show(r) as unknown[][];
      // Redis lists subcommands in hash order.
      if (name === 'slowlog') {
        expect(ke[0].slice(0, 9)).toEqual(re[0].slice(0, 9));
        const sort = (a: unknown) => (a as unknown[][]).slice().sort((x, y) => String(x[0]).localeCompare(String(y[0])));
        expect(sort(ke[0][9])).toEqual(sort(re[0][9]));
      } else {
        expect(ke).toEqual(re);
      }
    }
  });
});

describe('LATENCY', () => {
  it('LATEST, HISTORY and RESET of the command event', async () => {
    await pair.sequence([
      ['LATENCY', 'RESET'], ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'RESET', 'command', 'x'],
      ['CONFIG', 'SET', 'latency-monitor-threshold', '100'], ['DEBUG', 'SLEEP', '0.01'], ['LATENCY', 'LATEST'],
    ]);
    await Promise.all([pair.k.call('DEBUG', 'SLEEP', '0.15'), pair.r.call('DEBUG', 'SLEEP', '0.15')]);
    const [kl, rl] = (await pair.both(['LATENCY', 'LATEST'])).map((x) => show(x) as [string, number, number, number][]);
    expect(kl.map((e) => e[0])).toEqual(rl.map((e) => e[0]));
    expect(kl[0][0]).toBe('command');
    expect(Math.abs(kl[0][1] - rl[0][1])).toBeLessThan(3);
    expect(kl[0][2]).toBeGreaterThanOrEqual(150);
    expect(kl[0][3]).toBe(kl[0][2]);
    const [kh, rh] = (await pair.both(['LATENCY', 'HISTORY', 'command'])).map((x) => show(x) as number[][]);
    expect(kh.length).toBe(rh.length);
    expect(kh[0][1]).toBe(kl[0][2]);
    await pair.sequence([['LATENCY', 'RESET', 'command', 'command'], ['LATENCY', 'LATEST'], ['LATENCY', 'RESET']]);
    await pair.same(['CONFIG', 'SET', 'latency-monitor-threshold', '0']);
  });

  it('HISTOGRAM: the same commands, calls and bucket labels, in RESP2 and RESP3', async () => {
    const [k, r] = await pair.connect();
    for (const c of [k, r]) await c.call('CONFIG', 'RESETSTAT');
    const cmds: Argv[] = [['SET', 'h', '1'], ['GET', 'h'], ['GET', 'h'], ['INCR', 'h'], ['CONFIG', 'GET', 'hz'], ['DEBUG', 'SLEEP', '0.003']];
    for (const cmd of cmds) await Promise.all([k.call(...cmd), r.call(...cmd)]);
    // Redis's labels: the highest value equivalent to 2^(10+k) ns in its hdr_histogram, in µs.
    const labels = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1082130];
    for (const query of [['get', 'set', 'incr', 'nosuch', 'config|get', 'a|b|c'], ['config'], ['debug'], ['config|set']]) {
      const [kh, rh] = await Promise.all([k.call('LATENCY', 'HISTOGRAM', ...query), r.call('LATENCY', 'HISTOGRAM', ...query)]);
      // Commands named one by one come in argument order; a container's subcommands in Redis's hash order.
      const byName = (x: Reply) => {
        const a = show(x) as unknown[];
        const m = new Map<string, [string, number, string, number[]]>();
        for (let i = 0; i < a.length; i += 2) m.set(a[i] as string, a[i + 1] as [string, number, string, number[]]);
        return m;
      };
      const km = byName(kh);
      const rm = byName(rh);
      expect([...km.keys()].sort()).toEqual([...rm.keys()].sort());
      for (const [name, [callsWord, calls, histWord, buckets]] of km) {
        expect([callsWord, histWord]).toEqual(['calls', 'histogram_usec']);
        expect({ name, calls }).toEqual({ name, calls: (rm.get(name) as unknown[])[1] });
        for (let j = 0; j < buckets.length; j += 2) expect(labels).toContain(buckets[j]);
        expect(buckets[buckets.length - 1]).toBe(calls);
      }
      if (query[0] === 'debug') expect((km.get('debug') as unknown[] as [string, number, string, number[]])[3][0]).toBeGreaterThanOrEqual(4227);
    }
    // RESP3: maps all the way down, as Redis sends them.
    for (const c of [k, r]) await c.call('HELLO', '3');
    const [k3, r3] = await Promise.all([k.call('LATENCY', 'HISTOGRAM', 'get'), r.call('LATENCY', 'HISTOGRAM', 'get')]);
    const shape = (x: unknown): unknown => (x && typeof x === 'object' && 'map' in x
      ? { map: (x as { map: unknown[][] }).map.map(([kk, v]) => [typeof kk === 'number' ? 'n' : kk, shape(v)]) }
      : typeof x === 'number' ? 'n' : x);
    const ks = shape(show(k3)) as { map: [string, { map: [string, { map: unknown[] }][] }][] };
    const rs = shape(show(r3)) as typeof ks;
    expect(ks.map[0][0]).toBe(rs.map[0][0]);
    expect(ks.map[0][1].map[0]).toEqual(rs.map[0][1].map[0]);
    expect(ks.map[0][1].map[1][0]).toBe('histogram_usec');
    expect(ks.map[0][1].map[1][1]).toHaveProperty('map');
    k.close();
    r.close();
  });
});
