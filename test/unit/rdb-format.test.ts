// The RDB format in-process: CRC-64/Jones against its test vector, LZF round
// trips and refusals, lengths and strings in every encoding through the
// writer and back through the reader (with a window small enough that values
// straddle it and outgrow it), module fields, DUMP payload checks, and the
// reader's errors with their offsets. Files Redis wrote are the differential
// tests' (test/differential/rdb.test.ts).

import { describe, expect, it } from 'vitest';
import { crc64, Crc64 } from '../../src/persistence/crc64.js';
import { lzfCompress, lzfDecompress, LzfError } from '../../src/persistence/lzf.js';
import { MemorySink, RdbWriter } from '../../src/persistence/rdb-writer.js';
import { BufferSource, RdbError, RdbReader, verifyDumpPayload } from '../../src/persistence/rdb-reader.js';
import { moduleTypeId, moduleTypeName } from '../../src/persistence/module-type.js';
import { RDB_TYPE_HASH, RDB_TYPE_LIST_QUICKLIST_2, RDB_TYPE_ZSET, RDB_TYPE_ZSET_2, rdbTypeName } from '../../src/persistence/rdb-format.js';

function pseudoRandom(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

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

describe('CRC-64/Jones', () => {
  it('gives the test vector of "123456789", in one call or in pieces of any size', () => {
    const v = Buffer.from('123456789');
    expect(crc64(v)).toBe(0xe9c6d914c4b8d9can);
    for (let cut = 0; cut <= v.length; cut++) {
      expect(new Crc64().update(v, 0, cut).update(v, cut, v.length).digest()).toBe(0xe9c6d914c4b8d9can);
    }
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });

  it('the 8-at-a-time path agrees with byte at a time over long inputs', () => {
    const data = pseudoRandom(10_000);
    const bytewise = new Crc64();
    for (let i = 0; i < data.length; i++) bytewise.update(data, i, i + 1);
    expect(crc64(data)).toBe(bytewise.digest());
  });
});

describe('LZF', () => {
  it('round-trips repetitive data and refuses to expand random data', () => {
    const table = new Int32Array(1 << 16);
    for (const src of [Buffer.from('abcabcabcabcabcabcabcabcabc'.repeat(100)), Buffer.alloc(100_000, 7), Buffer.from('x'.repeat(21))]) {
      const out = Buffer.alloc(src.length);
      const n = lzfCompress(src, 0, src.length, out, 0, src.length - 4, table);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(src.length - 4);
      const back = Buffer.alloc(src.length);
      lzfDecompress(out, 0, n, back, 0, src.length);
      expect(back).toEqual(src);
    }
    const random = pseudoRandom(1000);
    expect(lzfCompress(random, 0, random.length, Buffer.alloc(1000), 0, 996)).toBe(0);
  });

  it('refuses a stream that does not decode to exactly its declared length, or reaches before its start', () => {
    const src = Buffer.from('hello hello hello hello hello');
    const out = Buffer.alloc(src.length);
    const n = lzfCompress(src, 0, src.length, out, 0, src.length - 4);
    expect(() => lzfDecompress(out, 0, n, Buffer.alloc(100), 0, src.length + 1)).toThrow(LzfError);
    expect(() => lzfDecompress(out, 0, n, Buffer.alloc(100), 0, src.length - 1)).toThrow(LzfError);
    expect(() => lzfDecompress(out, 0, n - 1, Buffer.alloc(100), 0, src.length)).toThrow(LzfError);
    // A back reference as the first item.
    expect(() => lzfDecompress(Buffer.from([0x20, 0x00]), 0, 2, Buffer.alloc(10), 0, 3)).toThrow(/before the start/);
  });
});

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
