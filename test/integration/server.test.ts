// INFO, CONFIG, TIME, DEBUG, MEMORY, OBJECT, SHUTDOWN and COMMAND against a
// real kvslab process, through ioredis, raw frames and redis-cli.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startKvslab, redisCli, RunningServer } from '../helpers/servers.js';
import { RawClient, show } from '../helpers/raw-client.js';
import { parseInfo } from '../helpers/info.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });


function headers(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
}

/** Sends raw RESP and collects bytes until `done` accepts them. */
function rawExchange(port: number, payload: string, done: (s: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(payload));
    let buf = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`timeout, got ${JSON.stringify(buf)}`)); }, 5000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (done(buf)) {
        clearTimeout(t);
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
  });
}

const frame = (...argv: string[]) => `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

describe('INFO', () => {
  it('has the default sections in Redis order, and everything with ALL', async () => {
    const r = srv.client();
    const def = await r.info();
    expect(headers(def)).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace']);
    const all = await r.info('all');
    expect(headers(all)).toEqual(['Server', 'Clients', 'Memory', 'Slabs', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Commandstats', 'Errorstats', 'Latencystats', 'Cluster', 'Keyspace']);
    expect(headers(await r.call('INFO', 'everything') as string)).toEqual(headers(all));
    expect(headers(await r.call('INFO', 'default') as string)).toEqual(headers(def));
    // Several sections, in any order and case, come out in the fixed order; unknown ones are ignored.
    expect(headers(await r.call('INFO', 'KEYSPACE', 'nosuch', 'server') as string)).toEqual(['Server', 'Keyspace']);
    expect(await r.call('INFO', 'nosuch')).toBe('');
    const fields = parseInfo(def);
    expect(fields.get('redis_version')).toBe('7.0.15');
    expect(fields.get('tcp_port')).toBe(String(srv.port));
    expect(fields.get('role')).toBe('master');
    expect(fields.get('loading')).toBe('0');
    expect(Number(fields.get('connected_clients'))).toBeGreaterThanOrEqual(1);
    expect(Number(fields.get('process_id'))).toBe(srv.proc.pid);
  });

  it('counts hits, misses, commands and connections, and lists keys per db', async () => {
    const r = srv.client();
    await r.call('SELECT', '3');
    await r.set('info:a', '1');
    await r.set('info:b', '2');
    const before = parseInfo(await r.info('stats'));
    await r.get('info:a');
    await r.get('info:nosuch');
    await r.get('info:nosuch2');
    const after = parseInfo(await r.info('stats'));
    expect(Number(after.get('keyspace_hits')) - Number(before.get('keyspace_hits'))).toBe(1);
    expect(Number(after.get('keyspace_misses')) - Number(before.get('keyspace_misses'))).toBe(2);
    // Three GETs and the INFO that produced `before`.
    expect(Number(after.get('total_commands_processed')) - Number(before.get('total_commands_processed'))).toBe(4);
    expect(Number(after.get('total_connections_received'))).toBeGreaterThanOrEqual(1);
    for (const f of ['expired_keys', 'evicted_keys', 'rejected_connections', 'total_net_input_bytes', 'instantaneous_ops_per_sec', 'total_error_replies']) {
      expect(after.get(f), f).toMatch(/^\d+$/);
    }
    const ks = await r.info('keyspace');
    expect(ks).toContain('db3:keys=2,expires=0,avg_ttl=0\r\n');
    const mem = parseInfo(await r.info('memory'));
    expect(Number(mem.get('used_memory'))).toBeGreaterThan(0);
    expect(mem.get('maxmemory_policy')).toBe('noeviction');
    expect(mem.get('used_memory_human')).toMatch(/^\d+(\.\d\d[KMG])?B?$/);
  });

  it('is a verbatim string in RESP3', async () => {
    const out = await rawExchange(srv.port, frame('HELLO', '3') + frame('INFO', 'server'), (s) => /=\d+\r\ntxt:# Server[\s\S]*\r\n$/.test(s));
    const m = /=(\d+)\r\ntxt:(# Server[\s\S]*)\r\n$/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(Buffer.byteLength(`txt:${m![2]}`));
  });

  it('satisfies the ready check of ioredis with default options', async () => {
    const r = new Redis(srv.port, '127.0.0.1');
    try {
      await new Promise<void>((res, rej) => { r.once('ready', res); r.once('error', rej); });
      expect(r.status).toBe('ready');
      expect(await r.set('ready:k', 'v')).toBe('OK');
      expect(await r.get('ready:k')).toBe('v');
      // The ready check is an INFO the server answered (counted before this INFO itself).
      expect(await r.info('commandstats')).toMatch(/cmdstat_info:calls=[1-9]/);
    } finally {
      r.disconnect();
    }
  });
});

describe('CONFIG', () => {
  it('gets several patterns and sets several pairs at once', async () => {
    const r = srv.client();
    expect(await r.call('CONFIG', 'SET', 'maxmemory-samples', '7', 'lfu-log-factor', '12')).toBe('OK');
    const got = await r.call('CONFIG', 'GET', 'maxmemory-sam*', 'lfu-log-*', 'nosuch') as string[];
    const m = new Map<string, string>();
    for (let i = 0; i < got.length; i += 2) m.set(got[i], got[i + 1]);
    expect(m).toEqual(new Map([['maxmemory-samples', '7'], ['lfu-log-factor', '12']]));
    // One bad value and nothing changes.
    await expect(r.call('CONFIG', 'SET', 'maxmemory-samples', '9', 'lfu-log-factor', 'x')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'lfu-log-factor') - argument couldn't be parsed into an integer",
    );
    expect(await r.call('CONFIG', 'GET', 'maxmemory-samples')).toEqual(['maxmemory-samples', '7']);
    await r.call('CONFIG', 'SET', 'maxmemory-samples', '5', 'lfu-log-factor', '10');
  });

  it('accepts memory units and shows bytes', async () => {
    const r = srv.client();
    for (const [v, bytes] of [['100mb', '104857600'], ['1gb', '1073741824'], ['1k', '1000'], ['1kb', '1024'], ['2M', '2000000'], ['0', '0']]) {
      await r.call('CONFIG', 'SET', 'maxmemory', v);
      expect(await r.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', bytes]);
    }
  });

  it('changes loglevel and hz at run time', async () => {
    const r = srv.client();
    await r.call('CONFIG', 'SET', 'hz', '1000');
    expect(await r.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '500']);
    expect(parseInfo(await r.info('server')).get('hz')).toBe('500');
    await r.call('CONFIG', 'SET', 'hz', '10', 'loglevel', 'WARNING');
    expect(await r.call('CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', 'warning']);
    await r.call('CONFIG', 'SET', 'loglevel', 'notice');
  });

  it('RESETSTAT zeroes the counters; REWRITE needs a config file; HELP lists subcommands', async () => {
    const r = srv.client();
    await r.get('nosuch');
    expect(await r.call('CONFIG', 'RESETSTAT')).toBe('OK');
    const st = parseInfo(await r.info('stats'));
    expect(st.get('keyspace_misses')).toBe('0');
    expect(st.get('total_connections_received')).toBe('0');
    expect(Number(st.get('total_commands_processed'))).toBeLessThanOrEqual(1);
    await expect(r.call('CONFIG', 'REWRITE')).rejects.toThrow('ERR The server is running without a config file');
    const help = await r.call('CONFIG', 'HELP') as string[];
    expect(help[0]).toMatch(/^CONFIG <subcommand>/);
    expect(help.join('\n')).toMatch(/GET <pattern>[\s\S]*SET <directive> <value>[\s\S]*RESETSTAT[\s\S]*REWRITE/);
  });

  it('is a map in RESP3', async () => {
    const out = await rawExchange(srv.port, frame('HELLO', '3') + frame('CONFIG', 'GET', 'maxmemory-policy'), (s) => s.endsWith('noeviction\r\n'));
    expect(out.endsWith('%1\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n')).toBe(true);
  });
});

describe('TIME, DEBUG', () => {
  it('TIME returns seconds and microseconds close to the clock', async () => {
    const r = srv.client();
    const [s, us] = await r.time();
    expect(Math.abs(Number(s) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(us)).toBeGreaterThanOrEqual(0);
    expect(Number(us)).toBeLessThan(1e6);
  });

  it('DEBUG SLEEP blocks every client', async () => {
    const a = await RawClient.connect(srv.port);
    const b = await RawClient.connect(srv.port);
    const t0 = Date.now();
    const sleeping = a.call('DEBUG', 'SLEEP', '0.4');
    await new Promise((r) => setTimeout(r, 50));
    expect(show(await b.call('PING'))).toEqual('PONG');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(show(await sleeping)).toEqual('OK');
    a.close();
    b.close();
  });

  it('DEBUG SET-ACTIVE-EXPIRE, OBJECT and errors', async () => {
    const r = srv.client();
    expect(await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).toBe('OK');
    expect(await r.call('DEBUG', 'set-active-expire', '1')).toBe('OK');
    await r.set('dbg', 'hello');
    expect(await r.call('DEBUG', 'OBJECT', 'dbg')).toMatch(/^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/);
    await expect(r.call('DEBUG', 'OBJECT', 'nosuch')).rejects.toThrow('ERR no such key');
    await expect(r.call('DEBUG', 'NOPE')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP.");
    await expect(r.call('DEBUG', 'SLEEP')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.");
  });
});

describe('OBJECT, MEMORY', () => {
  it('OBJECT ENCODING follows the int / embstr / raw rules', async () => {
    const r = srv.client();
    const cases: [string, string][] = [
      ['123', 'int'], ['-5', 'int'], ['0', 'int'], ['01', 'embstr'], ['+1', 'embstr'], [' 1', 'embstr'],
      ['9223372036854775807', 'int'], ['9223372036854775808', 'embstr'],
      ['x'.repeat(44), 'embstr'], ['x'.repeat(45), 'raw'], ['hello', 'embstr'],
    ];
    for (const [v, enc] of cases) {
      await r.set('enc', v);
      expect(await r.call('OBJECT', 'ENCODING', 'enc'), v).toBe(enc);
    }
    expect(await r.call('OBJECT', 'ENCODING', 'nosuch')).toBeNull();
  });

  it('OBJECT REFCOUNT, IDLETIME, FREQ', async () => {
    const r = srv.client();
    await r.set('rc', '42');
    expect(await r.call('OBJECT', 'REFCOUNT', 'rc')).toBe(2147483647);
    await r.set('rc', '10000');
    expect(await r.call('OBJECT', 'REFCOUNT', 'rc')).toBe(1);
    expect(await r.call('OBJECT', 'IDLETIME', 'rc')).toBeLessThanOrEqual(1);
    await expect(r.call('OBJECT', 'FREQ', 'rc')).rejects.toThrow('ERR An LFU maxmemory policy is not selected');
    await r.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
    try {
      expect(typeof await r.call('OBJECT', 'FREQ', 'rc')).toBe('number');
      await expect(r.call('OBJECT', 'IDLETIME', 'rc')).rejects.toThrow('ERR An LFU maxmemory policy is selected, idle time not tracked');
    } finally {
      await r.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    const help = await r.call('OBJECT', 'HELP') as string[];
    expect(help.join('\n')).toMatch(/ENCODING <key>[\s\S]*FREQ <key>[\s\S]*IDLETIME <key>[\s\S]*REFCOUNT <key>/);
  });

  it('MEMORY USAGE estimates a key, STATS / DOCTOR / HELP answer', async () => {
    const r = srv.client();
    await r.set('mu', 'v'.repeat(1000));
    const n = await r.call('MEMORY', 'USAGE', 'mu') as number;
    expect(n).toBeGreaterThanOrEqual(1002);
    expect(await r.call('MEMORY', 'USAGE', 'mu', 'SAMPLES', '0')).toBe(n);
    expect(await r.call('MEMORY', 'USAGE', 'nosuch')).toBeNull();
    await expect(r.call('MEMORY', 'USAGE', 'mu', 'SAMPLES', '-1')).rejects.toThrow('ERR syntax error');
    await expect(r.call('MEMORY', 'USAGE', 'mu', 'SAMPLES', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('MEMORY', 'USAGE', 'mu', 'FOO')).rejects.toThrow('ERR syntax error');
    const stats = await r.call('MEMORY', 'STATS') as unknown[];
    const names = stats.filter((_, i) => i % 2 === 0);
    expect(names).toContain('keys.count');
    expect(names).toContain('dataset.bytes');
    expect(typeof await r.call('MEMORY', 'DOCTOR')).toBe('string');
    expect(await r.call('MEMORY', 'PURGE')).toBe('OK');
    expect((await r.call('MEMORY', 'HELP') as string[])[0]).toMatch(/^MEMORY <subcommand>/);
  });
});

describe('COMMAND', () => {
  it('COMMAND INFO gives 10-field entries from the table, null for unknown names', async () => {
    const r = srv.client();
    const [get, cfg, none] = await r.call('COMMAND', 'INFO', 'get', 'config|get', 'nosuch') as unknown[][];
    expect(get.slice(0, 7)).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']]);
    expect(get[8]).toEqual([['flags', ['RO', 'access'], 'begin_search', ['type', 'index', 'spec', ['index', 1]], 'find_keys', ['type', 'range', 'spec', ['lastkey', 0, 'keystep', 1, 'limit', 0]]]]);
    expect(cfg.slice(0, 7)).toEqual(['config|get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, ['@admin', '@slow', '@dangerous']]);
    expect(none).toBeNull();
    const all = await r.call('COMMAND') as unknown[][];
    expect(all.length).toBe(await r.call('COMMAND', 'COUNT'));
    const config = all.find((e) => e[0] === 'config') as unknown[];
    expect((config[9] as unknown[][]).map((s) => s[0]).sort()).toEqual(['config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']);
    expect(all.every((e) => e.length === 10)).toBe(true);
  });

  it('COMMAND DOCS derives arguments from the syntax', async () => {
    const r = srv.client();
    const [name, docs] = await r.call('COMMAND', 'DOCS', 'client|kill') as [string, unknown[]];
    expect(name).toBe('client|kill');
    const d = new Map<string, unknown>();
    for (let i = 0; i < docs.length; i += 2) d.set(docs[i] as string, docs[i + 1]);
    expect(d.get('group')).toBe('connection');
    expect(d.get('since')).toBe('2.4.0');
    const text = JSON.stringify(d.get('arguments'));
    expect(text).toContain('"type","oneof"');
    expect(text).toContain('["name","client-id","type","integer","token","ID","flags",["optional"]]');
    const set = await r.call('COMMAND', 'DOCS', 'set') as unknown[];
    expect(JSON.stringify(set)).toContain('["name","key","type","key","key_spec_index",0]');
    expect(await r.call('COMMAND', 'DOCS', 'nosuch')).toEqual([]);
  });

  it('COMMAND LIST filters by pattern, ACL category and module', async () => {
    const r = srv.client();
    expect((await r.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'CONF*') as string[]).sort()).toEqual(
      ['config', 'config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set'],
    );
    const conn = await r.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'connection') as string[];
    expect(conn).toContain('client|id');
    expect(conn).toContain('command');
    expect(conn).not.toContain('client');
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x')).toEqual([]);
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch')).toEqual([]);
    await expect(r.call('COMMAND', 'LIST', 'FILTERBY', 'FOO', 'x')).rejects.toThrow('ERR syntax error');
    const all = await r.call('COMMAND', 'LIST') as string[];
    expect(all).toContain('object|encoding');
  });

  it('COMMAND GETKEYS and GETKEYSANDFLAGS', async () => {
    const r = srv.client();
    expect(await r.call('COMMAND', 'GETKEYS', 'SET', 'k1', 'v')).toEqual(['k1']);
    expect(await r.call('COMMAND', 'GETKEYS', 'memory', 'usage', 'k2')).toEqual(['k2']);
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'get', 'k3')).toEqual([['k3', ['RO', 'access']]]);
    await expect(r.call('COMMAND', 'GETKEYS', 'nosuch', 'x')).rejects.toThrow('ERR Invalid command specified');
    await expect(r.call('COMMAND', 'GETKEYS', 'echo', 'x')).rejects.toThrow('ERR The command has no key arguments');
    await expect(r.call('COMMAND', 'GETKEYS', 'get', 'a', 'b')).rejects.toThrow('ERR Invalid number of arguments specified for command');
  });
});

describe('redis-cli', () => {
  it('reads INFO, CONFIG and COMMAND output', () => {
    expect(redisCli(srv.port, ['info', 'server'])).toContain('redis_version:7.0.15');
    expect(redisCli(srv.port, ['config', 'get', 'databases'])).toBe('databases\n16\n');
    expect(redisCli(srv.port, ['command', 'getkeys', 'set', 'cli-key', 'v'])).toBe('cli-key\n');
    expect(redisCli(srv.port, ['object', 'encoding', 'nosuch'])).toBe('\n');
    // Interactive mode fetches COMMAND DOCS for its hints; it must not choke on them.
    const out = redisCli(srv.port, [], 'SET clik 5\nOBJECT ENCODING clik\n');
    expect(out).toContain('int');
  });
});

describe('SHUTDOWN', () => {
  it('rejects bad options, refuses in MULTI, and otherwise stops the server', async () => {
    const s = await startKvslab();
    try {
      const c = await RawClient.connect(s.port);
      expect(await c.call('SHUTDOWN', 'ABORT')).toEqual({ error: 'ERR No shutdown in progress.' });
      expect(await c.call('SHUTDOWN', 'NOSAVE', 'SAVE')).toEqual({ error: 'ERR syntax error' });
      expect(await c.call('SHUTDOWN', 'FOO')).toEqual({ error: 'ERR syntax error' });
      expect(show(await c.call('MULTI'))).toEqual('OK');
      expect(await c.call('SHUTDOWN')).toEqual({ error: 'ERR Command not allowed inside a transaction' });
      await c.call('DISCARD');
      const exited = new Promise<number | null>((res) => s.proc.once('exit', (code) => res(code)));
      void c.call('SHUTDOWN', 'NOSAVE', 'NOW');
      expect(await c.waitClose(5000)).toBe(true);
      expect(await exited).toBe(0);
      expect(s.output()).toContain('User requested shutdown...');
    } finally {
      await s.stop();
    }
  });
});
