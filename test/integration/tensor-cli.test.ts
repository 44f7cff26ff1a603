// KV.* tensor commands through the real redis-cli: `-x KV.APPEND key` with
// the payload on stdin (-x makes stdin the LAST argument, so APPEND without
// options is the form it can send), binary slices read back exactly with
// --raw and --no-raw, the other replies as redis-cli prints them, and the
// command metadata (COMMAND DOCS / INFO / GETKEYS) it asks the server for.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCli, startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

/** redis-cli's stdout as bytes. */
function cliBytes(args: string[], input?: Buffer): Buffer {
  return execFileSync('redis-cli', ['-p', String(srv.port), ...args], { input, maxBuffer: 64 * 1024 * 1024 });
}

/** A bulk string as `--raw` prints it: the bytes, then one newline. */
function rawBulk(args: string[]): Buffer {
  const out = cliBytes(['--raw', ...args]);
  expect(out[out.length - 1]).toBe(0x0a);
  return out.subarray(0, out.length - 1);
}

/**
 * Decodes a bulk string as redis-cli --no-raw prints it (sdscatrepr): in
 * double quotes, with \\ \" \n \r \t \a \b and \xHH escapes, printable ASCII as is.
 */
function unrepr(text: string): Buffer {
  expect(text.startsWith('"') && text.endsWith('"')).toBe(true);
  const out: number[] = [];
  const simple: Record<string, number> = { '\\': 0x5c, '"': 0x22, n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08 };
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i];
    if (ch !== '\\') {
      out.push(ch.charCodeAt(0));
      continue;
    }
    const e = text[++i];
    if (e === 'x') {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      expect(simple[e], `escape \\${e}`).toBeDefined();
      out.push(simple[e]);
    }
  }
  return Buffer.from(out);
}

/**
 * What the server should hold: one byte stream per (kv, layer), fed from
 * whole-layer payloads in the [kv][layer][token][row] layout.
 */
class Model {
  streams: Buffer[];
  constructor(readonly kv: number, readonly layers: number, readonly row: number) {
    this.streams = Array.from({ length: kv * layers }, () => Buffer.alloc(0));
  }
  append(payload: Buffer): void {
    const per = payload.length / (this.kv * this.layers);
    this.streams = this.streams.map((s, i) => Buffer.concat([s, payload.subarray(i * per, (i + 1) * per)]));
  }
  get length(): number {
    return this.streams[0].length / this.row;
  }
  /** Tokens [a, b) of layers [from, to), positions already resolved. */
  slice(a: number, b: number, from = 0, to = this.layers): Buffer {
    const parts: Buffer[] = [];
    for (let k = 0; k < this.kv; k++) {
      for (let l = from; l < to; l++) parts.push(this.streams[k * this.layers + l].subarray(a * this.row, b * this.row));
    }
    return Buffer.concat(parts);
  }
}

// uint8, 2 layers, 2 heads of 16: rows of 32 bytes, tokens of 2 * 2 * 32 = 128 bytes.
const SHAPE = ['DTYPE', 'uint8', 'LAYERS', '2', 'HEADS', '2', 'HEADDIM', '16'];

describe('redis-cli -x KV.APPEND', () => {
  const key = 'cli:kv';
  const model = new Model(2, 2, 32);
  // Every byte value, then line ends, NULs, quotes and backslashes, ending in a newline.
  const first = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const second = Buffer.alloc(128);
  for (let i = 0; i < 128; i++) second[i] = [0x0d, 0x0a, 0x00, 0x22, 0x5c, 0xff, 0x20, 0x7f][i % 8];
  second[127] = 0x0a;

  beforeAll(() => {
    expect(redisCli(srv.port, ['KV.CREATE', key, ...SHAPE])).toBe('OK\n');
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', key], first)).toBe('2\n');
    model.append(first);
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', key], second)).toBe('3\n');
    model.append(second);
  });

  it('appended exactly the stdin bytes (a trailing newline is payload, not stripped)', () => {
    expect(model.length).toBe(3);
    expect(redisCli(srv.port, ['KV.LEN', key])).toBe('3\n');
    expect(rawBulk(['KV.SLICE', key, '0', '3']).equals(model.slice(0, 3))).toBe(true);
    // The reply is the first append's payload followed, stream by stream, by the second's.
    expect(rawBulk(['KV.SLICE', key, '0', '2']).equals(first)).toBe(true);
    expect(rawBulk(['KV.SLICE', key, '2', '3']).equals(second)).toBe(true);
  });

  it('round-trips through --raw for token ranges, one layer and layer ranges', () => {
    const cases: [string[], Buffer][] = [
      [['1', '3'], model.slice(1, 3)],
      [['-1', '100'], model.slice(2, 3)],
      [['0', '-1'], model.slice(0, 2)],
      [['0', '3', 'LAYER', '1'], model.slice(0, 3, 1, 2)],
      [['1', '2', 'LAYER', '0'], model.slice(1, 2, 0, 1)],
      [['0', '3', 'LAYERS', '1', '2'], model.slice(0, 3, 1, 2)],
      [['2', '3', 'LAYERS', '0', '2'], model.slice(2, 3)],
    ];
    for (const [args, expected] of cases) {
      const got = rawBulk(['KV.SLICE', key, ...args]);
      expect(got.equals(expected), `KV.SLICE ${args.join(' ')}`).toBe(true);
    }
    // An empty range is an empty bulk string: --raw prints only the newline.
    expect(cliBytes(['--raw', 'KV.SLICE', key, '2', '1']).toString('hex')).toBe('0a');
  });

  it('round-trips through --no-raw (quoted, escaped)', () => {
    const out = cliBytes(['--no-raw', 'KV.SLICE', key, '0', '3']).toString('latin1');
    expect(out.endsWith('"\n')).toBe(true);
    const text = out.slice(0, -1);
    // Escaped: one line, no raw control bytes.
    expect(text).toMatch(/^"[\x20-\x7e]*"$/);
    expect(text).toContain('\\r\\n\\x00\\"\\\\\\xff \\x7f');
    expect(unrepr(text).equals(model.slice(0, 3))).toBe(true);
    const layer = cliBytes(['--no-raw', 'KV.SLICE', key, '1', '3', 'LAYER', '1']).toString('latin1').slice(0, -1);
    expect(unrepr(layer).equals(model.slice(1, 3, 1, 2))).toBe(true);
  });

  it('KV.MSLICE prints one bulk per present key', () => {
    const out = cliBytes(['--no-raw', 'KV.MSLICE', '2', '3', key, key, 'cli:none', key]).toString('latin1');
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const [i, l] of lines.entries()) {
      expect(l.startsWith(`${i + 1}) "`)).toBe(true);
      expect(unrepr(l.slice(3)).equals(second)).toBe(true);
    }
    expect(redisCli(srv.port, ['--no-raw', 'KV.MSLICE', '0', '1', 'cli:none', key])).toBe('(empty array)\n');
  });

  it('an empty stdin appends nothing; a partial token is refused and changes nothing', () => {
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', key], Buffer.alloc(0))).toBe('3\n');
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', key], Buffer.from('not a token\n'))).toBe(
      'ERR payload of 12 bytes is not a whole number of tokens of 128 bytes\n\n');
    expect(redisCli(srv.port, ['--no-raw', '-x', 'KV.APPEND', key], first.subarray(0, 200))).toBe(
      '(error) ERR payload of 200 bytes is not a whole number of tokens of 128 bytes\n');
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', 'cli:nokey'], first)).toBe('ERR no such key\n\n');
    expect(redisCli(srv.port, ['KV.LEN', key])).toBe('3\n');
    expect(rawBulk(['KV.SLICE', key, '0', '100']).equals(model.slice(0, 3))).toBe(true);
  });

  it('carries a 1 MiB random payload both ways', () => {
    const big = 'cli:kv:big';
    // uint8, 2 layers, 8 heads of 128: 4 KiB tokens; 1 MiB is 256 of them.
    expect(redisCli(srv.port, ['KV.CREATE', big, 'DTYPE', 'uint8', 'LAYERS', '2', 'HEADS', '8', 'HEADDIM', '128'])).toBe('OK\n');
    const m = new Model(2, 2, 1024);
    const a = randomBytes(1 << 20);
    const b = randomBytes(40 * 4096);
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', big], a)).toBe('256\n');
    m.append(a);
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', big], b)).toBe('296\n');
    m.append(b);
    expect(rawBulk(['KV.SLICE', big, '0', '296']).equals(m.slice(0, 296))).toBe(true);
    expect(rawBulk(['KV.SLICE', big, '250', '260', 'LAYER', '1']).equals(m.slice(250, 260, 1, 2))).toBe(true);
  });
});

describe('redis-cli output of the other KV.* replies', () => {
  const key = 'cli:info';

  beforeAll(() => {
    expect(redisCli(srv.port, ['KV.CREATE', key, ...SHAPE, 'META', 'm\x01ta'])).toBe('OK\n');
    expect(redisCli(srv.port, ['-x', 'KV.APPEND', key], Buffer.alloc(5 * 128, 7))).toBe('5\n');
  });

  it('KV.INFO, KV.LEN, KV.META and TYPE', () => {
    expect(redisCli(srv.port, ['--no-raw', 'KV.INFO', key])).toMatch(new RegExp('^' + [
      ' 1\\) "dtype"', ' 2\\) "uint8"', ' 3\\) "layers"', ' 4\\) \\(integer\\) 2', ' 5\\) "kv"', ' 6\\) \\(integer\\) 2',
      ' 7\\) "heads"', ' 8\\) \\(integer\\) 2', ' 9\\) "headdim"', '10\\) \\(integer\\) 16',
      '11\\) "length"', '12\\) \\(integer\\) 5', '13\\) "layer_lengths"', '14\\) 1\\) \\(integer\\) 5', '    2\\) \\(integer\\) 5',
      '15\\) "bytes_per_token"', '16\\) \\(integer\\) 128', '17\\) "bytes"', '18\\) \\(integer\\) 640',
      '19\\) "capacity"', '20\\) \\(integer\\) \\d+', '21\\) "meta_bytes"', '22\\) \\(integer\\) 4',
      '23\\) "ttl"', '24\\) \\(integer\\) -1',
    ].join('\n') + '\n$'));
    const raw = redisCli(srv.port, ['KV.INFO', key]).split('\n');
    expect(raw.slice(0, 16)).toEqual(['dtype', 'uint8', 'layers', '2', 'kv', '2', 'heads', '2', 'headdim', '16',
      'length', '5', 'layer_lengths', '5', '5', 'bytes_per_token']);
    expect(redisCli(srv.port, ['KV.LEN', key])).toBe('5\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.LEN', key])).toBe('(integer) 5\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.LEN', 'cli:none'])).toBe('(integer) 0\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.META', key])).toBe('"m\\x01ta"\n');
    expect(redisCli(srv.port, ['TYPE', key])).toBe('kvtensor\n');
    expect(redisCli(srv.port, ['--no-raw', 'TYPE', key])).toBe('kvtensor\n');
    expect(redisCli(srv.port, ['EXPIRE', key, '100'])).toBe('1\n');
    expect(redisCli(srv.port, ['KV.INFO', key]).split('\n').slice(23, 25)).toEqual(['ttl', '100']);
  });

  it('KV.TRUNCATE, KV.PREFIX and KV.PIN', () => {
    expect(redisCli(srv.port, ['--no-raw', 'KV.TRUNCATE', key, '2'])).toBe('(integer) 2\n');
    expect(rawBulk(['KV.SLICE', key, '0', '10']).equals(Buffer.alloc(2 * 128, 7))).toBe(true);
    expect(redisCli(srv.port, ['SET', 'cli:plain', 'x'])).toBe('OK\n');
    // Any type counts; the walk stops at the first missing key.
    expect(redisCli(srv.port, ['KV.PREFIX', key, 'cli:plain', 'cli:none', key])).toBe('2\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.PREFIX', 'cli:none', key])).toBe('(integer) 0\n');
    expect(redisCli(srv.port, ['KV.PIN', '1000', key, 'cli:plain', 'cli:none'])).toBe('2\n');
  });

  it('nil for a missing key', () => {
    expect(redisCli(srv.port, ['--no-raw', 'KV.SLICE', 'missing', '0', '1'])).toBe('(nil)\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.INFO', 'missing'])).toBe('(nil)\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.META', 'missing'])).toBe('(nil)\n');
  });

  it('WRONGTYPE both ways between strings and tensors', () => {
    expect(redisCli(srv.port, ['--no-raw', 'GET', key])).toBe(
      '(error) WRONGTYPE Operation against a key holding the wrong kind of value\n');
    expect(redisCli(srv.port, ['--no-raw', 'KV.SLICE', 'cli:plain', '0', '1'])).toBe(
      '(error) WRONGTYPE Operation against a key holding the wrong kind of value\n');
  });
});

describe('redis-cli and the KV.* command metadata', () => {
  it('COMMAND DOCS KV.APPEND', () => {
    const raw = redisCli(srv.port, ['COMMAND', 'DOCS', 'KV.APPEND']).split('\n');
    expect(raw.slice(0, 10)).toEqual([
      'kv.append', 'summary',
      'Appends tokens to every layer, or to one layer, of a KV tensor; returns the committed length.',
      'since', '0.1.0', 'group', 'kvtensor', 'complexity', 'O(N) in the payload bytes, amortized', 'arguments',
    ]);
    const out = redisCli(srv.port, ['--no-raw', 'COMMAND', 'DOCS', 'KV.APPEND']);
    expect(out.startsWith('1) "kv.append"\n2)  1) "summary"\n')).toBe(true);
    // The arguments in order, with their tokens: key payload [LAYER layer] [AT position] [CREATE DTYPE ... [KV kv]].
    const names = [...out.matchAll(/"name"\n\s+\d+\) "([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(['key', 'payload', 'layer', 'position', 'create', 'dtype', 'layers', 'heads', 'headdim', 'kv']);
    const tokens = [...out.matchAll(/"token"\n\s+\d+\) "([^"]+)"/g)].map((m) => m[1]);
    expect(tokens).toEqual(['LAYER', 'AT', 'CREATE', 'DTYPE', 'LAYERS', 'HEADS', 'HEADDIM', 'KV']);
    expect(out).toMatch(/"key_spec_index"\n\s+\d+\) \(integer\) 0/);
  });

  it('COMMAND INFO KV.MSLICE: arity -4, keys from 3 to the last', () => {
    const raw = redisCli(srv.port, ['COMMAND', 'INFO', 'KV.MSLICE']).split('\n');
    // name, arity, flags (readonly), first key, last key, step, then ACL categories.
    expect(raw.slice(0, 9)).toEqual(['kv.mslice', '-4', 'readonly', '3', '-1', '1', '@read', '@slow', '@kvtensor']);
    const out = redisCli(srv.port, ['--no-raw', 'COMMAND', 'INFO', 'KV.MSLICE']);
    expect(out).toMatch(/^1\)  1\) "kv\.mslice"\n    2\) \(integer\) -4\n    3\) 1\) readonly\n    4\) \(integer\) 3\n    5\) \(integer\) -1\n    6\) \(integer\) 1\n/);
    // The key spec: begin_search index 3, find_keys range to the last argument.
    expect(out).toMatch(/"begin_search"\n\s+4\) 1\) "type"\n\s+2\) "index"\n\s+3\) "spec"\n\s+4\) 1\) "index"\n\s+2\) \(integer\) 3\n/);
    expect(out).toMatch(/"lastkey"\n\s+2\) \(integer\) -1\n\s+3\) "keystep"\n\s+4\) \(integer\) 1\n/);
  });

  it('COMMAND GETKEYS finds the keys of KV.MSLICE, KV.PIN, KV.PREFIX and KV.APPEND', () => {
    expect(redisCli(srv.port, ['COMMAND', 'GETKEYS', 'KV.MSLICE', '0', '8', 'a', 'b', 'c'])).toBe('a\nb\nc\n');
    expect(redisCli(srv.port, ['COMMAND', 'GETKEYS', 'KV.PIN', '1000', 'a', 'b'])).toBe('a\nb\n');
    expect(redisCli(srv.port, ['COMMAND', 'GETKEYS', 'KV.PREFIX', 'a', 'b'])).toBe('a\nb\n');
    expect(redisCli(srv.port, ['COMMAND', 'GETKEYS', 'KV.APPEND', 'k', 'payload', 'LAYER', '0'])).toBe('k\n');
    const list = redisCli(srv.port, ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'kv.*']).trim().split('\n').sort();
    expect(list).toEqual(['kv.append', 'kv.create', 'kv.info', 'kv.len', 'kv.meta', 'kv.mslice', 'kv.pin', 'kv.prefix',
      'kv.put', 'kv.slice', 'kv.truncate']);
  });
});
