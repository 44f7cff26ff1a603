// The dump across restarts of a real kvslab: SAVE, SHUTDOWN [SAVE|NOSAVE],
// SIGTERM with and without save rules, keys and TTLs and tensors back after a
// restart, access data (OBJECT IDLETIME/FREQ) kept, a failed save keeping the
// server up, a broken dump refused with the offset named (never half
// loaded), a dump bigger than maxmemory, and DEBUG RELOAD with its options.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, logged, startKvslabOn, type RunningServer } from '../helpers/servers.js';
import type { Redis } from 'ioredis';
import { info, parseInfo } from '../helpers/info.js';
import { RawClient, show } from '../helpers/raw-client.js';
import { MemorySink, RdbWriter } from '../../src/persistence/rdb-writer.js';

let running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'kvslab-persist-'));
}

async function start(port: number, args: string[]): Promise<RunningServer> {
  const s = await startKvslabOn(port, args);
  running.push(s);
  return s;
}

/** Starts kvslab expecting it to refuse: its output (the exit is the test's point). */
async function refused(args: string[]): Promise<string> {
  try {
    await start(await freePort(), args);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('kvslab started');
}

function exited(s: RunningServer): Promise<number | null> {
  if (s.proc.exitCode !== null) return Promise.resolve(s.proc.exitCode);
  return new Promise((r) => s.proc.once('exit', (code) => r(code)));
}

async function kvInfo(c: Redis, key: string): Promise<Map<string, unknown>> {
  const flat = await c.call('KV.INFO', key) as unknown[];
  const m = new Map<string, unknown>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i] as string, flat[i + 1]);
  return m;
}

function tensorShape(): string[] {
  return ['DTYPE', 'float32', 'LAYERS', '4', 'HEADS', '2', 'HEADDIM', '8', 'KV', '2'];
}

function tensorData(tokens: number, seed: number): Buffer {
  const b = Buffer.alloc(2 * 4 * tokens * 2 * 8 * 4);
  for (let i = 0; i < b.length; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

describe('a restart keeps the dataset', () => {
  it('strings, TTLs (still counting down), databases and tensors come back after SHUTDOWN SAVE', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir]);
    const c = a.client();
    await c.set('s', 'value');
    await c.set('n', '12345');
    await c.set('ttl', 'x', 'PX', 60_000);
    await c.select(5);
    await c.set('five', '5');
    await c.select(0);
    await c.call('KV.CREATE', 'kv', ...tensorShape());
    const data = tensorData(33, 1);
    await c.call('KV.APPEND', 'kv', data);
    // A layer ahead of the others survives too.
    const extra = Buffer.alloc(2 * 3 * 2 * 8 * 4, 9);
    await c.call('KV.APPEND', 'kv', extra, 'LAYER', '1');
    const before = await kvInfo(c, 'kv');
    await c.call('SHUTDOWN', 'SAVE').catch(() => {});
    expect(await exited(a)).toBe(0);
    expect(a.output()).toContain('DB saved on disk');

    const b = await start(port, ['--dir', dir]);
    const d = b.client();
    expect(await d.get('s')).toBe('value');
    expect(await d.object('ENCODING', 'n')).toBe('int');
    const pttl = await d.pttl('ttl');
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    await d.select(5);
    expect(await d.get('five')).toBe('5');
    await d.select(0);
    expect(await d.call('KV.LEN', 'kv')).toBe(33);
    expect(await d.callBuffer('KV.SLICE', 'kv', '0', '33')).toEqual(data);
    expect(await d.callBuffer('KV.SLICE', 'kv', '0', '100', 'LAYER', '1')).toEqual(
      Buffer.concat([0, 1].map((k) => Buffer.concat([data.subarray((k * 4 + 1) * 33 * 64, (k * 4 + 2) * 33 * 64), extra.subarray(k * 3 * 64, (k + 1) * 3 * 64)]))),
    );
    // All but the capacity, which the dump cuts to the longest layer.
    const after = await kvInfo(d, 'kv');
    expect(after.get('capacity')).toBe(36);
    before.delete('capacity');
    after.delete('capacity');
    expect(after).toEqual(before);
    // And the tensor keeps growing where it stopped.
    expect(await d.call('KV.APPEND', 'kv', tensorData(1, 2), 'LAYER', '0')).toBe(33);
    expect(b.output()).toMatch(/DB loaded from disk/);
    expect((await info(d, 'persistence')).get('rdb_last_load_keys_loaded')).toBe('5');
  });

  it('SIGTERM saves when save rules are set, and not without them; SHUTDOWN NOSAVE never', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir, '--save', '3600 1']);
    await a.client().set('k', 'v');
    a.proc.kill('SIGTERM');
    expect(await exited(a)).toBe(0);
    expect(a.output()).toContain('Saving the final RDB snapshot before exiting.');
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);

    const b = await start(port, ['--dir', dir]);
    expect(await b.client().get('k')).toBe('v');
    await b.client().set('k', 'changed');
    b.proc.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    expect(b.output()).not.toContain('Saving the final RDB snapshot');

    const c = await start(port, ['--dir', dir, '--save', '3600 1']);
    expect(await c.client().get('k')).toBe('v');
    await c.client().set('k', 'nosave');
    await c.client().call('SHUTDOWN', 'NOSAVE').catch(() => {});
    expect(await exited(c)).toBe(0);
    const d = await start(port, ['--dir', dir]);
    expect(await d.client().get('k')).toBe('v');
  });

  it('the longest key kvslab holds (512 KiB less its header), a 64 MiB value, binary keys and empty values come back byte for byte', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir]);
    const c = a.client();
    const bigKey = Buffer.alloc(524_244);
    for (let i = 0; i < bigKey.length; i++) bigKey[i] = (i * 7) & 0xff;
    const bigValue = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < bigValue.length; i += 4096) bigValue.writeUInt32LE(i, i);
    const binKey = Buffer.from([0, 1, 0xff, 13, 10]);
    await c.set(bigKey, 'v');
    await c.set('big', bigValue);
    await c.set(binKey, '');
    await c.set('', 'empty key');
    await c.save();
    await a.stop();
    const b = await start(port, ['--dir', dir]);
    const d = b.client();
    expect(await d.get(bigKey)).toBe('v');
    expect((await d.getBuffer('big'))!.equals(bigValue)).toBe(true);
    expect(await d.get(binKey)).toBe('');
    expect(await d.get('')).toBe('empty key');
    expect(await d.dbsize()).toBe(4);
  });

  it('FLUSHALL with save rules saves the empty dataset at once (a crash after it does not bring the keys back)', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir, '--save', '3600 1']);
    await a.client().set('k', 'v');
    await a.client().save();
    await a.client().flushall();
    a.proc.kill('SIGKILL');
    await exited(a);
    const b = await start(port, ['--dir', dir]);
    expect(await b.client().dbsize()).toBe(0);
  });

  it('OBJECT IDLETIME comes back under an LRU policy, OBJECT FREQ under an LFU one', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir, '--maxmemory-policy', 'allkeys-lfu']);
    const c = a.client();
    await c.set('hot', 'v');
    for (let i = 0; i < 300; i++) await c.get('hot');
    await c.set('cold', 'v');
    const freq = await c.object('FREQ', 'hot') as number;
    expect(freq).toBeGreaterThan(5);
    await c.save();
    await a.stop();
    const b = await start(port, ['--dir', dir, '--maxmemory-policy', 'allkeys-lfu']);
    expect(await b.client().object('FREQ', 'hot')).toBe(freq);
    expect(await b.client().object('FREQ', 'cold')).toBeLessThan(freq);
    await b.client().config('SET', 'maxmemory-policy', 'allkeys-lru');
    await b.client().call('DEBUG', 'SLEEP', '0');
    await b.client().save();
    await b.stop();
    // IDLE records: the idle time goes on from what was saved.
    const lru = await start(port, ['--dir', dir, '--maxmemory-policy', 'allkeys-lru']);
    expect(await lru.client().object('IDLETIME', 'cold')).toBeGreaterThanOrEqual(0);
  });

  it('LASTSAVE moves on a save; INFO persistence counts changes since it', async () => {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    await c.set('a', '1');
    await c.set('b', '2');
    let p = await info(c, 'persistence');
    expect(p.get('rdb_changes_since_last_save')).toBe('2');
    expect(p.get('rdb_last_bgsave_status')).toBe('ok');
    const before = await c.lastsave();
    await new Promise((r) => setTimeout(r, 1100));
    await c.save();
    expect(await c.lastsave()).toBeGreaterThan(before);
    p = await info(c, 'persistence');
    expect(p.get('rdb_changes_since_last_save')).toBe('0');
    expect(p.get('rdb_saves')).toBe('1');
  });
});

describe('a save that fails', () => {
  it('SAVE answers -ERR, SHUTDOWN refuses and the server runs on; SHUTDOWN NOSAVE and FORCE stop it', async () => {
    const dir = scratch();
    const port = await freePort();
    const a = await start(port, ['--dir', dir]);
    const c = a.client();
    await c.set('k', 'v');
    // The directory goes away under the server: nowhere to write the temporary file.
    rmSync(dir, { recursive: true });
    await expect(c.save()).rejects.toThrow(/^ERR$/);
    expect(await logged(a, 'Failed saving the DB')).toContain('Failed saving the DB');
    // As Redis: SAVE's failure is its reply; the status is the background save's.
    expect((await info(c, 'persistence')).get('rdb_last_bgsave_status')).toBe('ok');
    await expect(c.call('SHUTDOWN', 'SAVE')).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
    expect(await c.get('k')).toBe('v');
    a.proc.kill('SIGTERM');
    // No save rules: SIGTERM does not save, so it stops.
    expect(await exited(a)).toBe(0);

    const dir2 = scratch();
    const b = await start(port, ['--dir', dir2, '--save', '3600 1']);
    const d = b.client();
    await d.set('k', 'v');
    rmSync(dir2, { recursive: true });
    b.proc.kill('SIGTERM');
    // As Redis: the final save failed, so the server stays up.
    const refusal = 'SIGTERM received but errors trying to shut down the server, check the logs for more information';
    expect(await logged(b, refusal)).toContain(refusal);
    expect(b.proc.exitCode).toBeNull();
    expect(await d.get('k')).toBe('v');
    await d.call('SHUTDOWN', 'FORCE').catch(() => {});
    expect(await exited(b)).toBe(0);
  });

  it('the old dump stays whole when a save fails, and no temporary file is left', async () => {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir, '--enable-protected-configs', 'yes']);
    const c = a.client();
    await c.set('k', 'v1');
    await c.save();
    const first = readFileSync(join(dir, 'dump.rdb'));
    // The dump's name is taken by a directory that is not empty: the rename at the end fails.
    mkdirSync(join(dir, 'sub', 'x'), { recursive: true });
    await c.config('SET', 'dbfilename', 'sub');
    await c.set('k', 'v2');
    await expect(c.save()).rejects.toThrow(/^ERR$/);
    expect(readdirSync(dir).sort()).toEqual(['dump.rdb', 'sub']);
    expect(readFileSync(join(dir, 'dump.rdb'))).toEqual(first);
  });
});

describe('CONFIG SET dir and dbfilename', () => {
  it('moves where the dump goes; a directory that does not exist is refused', async () => {
    const dir = scratch();
    const other = scratch();
    const a = await start(await freePort(), ['--dir', dir, '--enable-protected-configs', 'yes']);
    const c = a.client();
    await c.set('k', 'v');
    expect(await c.config('SET', 'dir', other)).toBe('OK');
    expect(await c.config('GET', 'dir')).toEqual(['dir', other]);
    await c.config('SET', 'dbfilename', 'other.rdb');
    await c.save();
    expect(statSync(join(other, 'other.rdb')).size).toBeGreaterThan(0);
    await expect(c.config('SET', 'dir', join(other, 'nope'))).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory",
    );
    expect(await c.config('GET', 'dir')).toEqual(['dir', other]);
    await expect(c.config('SET', 'dbfilename', 'a/b.rdb')).rejects.toThrow("dbfilename can't be a path, just a filename");
  });
});

describe('a broken dump is refused, never half loaded', () => {
  async function goodDump(): Promise<{ dir: string; bytes: Buffer }> {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    for (let i = 0; i < 50; i++) await c.set(`key:${i}`, `value:${i}`.repeat(i + 1));
    await c.save();
    await a.stop();
    return { dir, bytes: readFileSync(join(dir, 'dump.rdb')) };
  }

  it('truncated: the offset where it ends is named', async () => {
    const { dir, bytes } = await goodDump();
    writeFileSync(join(dir, 'dump.rdb'), bytes.subarray(0, 500));
    const out = await refused(['--dir', dir]);
    expect(out).toMatch(/Short read/);
    expect(out).toMatch(/ends at offset 500\b/);
  });

  it('a flipped byte: the checksum is wrong', async () => {
    const { dir, bytes } = await goodDump();
    // Inside a raw value: nothing but the checksum can tell.
    bytes[bytes.indexOf('value:0') + 3] ^= 0x01;
    writeFileSync(join(dir, 'dump.rdb'), bytes);
    const out = await refused(['--dir', dir]);
    expect(out).toMatch(/checksum/i);
    expect(out).toMatch(/offset \d+/);
  });

  it('not an RDB file at all, and a newer RDB version', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'dump.rdb'), 'hello, this is not a dump');
    expect(await refused(['--dir', dir])).toMatch(/Wrong signature trying to load DB from file/);
    writeFileSync(join(dir, 'dump.rdb'), Buffer.concat([Buffer.from('REDIS0099'), Buffer.from([0xff]), Buffer.alloc(8)]));
    expect(await refused(['--dir', dir])).toMatch(/Can't handle RDB format version 99/);
  });

  it('a dump of more than 64 MiB has its CRC worked out by a second thread and its big blocks faulted in ahead by another: a good one loads, a flipped byte is refused at the trailer', async () => {
    const dir = scratch();
    const sink = new MemorySink();
    const w = new RdbWriter(sink, { compression: false, checksum: true });
    w.header();
    w.selectDb(0);
    // Two sizes, so the block pool prepares one size, then the other.
    const sizeOf = (i: number): number => (i < 50 ? 1024 * 1024 : 1536 * 1024);
    for (let i = 0; i < 80; i++) {
      w.keyHeader(0, Buffer.from(`big:${i}`));
      w.string(Buffer.alloc(sizeOf(i), i));
    }
    w.end();
    const bytes = sink.take();
    writeFileSync(join(dir, 'dump.rdb'), bytes);
    const a = await start(await freePort(), ['--dir', dir, '--loglevel', 'verbose']);
    expect(await a.client().dbsize()).toBe(80);
    // Every value is its own bytes: no block the pool's thread wrote into after the load did.
    for (let i = 0; i < 80; i++) expect((await a.client().getBuffer(`big:${i}`))!.equals(Buffer.alloc(sizeOf(i), i))).toBe(true);
    // A process that may run on one core only checks the CRC itself, and faults its blocks in as it fills them.
    const threaded = availableParallelism() > 1;
    expect(a.output().includes('CRC-64 is worked out by a second thread')).toBe(threaded);
    const pool = /faulted in ahead by a thread: (\d+), by the loader while the thread was busy: (\d+), waited for: (\d+)/.exec(a.output());
    expect(pool !== null).toBe(threaded);
    // The first block of each size is a plain allocation; the other 78 come from the pool.
    if (pool !== null) expect(Number(pool[1]) + Number(pool[2]) + Number(pool[3])).toBe(78);
    await a.stop();
    // A byte deep inside a value: only the checksum can tell.
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(join(dir, 'dump.rdb'), bytes);
    const out = await refused(['--dir', dir, '--loglevel', 'verbose']);
    expect(out.includes('CRC-64 is worked out by a second thread')).toBe(threaded);
    expect(out).toMatch(new RegExp(`Wrong RDB checksum.* at offset ${bytes.length - 8}`));
  }, 60_000);

  it('with rdbchecksum no a broken value is still caught by its structure, not loaded', async () => {
    const { dir, bytes } = await goodDump();
    // A string length far past the end of the file.
    const at = bytes.indexOf(Buffer.from('key:10'));
    bytes[at - 1] = 0x80;
    writeFileSync(join(dir, 'dump.rdb'), bytes);
    const out = await refused(['--dir', dir, '--rdbchecksum', 'no']);
    expect(out).toMatch(/offset \d+/);
  });
});

describe('a dump bigger than maxmemory', () => {
  async function bigDump(): Promise<string> {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    const value = 'x'.repeat(1000);
    const p = c.pipeline();
    for (let i = 0; i < 20_000; i++) p.set(`k:${i}`, value);
    await p.exec();
    await c.save();
    await a.stop();
    return dir;
  }

  it('loads what fits, evicting by the policy, and says how many it evicted', async () => {
    const dir = await bigDump();
    const a = await start(await freePort(), ['--dir', dir, '--maxmemory', '8mb', '--maxmemory-policy', 'allkeys-lru']);
    const c = a.client();
    const n = await c.dbsize();
    expect(n).toBeGreaterThan(1000);
    expect(n).toBeLessThan(20_000);
    expect(a.output()).toMatch(new RegExp(`${20_000 - n} keys? evicted to fit maxmemory`));
  });

  it('under noeviction it does not start, naming the sizes', async () => {
    const dir = await bigDump();
    const out = await refused(['--dir', dir, '--maxmemory', '8mb']);
    expect(out).toMatch(/maxmemory/);
    expect(out).toMatch(/noeviction/);
  });
});

describe('DEBUG RELOAD', () => {
  const digest = (c: Redis) => c.call('DEBUG', 'DIGEST') as Promise<string>;

  it('saves, flushes and loads: strings with TTLs and tensors come back with the same DEBUG DIGEST', async () => {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    await c.set('s', 'value');
    await c.set('n', '12345');
    await c.set('ttl', 'x', 'PX', 60_000);
    await c.set('', '');
    await c.select(5);
    await c.set('five', '5', 'EX', 1000);
    await c.select(0);
    // A tensor at a capacity past its length (which the dump cuts), with a layer ahead of the others.
    await c.call('KV.CREATE', 'kv', ...tensorShape());
    const data = tensorData(33, 1);
    await c.call('KV.APPEND', 'kv', data);
    await c.call('KV.APPEND', 'kv', Buffer.alloc(2 * 3 * 2 * 8 * 4, 9), 'LAYER', '1');
    await c.call('KV.PUT', 'kv:ttl', tensorData(2, 3), ...tensorShape(), 'PX', '60000');
    const before = await digest(c);
    const values = await c.call('DEBUG', 'DIGEST-VALUE', 's', 'n', 'ttl', '', 'kv', 'kv:ttl');
    const info1 = await kvInfo(c, 'kv');
    expect(info1.get('capacity')).not.toBe(36);

    expect(await c.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await digest(c)).toBe(before);
    expect(await c.call('DEBUG', 'DIGEST-VALUE', 's', 'n', 'ttl', '', 'kv', 'kv:ttl')).toEqual(values);
    expect(await c.get('s')).toBe('value');
    expect(await c.object('ENCODING', 'n')).toBe('int');
    for (const k of ['ttl', 'kv:ttl']) {
      const pttl = await c.pttl(k);
      expect(pttl, k).toBeGreaterThan(50_000);
      expect(pttl, k).toBeLessThanOrEqual(60_000);
    }
    await c.select(5);
    expect(await c.get('five')).toBe('5');
    expect(await c.ttl('five')).toBeGreaterThan(990);
    await c.select(0);
    expect(await c.callBuffer('KV.SLICE', 'kv', '0', '33')).toEqual(data);
    const info2 = await kvInfo(c, 'kv');
    // Cut to the longest layer by the dump: all else is as it was.
    expect(info2.get('capacity')).toBe(36);
    info1.delete('capacity');
    info2.delete('capacity');
    expect(info2).toEqual(info1);
    const p = await info(c, 'persistence');
    expect(p.get('rdb_last_load_keys_loaded')).toBe('7');
    expect(p.get('rdb_changes_since_last_save')).toBe('0');
    expect(await logged(a, 'DB reloaded by DEBUG RELOAD')).toContain('Done loading RDB, keys loaded: 7, keys expired: 0.');
  });

  it('NOSAVE with no dump: the dataset is flushed and the load fails with Redis\'s error', async () => {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    await c.set('k', 'v');
    await c.save();
    rmSync(join(dir, 'dump.rdb'));
    await expect(c.call('DEBUG', 'RELOAD', 'NOSAVE')).rejects.toThrow(/^ERR Error trying to load the RDB dump$/);
    expect(await logged(a, 'DEBUG RELOAD: loading')).toMatch(/DEBUG RELOAD: loading .*dump\.rdb failed: ENOENT/);
    // As Redis: the flush came first.
    expect(await c.dbsize()).toBe(0);
    // And a reload that saves first works again.
    await c.set('k', 'again');
    expect(await c.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await c.get('k')).toBe('again');
  });

  it('NOFLUSH: a key in both is an error without MERGE (the server runs on); with MERGE the dump\'s replaces it', async () => {
    const dir = scratch();
    const a = await start(await freePort(), ['--dir', dir]);
    const c = a.client();
    await c.set('a', 'saved');
    await c.set('b', 'saved', 'EX', 1000);
    await c.save();
    await c.set('a', 'changed');
    await c.persist('b');
    await c.set('c', 'new');

    await expect(c.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH')).rejects.toThrow(/^ERR Error trying to load the RDB dump$/);
    expect(await logged(a, 'RDB has duplicated key')).toMatch(/RDB has duplicated key '(a|b)' in DB 0/);
    expect(await c.ping()).toBe('PONG');

    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE')).toBe('OK');
    expect(await c.mget('a', 'b', 'c')).toEqual(['saved', 'saved', 'new']);
    expect(await c.ttl('b')).toBeGreaterThan(990);
    // Replaced keys count as loaded, as in Redis.
    expect((await info(c, 'persistence')).get('rdb_last_load_keys_loaded')).toBe('2');

    // Without a key in both, NOFLUSH alone adds the dump to the dataset.
    await c.del('a', 'b');
    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH')).toBe('OK');
    expect(await c.mget('a', 'b', 'c')).toEqual(['saved', 'saved', 'new']);
  });
});

describe('while a big dump loads', () => {
  /** A dump of `n` keys "k:<i>" = "value-<i>", written by kvslab's RDB writer (fast: no server to fill). */
  function bigDump(dir: string, n: number): void {
    const sink = new MemorySink();
    const w = new RdbWriter(sink, { compression: false, checksum: true });
    w.header();
    w.aux('redis-ver', '7.0.15');
    w.selectDb(0);
    w.resizeDb(n, 0);
    for (let i = 0; i < n; i++) {
      w.keyHeader(0, Buffer.from(`k:${i}`));
      w.string(Buffer.from(`value-${i}-${'x'.repeat(40)}`));
    }
    w.end();
    writeFileSync(join(dir, 'dump.rdb'), sink.take());
  }

  it('clients connect at once and get -LOADING, INFO shows the load, ioredis waits for the end', async () => {
    const dir = scratch();
    const n = 1_500_000;
    bigDump(dir, n);
    const port = await freePort();
    const starting = start(port, ['--dir', dir]);
    // The listener is up before the load ends: connect as soon as it is.
    let raw: RawClient | null = null;
    for (let i = 0; i < 500 && raw === null; i++) {
      raw = await RawClient.connect(port).catch(() => null);
      if (raw === null) await new Promise((r) => setTimeout(r, 10));
    }
    expect(raw).not.toBeNull();
    const c = raw as RawClient;
    const get = await c.call('GET', 'k:1');
    const ping = await c.call('PING');
    const infoText = await c.call('INFO', 'persistence');
    // ioredis asks INFO until loading:0 before it sends anything (its ready check).
    const late = new (await import('ioredis')).Redis({ port, lazyConnect: false });
    const value = late.get(`k:${n - 1}`);
    await starting;
    expect(show(get)).toEqual({ error: 'LOADING Redis is loading the dataset in memory' });
    expect(show(ping)).toEqual({ error: 'LOADING Redis is loading the dataset in memory' });
    const fields = parseInfo(String(show(infoText)));
    expect(fields.get('loading')).toBe('1');
    expect(Number(fields.get('loading_total_bytes'))).toBeGreaterThan(50_000_000);
    expect(Number(fields.get('loading_loaded_bytes'))).toBeLessThan(Number(fields.get('loading_total_bytes')));
    expect(fields.has('loading_eta_seconds')).toBe(true);
    expect(await value).toBe(`value-${n - 1}-${'x'.repeat(40)}`);
    expect(await c.call('DBSIZE')).toBe(n);
    expect(parseInfo(String(show(await c.call('INFO', 'persistence')))).get('loading')).toBe('0');
    late.disconnect();
    c.close();
  }, 60_000);
});
