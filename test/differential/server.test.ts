// Server introspection against real Redis 7.0: CONFIG GET/SET (values, units,
// every error text), COMMAND INFO entries of every command both servers have,
// COMMAND GETKEYS/LIST errors, CLIENT/OBJECT/MEMORY/DEBUG/SHUTDOWN errors,
// OBJECT ENCODING/REFCOUNT on random values, INFO layout, and RESP3 bytes.
// Only SET/GET are used to make keys (other families are written concurrently).

import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argv, Pair, startPair } from '../helpers/differential.js';
import { Reply, show } from '../helpers/raw-client.js';

let pair: Pair;
// Redis 7 refuses DEBUG by default; kvslab allows it from loopback.
beforeAll(async () => { pair = await startPair([], ['--enable-debug-command', 'yes']); });
afterAll(async () => { await pair.stop(); });

/** A flat [name, value, ...] reply as a sorted list of pairs (CONFIG GET order is Redis's hash order). */
function pairs(r: Reply): [string, string][] {
  const a = show(r) as string[];
  const out: [string, string][] = [];
  for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

async function sameConfigGet(...patterns: string[]): Promise<void> {
  const [k, r] = await pair.both(['CONFIG', 'GET', ...patterns]);
  expect({ patterns, got: pairs(k) }).toEqual({ patterns, got: pairs(r) });
}

describe('CONFIG GET', () => {
  it('shared directives have the same values', async () => {
    const names = [
      'tcp-backlog', 'timeout', 'tcp-keepalive', 'protected-mode', 'maxclients', 'supervised', 'loglevel', 'databases',
      'hz', 'save', 'appendonly', 'dbfilename', 'requirepass', 'maxmemory', 'maxmemory-policy', 'maxmemory-samples',
      'maxmemory-eviction-tenacity', 'lfu-log-factor', 'lfu-decay-time', 'active-expire-effort', 'proto-max-bulk-len',
      'client-query-buffer-limit', 'client-output-buffer-limit', 'enable-protected-configs',
    ];
    for (const n of names) await sameConfigGet(n);
    await sameConfigGet(...names);
  });

  it('globs, case, duplicates and unknown names', async () => {
    await sameConfigGet('lfu-*');
    await sameConfigGet('lazyfree-*');
    await sameConfigGet('*expire-effort', 'LFU-LOG-FACTOR');
    await sameConfigGet('MAXMEMORY', 'maxmemory', 'MaxMemory-Policy');
    await sameConfigGet('nosuch', 'nosuch*');
    await sameConfigGet('maxmemory-[ps]*');
    await pair.same(['CONFIG', 'GET']);
  });
});

describe('CONFIG SET', () => {
  it('values read back the same, units included', async () => {
    const sets: [string, string][] = [
      ['maxmemory', '100mb'], ['maxmemory', '1gb'], ['maxmemory', '1k'], ['maxmemory', '1kb'], ['maxmemory', '5MB'],
      ['maxmemory', '5Mb'], ['maxmemory', '05mb'], ['maxmemory', '7b'], ['maxmemory', '3G'], ['maxmemory', ''], ['maxmemory', '0'],
      ['hz', '600'], ['hz', '0'], ['hz', '10'],
      ['maxmemory-policy', 'ALLKEYS-LRU'], ['maxmemory-policy', 'noeviction'],
      ['loglevel', 'Debug'], ['loglevel', 'notice'],
      ['timeout', '2147483647'], ['timeout', '0'],
      ['protected-mode', 'NO'], ['protected-mode', 'yes'],
      ['client-output-buffer-limit', 'NORMAL 1k 2kb 3'], ['client-output-buffer-limit', 'pubsub 1mb 2mb 10 replica 1 2 3'],
      ['client-output-buffer-limit', ''], ['client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
      ['save', '100 1 50 2'], ['save', ''],
      ['proto-max-bulk-len', '1mb'], ['proto-max-bulk-len', '512mb'],
      ['client-query-buffer-limit', '2gb'], ['client-query-buffer-limit', '1gb'],
      ['maxclients', '4294967295'], ['maxclients', '10000'],
      ['requirepass', ''],
    ];
    for (const [name, value] of sets) {
      await pair.same(['CONFIG', 'SET', name, value]);
      await sameConfigGet(name);
    }
    await pair.same(['CONFIG', 'SET', 'maxmemory', '2mb', 'hz', '20', 'timeout', '3']);
    await sameConfigGet('maxmemory', 'hz', 'timeout');
    await pair.same(['CONFIG', 'SET', 'maxmemory', '0', 'hz', '10', 'timeout', '0']);
  });

  it('error texts', async () => {
    const bad: Argv[] = [
      ['CONFIG', 'SET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'port'],
      ['CONFIG', 'SET', 'nosuch', '1'],
      ['CONFIG', 'SET', 'maxmemory', 'abc'], ['CONFIG', 'SET', 'maxmemory', '-1'], ['CONFIG', 'SET', 'maxmemory', '+5mb'],
      ['CONFIG', 'SET', 'maxmemory', '1.5mb'], ['CONFIG', 'SET', 'maxmemory', '5 mb'], ['CONFIG', 'SET', 'maxmemory', '1tb'],
      ['CONFIG', 'SET', 'MAXMEMORY', 'abc'],
      ['CONFIG', 'SET', 'loglevel', 'loud'], ['CONFIG', 'SET', 'loglevel', 'nothing'],
      ['CONFIG', 'SET', 'appendonly', 'maybe'], ['CONFIG', 'SET', 'protected-mode', '1'],
      ['CONFIG', 'SET', 'hz', 'abc'], ['CONFIG', 'SET', 'hz', '+5'], ['CONFIG', 'SET', 'hz', '05'], ['CONFIG', 'SET', 'hz', '-0'],
      ['CONFIG', 'SET', 'hz', '1e3'], ['CONFIG', 'SET', 'hz', ''], ['CONFIG', 'SET', 'hz', '99999999999999999999'], ['CONFIG', 'SET', 'hz', '-1'],
      ['CONFIG', 'SET', 'maxclients', '0'], ['CONFIG', 'SET', 'maxclients', '4294967296'], ['CONFIG', 'SET', 'timeout', '-1'],
      ['CONFIG', 'SET', 'tcp-keepalive', '2147483648'], ['CONFIG', 'SET', 'port', '65536'], ['CONFIG', 'SET', 'port', 'abc'],
      ['CONFIG', 'SET', 'active-expire-effort', '11'], ['CONFIG', 'SET', 'active-expire-effort', '0'],
      ['CONFIG', 'SET', 'maxmemory-samples', '0'], ['CONFIG', 'SET', 'maxmemory-eviction-tenacity', '101'],
      ['CONFIG', 'SET', 'lfu-log-factor', '-1'], ['CONFIG', 'SET', 'lfu-decay-time', 'x'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1000'], ['CONFIG', 'SET', 'client-query-buffer-limit', '1000'],
      ['CONFIG', 'SET', 'databases', '3'], ['CONFIG', 'SET', 'DATABASES', '3'], ['CONFIG', 'SET', 'daemonize', 'yes'],
      ['CONFIG', 'SET', 'supervised', 'no'], ['CONFIG', 'SET', 'pidfile', 'x'], ['CONFIG', 'SET', 'logfile', 'x'],
      ['CONFIG', 'SET', 'tcp-backlog', '1'], ['CONFIG', 'SET', 'enable-debug-command', 'yes'],
      ['CONFIG', 'SET', 'enable-protected-configs', 'yes'],
      ['CONFIG', 'SET', 'dir', '/tmp'], ['CONFIG', 'SET', 'dbfilename', 'x.rdb'],
      ['CONFIG', 'SET', 'save', '1'], ['CONFIG', 'SET', 'save', 'a b'], ['CONFIG', 'SET', 'save', '10 -1'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 2'], ['CONFIG', 'SET', 'client-output-buffer-limit', 'foo 1 2 3'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'master 1 2 3'], ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal x 2 3'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 2 -3'], ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 2 3x'],
      // Several pairs: the first problem in order wins; nothing is applied.
      ['CONFIG', 'SET', 'maxmemory', '10mb', 'maxmemory', '20mb'],
      ['CONFIG', 'SET', 'hz', '5', 'HZ', '6'],
      ['CONFIG', 'SET', 'hz', '5', 'DATABASES', '3', 'nosuch', '1'],
      ['CONFIG', 'SET', 'nosuch', '1', 'DATABASES', '3'],
      ['CONFIG', 'SET', 'hz', 'abc', 'DATABASES', '3'],
      ['CONFIG', 'SET', 'maxmemory', 'abc', 'hz', 'abc'],
    ];
    for (const argv of bad) await pair.same(argv);
    // kvslab lists its own policies after Redis's: the same text with three more names.
    for (const argv of [['CONFIG', 'SET', 'maxmemory-policy', 'foo'], ['CONFIG', 'SET', 'maxmemory', '10mb', 'maxmemory-policy', 'bad']]) {
      const [k, r] = await pair.both(argv);
      expect(show(k)).toEqual({ error: `${(show(r) as { error: string }).error}, allkeys-sieve, volatile-sieve, allkeys-s3fifo` });
    }
    await sameConfigGet('maxmemory', 'hz', 'maxmemory-policy');
  });

  it('other CONFIG subcommands', async () => {
    await pair.sequence([
      ['CONFIG'], ['CONFIG', 'NOSUCH'], ['CONFIG', 'RESETSTAT', 'x'], ['CONFIG', 'REWRITE', 'x'], ['CONFIG', 'HELP', 'x'],
      ['CONFIG', 'RESETSTAT'], ['CONFIG', 'REWRITE'],
    ]);
  });
});

/**
 * The part of a COMMAND INFO entry compared for every command: name, arity,
 * flags, first, last, step, ACL categories, tips, key specs (subcommands are
 * compared one by one below: Redis lists them in hash order).
 */
function core(e: Reply): unknown {
  const a = show(e) as unknown[];
  return a.slice(0, 9);
}

const MY_COMMANDS = ['info', 'time', 'config', 'debug', 'memory', 'object', 'shutdown', 'command', 'client'];

describe('COMMAND INFO', () => {
  it('matches Redis for every command both have (arity, flags, keys, ACL categories, tips, key specs)', async () => {
    const names = (show(await pair.k.call('COMMAND', 'LIST')) as string[]);
    expect(names.length).toBeGreaterThan(20);
    let compared = 0;
    const mismatches: { kvslab: unknown; redis: unknown }[] = [];
    for (const name of names) {
      const [k, r] = await pair.both(['COMMAND', 'INFO', name]);
      const rr = (r as Reply[])[0];
      if (rr === null) continue; // commands Redis 7.0 does not have (CLIENT SETINFO is 7.2)
      const kk = (k as Reply[])[0];
      if (JSON.stringify(core(kk)) !== JSON.stringify(core(rr))) mismatches.push({ kvslab: core(kk), redis: core(rr) });
      compared++;
    }
    // All differences at once, so one wrong spec does not hide the next.
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(20);
  });

  it('matches whole entries for the server, COMMAND and CLIENT families', async () => {
    for (const name of MY_COMMANDS) {
      const [k, r] = await pair.both(['COMMAND', 'INFO', name]);
      const ke = show((k as Reply[])[0]) as unknown[];
      const re = show((r as Reply[])[0]) as unknown[];
      // Name .. key specs must be equal; subcommands compared one by one (kvslab has fewer CLIENT ones).
      expect({ name, entry: ke.slice(0, 9) }).toEqual({ name, entry: re.slice(0, 9) });
      const rsubs = new Map((re[9] as unknown[][]).map((s) => [s[0] as string, s]));
      for (const sub of ke[9] as unknown[][]) {
        const theirs = rsubs.get(sub[0] as string);
        if (theirs) expect(sub).toEqual(theirs);
        else expect(sub[0]).toBe('client|setinfo');
      }
    }
  });

  it('unknown names, COUNT errors, DOCS of unknown names, subcommand names', async () => {
    await pair.sequence([
      ['COMMAND', 'INFO', 'nosuch'], ['COMMAND', 'INFO', 'nosuch', 'config|get', 'CONFIG|GET', 'config|nosuch', 'a|b|c'],
      ['COMMAND', 'COUNT', 'x'], ['COMMAND', 'DOCS', 'nosuch'], ['COMMAND', 'FOO'],
      ['COMMAND', 'INFO', 'object|encoding', 'memory|usage', 'info', 'time'],
    ]);
  });

  it('COMMAND LIST filters', async () => {
    for (const p of ['config*', 'OBJECT*', 'memory*', 'command*', 'nosuch*', 'c?nfig']) {
      const [k, r] = await pair.both(['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', p]);
      expect({ p, names: (show(k) as string[]).sort() }).toEqual({ p, names: (show(r) as string[]).sort() });
    }
    await pair.sequence([
      ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'], ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY'], ['COMMAND', 'LIST', 'FILTERBY', 'FOO', 'x'], ['COMMAND', 'LIST', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'a', 'b'],
    ]);
  });

  it('COMMAND GETKEYS and GETKEYSANDFLAGS', async () => {
    await pair.sequence([
      ['COMMAND', 'GETKEYS'], ['COMMAND', 'GETKEYS', 'get'], ['COMMAND', 'GETKEYS', 'nosuch', 'x'],
      ['COMMAND', 'GETKEYS', 'ping', 'x'], ['COMMAND', 'GETKEYS', 'echo', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'get', 'a', 'b'], ['COMMAND', 'GETKEYS', 'set', 'a'], ['COMMAND', 'GETKEYS', 'GET', 'a'],
      ['COMMAND', 'GETKEYS', 'set', 'k', 'v', 'EX', '10'],
      ['COMMAND', 'GETKEYS', 'config', 'get', 'x'], ['COMMAND', 'GETKEYS', 'config|get', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'memory', 'usage', 'k'], ['COMMAND', 'GETKEYS', 'memory', 'usage'],
      ['COMMAND', 'GETKEYS', 'memory', 'nosuch', 'k'], ['COMMAND', 'GETKEYS', 'object', 'encoding', 'k'],
      ['COMMAND', 'GETKEYS', 'object', 'help'], ['COMMAND', 'GETKEYS', 'client', 'list'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'get', 'a'], ['COMMAND', 'GETKEYSANDFLAGS', 'object', 'encoding', 'k'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'memory', 'usage', 'k'], ['COMMAND', 'GETKEYSANDFLAGS', 'nosuch', 'a'],
    ]);
  });
});

describe('CLIENT', () => {
  it('error texts and simple replies', async () => {
    await pair.sequence([
      ['CLIENT'], ['CLIENT', 'FOO'], ['CLIENT', 'ID', 'x'], ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'a b'], ['CLIENT', 'SETNAME', 'a\nb'], ['CLIENT', 'SETNAME', Buffer.from([0xc3, 0xa9])],
      ['CLIENT', 'SETNAME', 'ok-name'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', ''], ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME'], ['CLIENT', 'SETNAME', 'a', 'b'],
      ['CLIENT', 'LIST', 'TYPE'], ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'ID'], ['CLIENT', 'LIST', 'ID', 'abc'],
      ['CLIENT', 'LIST', 'ID', '0'], ['CLIENT', 'LIST', 'ID', '99999'], ['CLIENT', 'LIST', 'ID', '1', 'x'], ['CLIENT', 'LIST', 'foo'],
      ['CLIENT', 'LIST', 'TYPE', 'pubsub'], ['CLIENT', 'LIST', 'TYPE', 'MASTER'], ['CLIENT', 'LIST', 'TYPE', 'replica'],
      ['CLIENT', 'LIST', 'TYPE', 'slave'], ['CLIENT', 'LIST', 'TYPE', 'normal', 'x'],
      ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'ID'], ['CLIENT', 'KILL', 'ID', 'abc'], ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ID', '-1'], ['CLIENT', 'KILL', 'ID', '99999'], ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'LADDR', 'x:1'], ['CLIENT', 'KILL', 'TYPE', 'foo'], ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
      ['CLIENT', 'KILL', 'TYPE', 'master'], ['CLIENT', 'KILL', 'SKIPME', 'maybe'], ['CLIENT', 'KILL', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL', 'USER', 'nosuch'], ['CLIENT', 'KILL', 'FOO', 'bar'], ['CLIENT', 'KILL', 'TYPE', 'normal', 'ID'],
      ['CLIENT', 'KILL', 'ID', '99999', 'SKIPME', 'no'],
      ['CLIENT', 'NO-EVICT', 'maybe'], ['CLIENT', 'NO-EVICT', 'on'], ['CLIENT', 'NO-EVICT', 'OFF'], ['CLIENT', 'NO-EVICT'],
      ['CLIENT', 'REPLY', 'maybe'], ['CLIENT', 'REPLY', 'ON'], ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'UNBLOCK', '99999'], ['CLIENT', 'UNBLOCK', 'x'], ['CLIENT', 'UNBLOCK', '99999', 'error'],
      ['CLIENT', 'UNBLOCK', '99999', 'foo'],
    ]);
  });
});

describe('CLIENT REPLY', () => {
  it('drops the same replies as Redis', async () => {
    const cmds = [
      ['CLIENT', 'REPLY', 'OFF'], ['SET', 'rep:k', '1'], ['GET', 'rep:k'], ['CLIENT', 'REPLY', 'ON'],
      ['CLIENT', 'REPLY', 'SKIP'], ['ECHO', 'skipped'], ['ECHO', 'seen'], ['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'ON'],
      ['CLIENT', 'REPLY', 'OFF'], ['CLIENT', 'REPLY', 'ON'], ['PING'],
    ];
    const bytes = cmds.map((a) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`).join('');
    const [k, r] = await pair.connect();
    try {
      const [kr, rr] = await Promise.all([k.sendRaw(bytes, 5), r.sendRaw(bytes, 5)]);
      expect(kr.map(show)).toEqual(rr.map(show));
    } finally {
      k.close();
      r.close();
    }
  });
});

describe('OBJECT, MEMORY, DEBUG, SHUTDOWN, TIME, INFO', () => {
  it('OBJECT error texts and null replies', async () => {
    await pair.sequence([
      ['SET', 'obj:k', 'v'], ['OBJECT'], ['OBJECT', 'FOO', 'obj:k'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'a', 'b'],
      ['OBJECT', 'ENCODING', 'obj:nosuch'], ['OBJECT', 'REFCOUNT', 'obj:nosuch'], ['OBJECT', 'IDLETIME', 'obj:nosuch'],
      ['OBJECT', 'FREQ', 'obj:nosuch'], ['OBJECT', 'FREQ', 'obj:k'], ['OBJECT', 'HELP', 'x'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lfu'], ['OBJECT', 'IDLETIME', 'obj:k'], ['OBJECT', 'IDLETIME', 'obj:nosuch'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ]);
    await pair.same(['OBJECT', 'IDLETIME', 'obj:k'], { tolerance: 1 });
  });

  it('OBJECT ENCODING and REFCOUNT agree on random values', async () => {
    const alphabet = fc.constantFrom('0', '1', '5', '9', '-', '+', ' ', '.', 'a', 'x', 'e');
    const value = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 22 }),
      fc.string({ unit: alphabet, minLength: 40, maxLength: 50 }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
      fc.integer({ min: -20000, max: 20000 }).map(String),
    );
    await fc.assert(fc.asyncProperty(value, async (v) => {
      await pair.sequence([['SET', 'enc:k', v], ['OBJECT', 'ENCODING', 'enc:k'], ['OBJECT', 'REFCOUNT', 'enc:k']]);
    }), { numRuns: 120 });
    // Redis stops sharing integers under maxmemory with an LRU policy.
    await pair.sequence([
      ['CONFIG', 'SET', 'maxmemory', '1gb', 'maxmemory-policy', 'allkeys-lru'], ['SET', 'enc:n', '77'], ['OBJECT', 'REFCOUNT', 'enc:n'],
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'], ['SET', 'enc:n', '77'], ['OBJECT', 'REFCOUNT', 'enc:n'],
    ]);
  });

  it('MEMORY error texts', async () => {
    await pair.sequence([
      ['SET', 'mem:k', 'v'], ['MEMORY'], ['MEMORY', 'NOSUCH'], ['MEMORY', 'USAGE'], ['MEMORY', 'USAGE', 'mem:nosuch'],
      ['MEMORY', 'USAGE', 'mem:k', 'SAMPLES'], ['MEMORY', 'USAGE', 'mem:k', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'mem:k', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 'mem:k', 'FOO', '1'], ['MEMORY', 'USAGE', 'mem:nosuch', 'SAMPLES', '0', 'SAMPLES', '3'],
      ['MEMORY', 'PURGE'], ['MEMORY', 'STATS', 'x'], ['MEMORY', 'DOCTOR', 'x'], ['MEMORY', 'HELP', 'x'],
    ]);
  });

  it('DEBUG replies and errors', async () => {
    await pair.sequence([
      ['DEBUG'], ['DEBUG', 'NOSUCH'], ['DEBUG', 'nosuch', 'x'], ['DEBUG', 'SLEEP'], ['DEBUG', 'SLEEP', '1', '2'],
      ['DEBUG', 'SLEEP', '0'], ['DEBUG', 'sleep', 'abc'], ['DEBUG', 'SLEEP', '0.01'], ['DEBUG', 'SLEEP', '-1'],
      ['DEBUG', 'SET-ACTIVE-EXPIRE'], ['DEBUG', 'SET-ACTIVE-EXPIRE', 'x'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '0'],
      ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1', '2'], ['DEBUG', 'OBJECT', 'dbg:nosuch'],
    ]);
  });

  it('SHUTDOWN errors, TIME and INFO arguments', async () => {
    await pair.sequence([
      ['SHUTDOWN', 'ABORT'], ['SHUTDOWN', 'abort', 'now'], ['SHUTDOWN', 'NOSAVE', 'SAVE'], ['SHUTDOWN', 'FOO'],
      ['SHUTDOWN', 'NOW', 'FORCE', 'ABORT'], ['MULTI'], ['SHUTDOWN'], ['DISCARD'],
      ['TIME', 'x'], ['INFO', 'nosuch'], ['INFO', 'NOSUCH', 'other'],
    ]);
    const [kt, rt] = await pair.both(['TIME']);
    expect(Math.abs(Number(show((kt as Reply[])[0])) - Number(show((rt as Reply[])[0])))).toBeLessThanOrEqual(2);
  });

  it('INFO prints the same sections, and the same keyspace line', async () => {
    const headersOf = (r: Reply) => (show(r) as string).split('\r\n').filter((l) => l.startsWith('# '));
    for (const args of [[], ['default'], ['all'], ['everything'], ['keyspace', 'SERVER'], ['cpu', 'memory', 'stats', 'clients', 'cluster']]) {
      const [k, r] = await pair.both(['INFO', ...args]);
      // INFO all has kvslab's own Slabs section after Memory.
      const kh = headersOf(k);
      if (args[0] === 'all' || args[0] === 'everything') expect(kh[kh.indexOf('# Memory') + 1]).toBe('# Slabs');
      expect({ args, h: kh.filter((x) => x !== '# Slabs') }).toEqual({ args, h: headersOf(r) });
    }
    await pair.sequence([['SELECT', '7'], ['SET', 'ks:a', '1'], ['SET', 'ks:b', '2'], ['INFO', 'keyspace'], ['INFO', 'cluster'], ['SELECT', '0']]);
    // Field names of the stats and clients sections that kvslab prints exist in Redis's too.
    for (const section of ['stats', 'clients', 'server', 'memory', 'replication', 'persistence', 'cpu']) {
      const [k, r] = await pair.both(['INFO', section]);
      const fields = (x: Reply) => (show(x) as string).split('\r\n').filter((l) => l.includes(':')).map((l) => l.slice(0, l.indexOf(':')));
      const theirs = new Set(fields(r));
      // kvslab's own fields: its version, Node's, and where its memory goes.
      const own = ['kvslab_version', 'node_version', 'used_memory_slabs', 'used_memory_index', 'used_memory_large', 'used_memory_js_heap', 'kv_tail_trims'];
      const extra = fields(k).filter((f) => !theirs.has(f) && !own.includes(f));
      expect({ section, extra }).toEqual({ section, extra: [] });
    }
  });
});

/** Minimal RESP3 reader over a raw socket: returns each reply's exact bytes. */
class Resp3Conn {
  private buf = Buffer.alloc(0);
  private waiting: ((s: string) => void)[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const end = replyEnd(this.buf, 0);
        if (end < 0 || this.waiting.length === 0) break;
        const raw = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end);
        (this.waiting.shift() as (s: string) => void)(raw);
      }
    });
  }

  static connect(port: number): Promise<Resp3Conn> {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new Resp3Conn(s)));
      s.once('error', rej);
    });
  }

  call(...argv: string[]): Promise<string> {
    const p = new Promise<string>((res) => this.waiting.push(res));
    this.socket.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    return p;
  }

  close(): void { this.socket.destroy(); }
}

/** End offset of the complete reply at `pos`, or -1 if more bytes are needed. */
function replyEnd(b: Buffer, pos: number): number {
  const nl = b.indexOf('\r\n', pos);
  if (nl < 0) return -1;
  const type = String.fromCharCode(b[pos]);
  const head = b.toString('latin1', pos + 1, nl);
  let at = nl + 2;
  if ('+-:_#,(' .includes(type)) return at;
  if ('$=!'.includes(type)) {
    const n = Number(head);
    if (n < 0) return at;
    return b.length >= at + n + 2 ? at + n + 2 : -1;
  }
  const count = Number(head) * ('%|'.includes(type) ? 2 : 1);
  for (let i = 0; i < count; i++) {
    at = replyEnd(b, at);
    if (at < 0) return -1;
  }
  return at;
}

describe('RESP3', () => {
  it('replies byte for byte like Redis', async () => {
    const k = await Resp3Conn.connect(pair.kvslab.port);
    const r = await Resp3Conn.connect(pair.redis.port);
    try {
      await k.call('HELLO', '3');
      await r.call('HELLO', '3');
      const cmds: string[][] = [
        ['SET', 'r3:k', '12'],
        ['CONFIG', 'GET', 'maxmemory-policy'], ['CONFIG', 'GET', 'nosuch'],
        ['COMMAND', 'INFO', 'object|encoding'], ['COMMAND', 'INFO', 'nosuch'], ['COMMAND', 'INFO', 'time', 'memory|usage'],
        ['COMMAND', 'GETKEYSANDFLAGS', 'object', 'encoding', 'r3:k'], ['COMMAND', 'DOCS', 'nosuch'],
        ['CLIENT', 'GETNAME'], ['OBJECT', 'ENCODING', 'r3:k'], ['OBJECT', 'ENCODING', 'r3:nosuch'], ['OBJECT', 'REFCOUNT', 'r3:k'],
        ['MEMORY', 'USAGE', 'r3:nosuch'], ['INFO', 'keyspace'], ['INFO', 'nosuch'], ['CLIENT', 'LIST', 'TYPE', 'pubsub'],
      ];
      for (const c of cmds) {
        const [a, b] = await Promise.all([k.call(...c), r.call(...c)]);
        expect({ c, reply: a }).toEqual({ c, reply: b });
      }
    } finally {
      k.close();
      r.close();
    }
  });
});
