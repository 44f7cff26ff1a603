// The RDB format in-process (CRC-64 and LZF have their own files): lengths
// and strings in every encoding through the writer and back through the
// reader (with a window small enough that values straddle it and outgrow
// it), module fields, DUMP payload checks, the reader's errors with their
// offsets, and a fuzz of the loader: every truncation and random byte flips
// of a dump are refused with an RdbError, never loaded and never a crash.
// Files Redis wrote are the differential tests' (test/differential/rdb.test.ts).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/context.js';
import { randomBytes } from '../helpers/random.js';
import { loadRdbFile, LoadError } from '../../src/persistence/rdb-load.js';
import { MemorySink as Sink } from '../../src/persistence/rdb-writer.js';
import { writeRdb } from '../../src/persistence/rdb-save.js';
import { MemorySink, RdbWriter } from '../../src/persistence/rdb-writer.js';
import { BufferSource, RdbError, RdbReader, verifyDumpPayload } from '../../src/persistence/rdb-reader.js';
import { moduleTypeId, moduleTypeName } from '../../src/persistence/module-type.js';
import { RDB_TYPE_HASH, RDB_TYPE_LIST_QUICKLIST_2, RDB_TYPE_ZSET, RDB_TYPE_ZSET_2, rdbTypeName } from '../../src/persistence/rdb-format.js';

/** `n` seeded random bytes. */
const pseudoRandom = (n: number, seed = 1): Buffer => randomBytes(n, seed);

function written(fn: (w: RdbWriter) => void, compression = true): Buffer {
  const sink = new MemorySink();
  const w = new RdbWriter(sink, { compression, checksum: true });
  fn(w);
  w.end();
  return sink.take();
}

function reader(bytes: Buffer, window = 64): RdbReader {
  return new RdbReader(new BufferSource(bytes), window);
}

describe('the writer and the reader', () => {
  it('lengths of every width come back', () => {
    const values = [0, 1, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5];
    const bytes = written((w) => { for (const v of values) w.length(v); });
    const r = reader(bytes, 16);
    for (const v of values) expect(r.length()).toBe(v);
    expect(r.byte()).toBe(0xff);
  });

  it('strings in every encoding come back byte for byte, across the window and larger than it', () => {
    const strings: Buffer[] = [
      '', '0', '7', '-1', '127', '-128', '128', '32767', '-32768', '32768', '2147483647', '-2147483648',
      '2147483648', '007', '-0', '+1', '1.5', 'hello', 'a'.repeat(21), 'abcd'.repeat(1000),
    ].map((s) => Buffer.from(s));
    strings.push(pseudoRandom(500), pseudoRandom(5000, 3), Buffer.alloc(300_000, 1));
    for (const compression of [true, false]) {
      const bytes = written((w) => { for (const s of strings) w.string(s); }, compression);
      for (const window of [64, 1000, 1 << 20]) {
        const r = reader(bytes, window);
        for (const s of strings) expect(r.string().equals(s)).toBe(true);
        expect(r.byte()).toBe(0xff);
        r.trailer(true);
      }
    }
  });

  it('stringSpan, and stringLength then stringInto, give what string() gives, in every encoding, across the window and larger than it', () => {
    const strings: Buffer[] = ['', '0', '-128', '32768', '-2147483648', '007', 'hello', 'a'.repeat(21), 'abcd'.repeat(1000)].map((s) => Buffer.from(s));
    strings.push(pseudoRandom(500), pseudoRandom(5000, 3), Buffer.alloc(300_000, 1), pseudoRandom(70_000, 4));
    for (const compression of [true, false]) {
      const bytes = written((w) => { for (const s of strings) { w.string(s); w.string(s); } }, compression);
      for (const window of [64, 1000, 1 << 20]) {
        const r = reader(bytes, window);
        const span = { buf: Buffer.alloc(0), start: 0, end: 0 };
        for (const s of strings) {
          r.stringSpan(span);
          expect(span.buf.subarray(span.start, span.end).equals(s), `span of ${s.length} bytes, window ${window}`).toBe(true);
          const len = r.stringLength();
          expect(len).toBe(s.length);
          // Written at an offset into a bigger buffer, as into a store's page.
          const dst = Buffer.alloc(len + 10, 0xee);
          r.stringInto(dst, 7);
          expect(dst.subarray(7, 7 + len).equals(s), `into, ${s.length} bytes, window ${window}`).toBe(true);
          expect(dst[6]).toBe(0xee);
          expect(dst[7 + len]).toBe(0xee);
        }
        expect(r.byte()).toBe(0xff);
        r.trailer(true);
      }
    }
  });

  it('a held span stays valid while the window moves and the scratch is reused, and is copied only then', () => {
    const key = Buffer.from('the-key');
    const lzfKey = Buffer.from('k'.repeat(40));
    const big = pseudoRandom(250, 9);
    const bytes = written((w) => {
      w.string(key); w.string(big);
      w.string(lzfKey); w.string(Buffer.from('12345')); w.string(Buffer.from('z'.repeat(500)));
      w.string(key); w.string(Buffer.from('v'));
    });
    const r = reader(bytes, 256);
    const span = { buf: Buffer.alloc(0), start: 0, end: 0 };
    const held = () => span.buf.subarray(span.start, span.end).toString();
    // A raw key in the window, then a value that makes the window move under it.
    r.hold(r.stringSpan(span));
    const inWindow = span.buf;
    expect(r.string().equals(big)).toBe(true);
    expect(span.buf).not.toBe(inWindow);
    expect(held()).toBe('the-key');
    // An LZF key in the scratch, then an integer and an LZF value decoded there.
    r.hold(r.stringSpan(span));
    expect(r.string().toString()).toBe('12345');
    expect(r.string().toString()).toBe('z'.repeat(500));
    expect(held()).toBe(lzfKey.toString());
    // Nothing moves under a short record: the span stays where it was read.
    r.hold(r.stringSpan(span));
    const at = span.buf;
    expect(r.string().toString()).toBe('v');
    expect(span.buf).toBe(at);
    r.hold(null);
    expect(r.byte()).toBe(0xff);
    r.trailer(true);
  });

  it('peekKeys finds the keys of the string records ahead, with their expiry, idle and freq records, consuming nothing', () => {
    // The third key has a 14-bit length (random bytes: not compressed).
    const keys = ['a', 'bb', pseudoRandom(100, 11).toString('latin1'), 'd', 'e'];
    const bytes = written((w) => {
      w.aux('redis-ver', '7.0.15');
      w.keyHeader(0, Buffer.from(keys[0])); w.string(Buffer.from('x'.repeat(100)));
      w.expireAt(1n << 50n); w.idle(7); w.keyHeader(0, Buffer.from(keys[1])); w.string(Buffer.from('42'));
      w.freq(3); w.keyHeader(0, Buffer.from(keys[2], 'latin1')); w.string(pseudoRandom(200));
      w.keyHeader(0, Buffer.from(keys[3])); w.string(Buffer.from('-7000000'));
      // A key LZF-compresses: the look-ahead stops before it.
      w.keyHeader(0, Buffer.from('q'.repeat(50))); w.string(Buffer.from('v'));
      w.keyHeader(0, Buffer.from(keys[4])); w.string(Buffer.from('v'));
    });
    // The window fills as records are read: the AUX record first.
    const afterAux = (window: number) => {
      const r = reader(bytes, window);
      r.byte();
      r.string();
      r.string();
      return r;
    };
    const r = afterAux(1 << 20);
    const batch = { buf: Buffer.alloc(0), starts: new Uint32Array(8), ends: new Uint32Array(8), count: 0 };
    const at = r.offset;
    r.peekKeys(batch);
    expect(r.offset).toBe(at);
    const found = Array.from({ length: batch.count }, (_, i) => batch.buf.toString('latin1', batch.starts[i], batch.ends[i]));
    expect(found).toEqual(keys.slice(0, 4));
    // As many as the batch holds; as many as the window holds (64 bytes: the first two records).
    const two = { buf: Buffer.alloc(0), starts: new Uint32Array(2), ends: new Uint32Array(2), count: 0 };
    expect(r.peekKeys(two).count).toBe(2);
    expect(afterAux(64).peekKeys(batch).count).toBe(2);
  });

  it('writes integers and compressible strings as Redis does: 2, 3, 5 bytes, LZF when it saves 4', () => {
    const size = (s: string) => written((w) => w.string(Buffer.from(s))).length - 9;
    expect(size('12')).toBe(2);
    expect(size('1234')).toBe(3);
    expect(size('123456')).toBe(5);
    expect(size('12345678901')).toBe(12);
    expect(size('x'.repeat(20))).toBe(21);
    expect(size('x'.repeat(100))).toBeLessThan(20);
  });

  it('skips strings without decoding them, and keeps the CRC over what it skipped', () => {
    const strings = [Buffer.from('12'), Buffer.from('q'.repeat(5000)), pseudoRandom(3000)];
    const bytes = written((w) => { for (const s of strings) w.string(s); });
    const r = reader(bytes, 64);
    for (let i = 0; i < strings.length; i++) r.skipString();
    expect(r.byte()).toBe(0xff);
    r.trailer(true);
    expect(r.offset).toBe(bytes.length);
  });

  it('module fields and type ids', () => {
    const id = moduleTypeId('kvslab-kv', 1);
    expect(moduleTypeName(id)).toEqual({ name: 'kvslab-kv', encver: 1 });
    expect(() => moduleTypeId('short', 0)).toThrow();
    expect(() => moduleTypeId('bad.chars', 0)).toThrow();
    const payload = pseudoRandom(2000);
    const bytes = written((w) => {
      w.moduleStart(id);
      w.moduleUint(42);
      w.moduleString(payload);
      w.moduleEnd();
    });
    const r = reader(bytes, 128);
    expect(r.length64()).toBe(id);
    const fields = r.moduleFields();
    expect(fields).toEqual([{ op: 'uint', value: 42n }, { op: 'string', value: payload }]);
  });

  it('a DUMP payload is checked by its version and CRC', () => {
    const sink = new MemorySink();
    const w = new RdbWriter(sink, { compression: true, checksum: true });
    w.byte(0);
    w.string(Buffer.from('value'));
    w.dumpTrailer();
    const p = sink.take();
    expect(verifyDumpPayload(p)).toBe(true);
    for (let i = 0; i < p.length; i++) {
      const bad = Buffer.from(p);
      bad[i] ^= 0x10;
      expect(verifyDumpPayload(bad), `byte ${i}`).toBe(false);
    }
    expect(verifyDumpPayload(p.subarray(0, 9))).toBe(false);
  });
});

describe('stepping over types kvslab does not hold', () => {
  /** Hand-built values of the older encodings (Redis 7.0 reads them, writes others). */
  function value(type: number, fill: (w: RdbWriter) => void): Buffer {
    return written((w) => {
      w.byte(type);
      fill(w);
      w.string(Buffer.from('after'));
    });
  }

  it('a hash, a legacy zset (text scores, NaN and infinities), a zset with binary scores, a quicklist of listpacks', () => {
    const cases: Buffer[] = [
      value(RDB_TYPE_HASH, (w) => { w.length(2); for (const s of ['f1', 'v1', 'f2', 'v2']) w.string(Buffer.from(s)); }),
      value(RDB_TYPE_ZSET, (w) => {
        w.length(3);
        w.string(Buffer.from('a'));
        w.byte(3);
        w.bytes(Buffer.from('1.5'));
        w.string(Buffer.from('b'));
        w.byte(254);
        w.string(Buffer.from('c'));
        w.byte(253);
      }),
      value(RDB_TYPE_ZSET_2, (w) => { w.length(1); w.string(Buffer.from('m')); w.bytes(Buffer.alloc(8)); }),
      value(RDB_TYPE_LIST_QUICKLIST_2, (w) => { w.length(2); w.length(2); w.string(pseudoRandom(100)); w.length(1); w.string(Buffer.from('plain')); }),
    ];
    for (const bytes of cases) {
      const r = reader(bytes, 32);
      const type = r.byte();
      expect(rdbTypeName(type)).not.toBeNull();
      r.skipValue(type);
      expect(r.string().toString()).toBe('after');
    }
  });
});

describe('errors name the offset', () => {
  it('the signature, the version', () => {
    expect(() => reader(Buffer.from('REDIX0010')).header()).toThrow(new RdbError('Wrong signature trying to load DB from file', 0));
    expect(() => reader(Buffer.from('REDIS0011')).header()).toThrow("Can't handle RDB format version 11 at offset 5");
    expect(() => reader(Buffer.from('REDIS')).header()).toThrow(/Wrong signature/);
    expect(reader(Buffer.from('REDIS0009\xff', 'latin1')).header()).toBe(9);
  });

  it('a string longer than the file, an unknown length or string encoding, a count past the end', () => {
    const long = Buffer.concat([Buffer.from([0x80, 0, 0, 0x10, 0]), Buffer.alloc(10)]);
    expect(() => reader(long).string()).toThrow(/Short read: 4096 bytes announced where the file has 10 left \(it ends at offset 15\) at offset 5/);
    expect(() => reader(Buffer.from([0x82])).length()).toThrow('Unknown length encoding 130 in rdbLoadLen() at offset 0');
    const r = reader(Buffer.from([0, 0xc4]));
    r.skipString();
    expect(() => r.skipString()).toThrow(/Unknown RDB string encoding type 4 at offset 1/);
    expect(() => reader(Buffer.from([0x7f, 0xff])).skipValue(RDB_TYPE_HASH)).toThrow(/field count of 16383 .* at offset 0/);
    expect(() => reader(Buffer.from([1, 2, 3])).skipValue(8)).toThrow(/Unknown RDB encoding type 8/);
  });

  it('an LZF string whose lengths cannot be, or whose data is not LZF', () => {
    // Compressed 2 bytes said to make 10 000.
    expect(() => reader(Buffer.from([0xc3, 2, 0x67, 0x10, 0, 0])).string()).toThrow(/cannot decompress to the 10000/);
    expect(() => reader(Buffer.from([0xc3, 2, 5, 0x20, 0])).string()).toThrow(/Invalid LZF compressed string.* at offset 3/);
  });

  it('a file cut short ends with the offset where it ends', () => {
    const bytes = written((w) => { w.string(Buffer.from('x'.repeat(50))); w.string(Buffer.from('y')); }, false);
    const cut = bytes.subarray(0, 20);
    const r = reader(cut, 16);
    expect(() => { r.string(); r.string(); }).toThrow(/ends at offset 20/);
  });

  it('a wrong checksum names the trailer, and 0 means none was written', () => {
    const bytes = written((w) => w.string(Buffer.from('value')));
    bytes[2] ^= 1;
    const r = reader(bytes);
    r.string();
    r.byte();
    expect(() => r.trailer(true)).toThrow(new RegExp(`Wrong RDB checksum .* at offset ${bytes.length - 8}`));
    bytes.fill(0, bytes.length - 8);
    const none = reader(bytes);
    none.string();
    none.byte();
    none.trailer(true);
  });
});

describe('the loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-load-'));
  const path = join(dir, 'dump.rdb');
  const opts = { checksum: true, skipUnknownTypes: false, maxmemory: 0, policy: 'noeviction' };
  const now = BigInt(Date.now());
  const n = 40_000;
  // Every 7th key is long and compressible: LZF, decoded into the reader's scratch while its value is read.
  const keyOf = (i: number) => (i % 7 === 0 ? `long-key-${'x'.repeat(40)}-${i}` : `key:${i}`);
  const valueOf = (i: number) => (i % 3 === 0 ? pseudoRandom(100, i + 1) : i % 3 === 1 ? Buffer.from('ab'.repeat(40) + i) : Buffer.from(String(i)));
  /** A dump over several of the reader's 1 MiB windows: raw, LZF and integer values, TTLs past and future, access hints, keys raw and LZF. */
  function dump(extra: (w: RdbWriter) => void = () => {}): Buffer {
    return written((w) => {
      w.header();
      w.selectDb(0);
      w.resizeDb(n, n / 10);
      for (let i = 0; i < n; i++) {
        if (i % 10 === 1) w.expireAt(now + 3_600_000n);
        if (i % 10 === 2) w.expireAt(now - 1000n);
        if (i % 10 === 3) w.idle(5);
        w.keyHeader(0, Buffer.from(keyOf(i)));
        w.string(valueOf(i));
      }
      extra(w);
    });
  }
  function load(bytes: Buffer, replace = false): { server: TestServer; result: number | Error } {
    writeFileSync(path, bytes);
    const server = new TestServer();
    try {
      return { server, result: loadRdbFile(path, { store: server.store, log: () => {}, makeRoom: () => true, usedMemory: () => 0 }, { ...opts, replace }).loaded };
    } catch (e) {
      return { server, result: e as Error };
    }
  }

  it('loads every key with its value and expiry, across windows, and drops the expired', () => {
    const bytes = dump();
    expect(bytes.length).toBeGreaterThan(2 << 20);
    const { server, result } = load(bytes);
    expect(result).toBe(n - n / 10);
    const c = server.connect();
    for (let i = 0; i < n; i++) {
      const v = c.run('GET', keyOf(i));
      if (i % 10 === 2) {
        expect(v, keyOf(i)).toBe(null);
        continue;
      }
      expect(Buffer.from(v as string, 'latin1').equals(valueOf(i)), keyOf(i)).toBe(true);
      const ttl = c.run('PTTL', keyOf(i)) as number;
      if (i % 10 === 1) expect(ttl).toBeGreaterThan(3_500_000);
      else expect(ttl).toBe(-1);
    }
  });

  it('a key twice is refused naming it, unless the dump\'s may replace it (the last one wins)', () => {
    const twice = dump((w) => { w.keyHeader(0, Buffer.from(keyOf(14))); w.string(Buffer.from('again')); });
    const { result } = load(twice);
    expect(result).toBeInstanceOf(RdbError);
    expect((result as Error).message).toMatch(new RegExp(`RDB has duplicated key '${keyOf(14)}' in DB 0`));
    const merged = load(twice, true);
    expect(merged.result).toBe(n - n / 10 + 1);
    expect(merged.server.connect().run('GET', keyOf(14))).toBe('again');
  });

  it('a value whose LZF data is broken fails the load and leaves no entry for its key', () => {
    const bytes = written((w) => {
      w.header();
      w.keyHeader(0, Buffer.from('good'));
      w.string(Buffer.from('g'.repeat(100)));
      w.keyHeader(0, Buffer.from('bad'));
      w.string(Buffer.from('b'.repeat(100)));
    }, true);
    // Without a checksum, so that the structure alone catches it: the back reference of 'bad' points before its start.
    const at = bytes.lastIndexOf(Buffer.from('bad')) + 3;
    expect(bytes[at]).toBe(0xc3);
    bytes[at + 4] |= 0x1f;
    bytes.fill(0, bytes.length - 8);
    const { server, result } = load(bytes);
    expect(result).toBeInstanceOf(RdbError);
    expect((result as Error).message).toMatch(/Invalid LZF compressed string/);
    const c = server.connect();
    expect(c.run('GET', 'good')).toBe('g'.repeat(100));
    expect(c.run('EXISTS', 'bad')).toBe(0);
  });
});

describe('the loader refuses every broken copy of a dump', () => {
  /** A dump of strings of each encoding, TTLs, two databases and a tensor, written by the real writer from a real store. */
  function seedDump(): Buffer {
    const server = new TestServer();
    const c = server.connect();
    c.run('SET', 'int', '12345');
    c.run('SET', 'short', 'hello');
    c.run('SET', 'lzf', 'abcabcabc'.repeat(30));
    c.run('SET', 'ttl', 'x', 'EX', '1000');
    c.run('SELECT', '3');
    c.run('SET', 'three', pseudoRandom(300).toString('latin1'));
    c.run('KV.CREATE', 't', 'DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '4', 'KV', '2');
    c.run('KV.APPEND', 't', pseudoRandom(2 * 2 * 3 * 8, 5));
    const sink = new Sink();
    writeRdb(server.store, sink, { compression: true, checksum: true, skipTensors: false, hints: null, usedMemory: 0, redisVersion: '7.0.15', kvslabVersion: 'test' });
    return sink.take();
  }

  const dir = mkdtempSync(join(tmpdir(), 'kvslab-rdb-fuzz-'));
  const path = join(dir, 'dump.rdb');
  const opts = { checksum: true, skipUnknownTypes: false, maxmemory: 0, policy: 'noeviction' };
  /** Loads `bytes` into a fresh store: the keys loaded, or the error. */
  function load(bytes: Buffer): number | Error {
    writeFileSync(path, bytes);
    const server = new TestServer();
    try {
      return loadRdbFile(path, { store: server.store, log: () => {}, makeRoom: () => true, usedMemory: () => 0 }, opts).loaded;
    } catch (e) {
      return e as Error;
    }
  }

  it('the seed loads whole', () => {
    expect(load(seedDump())).toBe(6);
  });

  it('every truncation is an RdbError naming an offset within the file', () => {
    const seed = seedDump();
    for (let n = 0; n < seed.length; n++) {
      const r = load(seed.subarray(0, n));
      expect(r, `cut at ${n}`).toBeInstanceOf(RdbError);
      expect((r as RdbError).offset).toBeLessThanOrEqual(n);
    }
  });

  it('every flip of a single byte, and 1,000 random multi-byte corruptions, are refused with an RdbError or a LoadError', () => {
    const seed = seedDump();
    const refused = (r: number | Error) => r instanceof RdbError || r instanceof LoadError;
    for (let i = 0; i < seed.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(seed);
        bad[i] ^= mask;
        const r = load(bad);
        // The checksum catches what the structure does not: nothing broken ever loads.
        expect(refused(r), `byte ${i} ^ ${mask}: ${r instanceof Error ? r.stack : r}`).toBe(true);
      }
    }
    let x = 7;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 1000; round++) {
      const bad = Buffer.from(seed);
      for (let k = 1 + (next() % 4); k > 0; k--) bad[9 + (next() % (bad.length - 9))] = next() & 0xff;
      if (bad.equals(seed)) continue;
      const r = load(bad);
      expect(refused(r), `round ${round}: ${r instanceof Error ? r.stack : r}`).toBe(true);
    }
  }, 60_000);
});
