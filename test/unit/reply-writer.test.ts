// The RESP2/RESP3 reply encoder (ReplyWriter) on its own: each test builds
// replies with the add* methods and compares the bytes in the output buffer,
// exactly. Expectations marked "Redis 7.0.15" were read off a real
// redis-server 7.0.15 with a raw socket (ZSCORE on a skiplist-encoded zset for
// doubles, DEBUG PROTOCOL for the RESP3 types, ECHO/INCR/GET for the rest).
//
// Each writer has a buffer of its own (the server hands its connections the
// shared one instead).

import { describe, expect, it } from 'vitest';
import { formatDouble, ReplyWriter } from '../../src/protocol/reply-writer.js';

/** A writer's first buffer size (the growth tests write past it). */
const INITIAL_REPLY_BUFFER = 16 * 1024;

type Span = Parameters<ReplyWriter['addBulkSpan']>[0];
type Block = NonNullable<Span['block']>;

/** A writer that shows the large-value views it queued. */
class ProbeWriter extends ReplyWriter {
  queued(): { at: number; bytes: string }[] {
    return this.views.map((v, i) => ({ at: this.viewAt[i], bytes: v.toString('latin1') }));
  }
}

function writer(resp: 2 | 3 = 2): ProbeWriter {
  const w = new ProbeWriter();
  w.resp = resp;
  return w;
}

/** The bytes written so far, as a latin1 string (one char per byte, so comparisons are byte-exact). */
function text(w: ReplyWriter): string {
  return w.out.toString('latin1', 0, w.outLen);
}

/** The bytes one reply encodes to, in the given protocol. */
function encode(resp: 2 | 3, build: (w: ReplyWriter) => void): string {
  const w = writer(resp);
  build(w);
  return text(w);
}

/** A block as the store hands it out: only its readers count matters to the writer. */
function block(): Block {
  return { readers: 0 } as Block;
}

describe('reply writer: simple replies', () => {
  it('status and the pre-encoded OK/PONG', () => {
    // Status lines go out as given, after '+'.
    expect(encode(2, (w) => w.addStatus('QUEUED'))).toBe('+QUEUED\r\n');
    expect(encode(2, (w) => w.addStatus(''))).toBe('+\r\n');
    expect(encode(2, (w) => w.addOk())).toBe('+OK\r\n');
    expect(encode(3, (w) => w.addPong())).toBe('+PONG\r\n');
  });

  it('errors carry the full text, with CR and LF each replaced by a space', () => {
    expect(encode(2, (w) => w.addError('ERR syntax error'))).toBe('-ERR syntax error\r\n');
    // Redis 7.0.15 for an unknown command named "a\r\nb": each of CR and LF becomes a space.
    expect(encode(2, (w) => w.addError("ERR unknown command 'a\r\nb', with args beginning with: ")))
      .toBe("-ERR unknown command 'a  b', with args beginning with: \r\n");
    expect(encode(3, (w) => w.addError('ERR x\ny\rz'))).toBe('-ERR x y z\r\n');
  });

  it('errors are written as latin1: a byte quoted from user input stays one byte', () => {
    const w = writer();
    w.addError("ERR bad 'caf\xe9'");
    expect([...w.out.subarray(0, w.outLen)]).toEqual([...Buffer.from("-ERR bad 'caf\xe9'\r\n", 'latin1')]);
  });

  it('onError sees every error text once, after the newline replacement', () => {
    const seen: string[] = [];
    class Counting extends ReplyWriter {
      protected override onError(msg: string): void { seen.push(msg); }
    }
    const w = new Counting();
    w.addError('ERR a\nb');
    w.addError('WRONGTYPE x');
    expect(seen).toEqual(['ERR a b', 'WRONGTYPE x']);
  });
});

describe('reply writer: integers', () => {
  it('small shared integers, their edges and the pre-encoded 0/1', () => {
    // 0..999 come from a table; 1000 is formatted: both must read the same way.
    expect(encode(2, (w) => w.addInt(0))).toBe(':0\r\n');
    expect(encode(2, (w) => w.addInt(7))).toBe(':7\r\n');
    expect(encode(2, (w) => w.addInt(999))).toBe(':999\r\n');
    expect(encode(2, (w) => w.addInt(1000))).toBe(':1000\r\n');
    expect(encode(2, (w) => { w.addZero(); w.addOne(); })).toBe(':0\r\n:1\r\n');
  });

  it('negative integers (Redis 7.0.15: INCRBY n -5 on a missing key replies ":-5")', () => {
    expect(encode(2, (w) => w.addInt(-5))).toBe(':-5\r\n');
    expect(encode(2, (w) => w.addInt(-1))).toBe(':-1\r\n');
    expect(encode(3, (w) => w.addInt(-1000000))).toBe(':-1000000\r\n');
  });

  it('bigints print every digit, int64 limits included (Redis 7.0.15: INCR to 2^63-1)', () => {
    expect(encode(2, (w) => w.addInt(9223372036854775807n))).toBe(':9223372036854775807\r\n');
    expect(encode(2, (w) => w.addInt(-9223372036854775808n))).toBe(':-9223372036854775808\r\n');
    expect(encode(2, (w) => w.addInt(5n))).toBe(':5\r\n');
  });

  it('numbers up to 2^53 print exactly; beyond it a bigint does', () => {
    // Callers switch to bigint past 2^53 (INCR's incrDecr, TTL's ttlGeneric): a JS number
    // there would print its shortest round-trip form (2**60 as "1152921504606847000").
    expect(encode(2, (w) => w.addInt(Number.MAX_SAFE_INTEGER))).toBe(':9007199254740991\r\n');
    expect(encode(2, (w) => w.addInt(-Number.MAX_SAFE_INTEGER))).toBe(':-9007199254740991\r\n');
    expect(encode(2, (w) => w.addInt(2n ** 60n))).toBe(':1152921504606846976\r\n');
    expect(encode(3, (w) => w.addInt(2n ** 53n + 1n))).toBe(':9007199254740993\r\n');
  });

  it('addBulkInt: an integer as a bulk string', () => {
    expect(encode(2, (w) => w.addBulkInt(42))).toBe('$2\r\n42\r\n');
    expect(encode(2, (w) => w.addBulkInt(-12345678901234567890n))).toBe('$21\r\n-12345678901234567890\r\n');
  });
});

describe('reply writer: bulk strings', () => {
  it('empty bulk (Redis 7.0.15: ECHO "" replies "$0\\r\\n\\r\\n")', () => {
    expect(encode(2, (w) => w.addBulk(Buffer.alloc(0)))).toBe('$0\r\n\r\n');
  });

  it('binary bytes, CR/LF and NUL included, are copied untouched', () => {
    const value = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x80, 0x24]);
    const w = writer();
    w.addBulk(value);
    expect([...w.out.subarray(0, w.outLen)]).toEqual([0x24, 0x36, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0xff, 0x80, 0x24, 0x0d, 0x0a]);
  });

  it('lengths of 999 (shared header) and 1000+ (formatted header) are both exact', () => {
    const a = Buffer.alloc(999, 0x61);
    const b = Buffer.alloc(1000, 0x62);
    const c = Buffer.alloc(123456, 0x63);
    expect(encode(2, (w) => w.addBulk(a))).toBe(`$999\r\n${'a'.repeat(999)}\r\n`);
    expect(encode(2, (w) => w.addBulk(b))).toBe(`$1000\r\n${'b'.repeat(1000)}\r\n`);
    expect(encode(2, (w) => w.addBulk(c))).toBe(`$123456\r\n${'c'.repeat(123456)}\r\n`);
  });

  it('addBulkRange sends bytes [start, end) of a buffer, short and long', () => {
    const src = Buffer.from('0123456789', 'latin1');
    expect(encode(2, (w) => w.addBulkRange(src, 2, 5))).toBe('$3\r\n234\r\n');
    expect(encode(2, (w) => w.addBulkRange(src, 4, 4))).toBe('$0\r\n\r\n');
    expect(encode(2, (w) => w.addBulkRange(src, 0, 10))).toBe('$10\r\n0123456789\r\n');
    const big = Buffer.alloc(3000);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    const w = writer();
    w.addBulkRange(big, 500, 2500);
    const out = w.out.subarray(0, w.outLen);
    expect(out.subarray(0, 7).toString('latin1')).toBe('$2000\r\n');
    expect(out.subarray(7, 2007).equals(big.subarray(500, 2500))).toBe(true);
    expect(out.subarray(2007).toString('latin1')).toBe('\r\n');
  });

  it('addBulkString counts UTF-8 bytes, not characters', () => {
    // "é" is 2 bytes in UTF-8, "€" 3, "😀" 4 (two UTF-16 units).
    const w = writer();
    w.addBulkString('h\u00e9\u20ac\u{1f600}');
    const want = Buffer.concat([Buffer.from('$10\r\n'), Buffer.from('h\u00e9\u20ac\u{1f600}', 'utf8'), Buffer.from('\r\n')]);
    expect(w.out.subarray(0, w.outLen).equals(want)).toBe(true);
    expect(encode(2, (x) => x.addBulkString(''))).toBe('$0\r\n\r\n');
  });

  it('a bulk built from parts: header, copied parts, CRLF', () => {
    const src = Buffer.from('hello world', 'latin1');
    const w = writer();
    w.addBulkHeader(11);
    w.addBulkPart({ buf: src, start: 0, end: 5, block: null });
    w.addBulkPart({ buf: src, start: 5, end: 11, block: block() });
    w.addBulkEnd();
    // The second part is in a block but short: copied, not viewed.
    expect(text(w)).toBe('$11\r\nhello world\r\n');
    expect(w.queued()).toEqual([]);
  });
});

describe('reply writer: nulls and aggregates, RESP2 vs RESP3', () => {
  it('null bulk and null array: $-1 / *-1 in RESP2, _ in RESP3 (Redis 7.0.15: GET of a missing key)', () => {
    expect(encode(2, (w) => w.addNull())).toBe('$-1\r\n');
    expect(encode(2, (w) => w.addNullArray())).toBe('*-1\r\n');
    expect(encode(3, (w) => w.addNull())).toBe('_\r\n');
    expect(encode(3, (w) => w.addNullArray())).toBe('_\r\n');
  });

  it('array headers, shared (<100) and formatted', () => {
    expect(encode(2, (w) => { w.addArrayLen(3); w.addInt(0); w.addInt(1); w.addInt(2); })).toBe('*3\r\n:0\r\n:1\r\n:2\r\n');
    expect(encode(3, (w) => w.addArrayLen(99))).toBe('*99\r\n');
    expect(encode(3, (w) => w.addArrayLen(100))).toBe('*100\r\n');
    expect(encode(2, (w) => w.addArrayLen(70000))).toBe('*70000\r\n');
    expect(encode(2, (w) => w.addEmptyArray())).toBe('*0\r\n');
  });

  it('maps: %n in RESP3, a flat array of 2n in RESP2 (Redis 7.0.15: DEBUG PROTOCOL map)', () => {
    const build = (w: ReplyWriter) => {
      w.addMapLen(3);
      for (let i = 0; i < 3; i++) { w.addInt(i); w.addBool(i === 1); }
    };
    expect(encode(2, build)).toBe('*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n');
    expect(encode(3, build)).toBe('%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n');
    // 60 pairs: 120 elements, past the shared array headers.
    expect(encode(2, (w) => w.addMapLen(60))).toBe('*120\r\n');
    expect(encode(3, (w) => w.addMapLen(0))).toBe('%0\r\n');
  });

  it('sets: ~n in RESP3, *n in RESP2 (Redis 7.0.15: DEBUG PROTOCOL set)', () => {
    const build = (w: ReplyWriter) => { w.addSetLen(3); w.addInt(0); w.addInt(1); w.addInt(2); };
    expect(encode(2, build)).toBe('*3\r\n:0\r\n:1\r\n:2\r\n');
    expect(encode(3, build)).toBe('~3\r\n:0\r\n:1\r\n:2\r\n');
  });

  it('booleans: #t/#f in RESP3, :1/:0 in RESP2 (Redis 7.0.15: DEBUG PROTOCOL true/false)', () => {
    expect(encode(3, (w) => { w.addBool(true); w.addBool(false); })).toBe('#t\r\n#f\r\n');
    expect(encode(2, (w) => { w.addBool(true); w.addBool(false); })).toBe(':1\r\n:0\r\n');
  });

  it('verbatim strings: =len txt:... in RESP3, a plain bulk in RESP2 (Redis 7.0.15: DEBUG PROTOCOL verbatim)', () => {
    const s = 'This is a verbatim\nstring';
    expect(encode(3, (w) => w.addVerbatim(s))).toBe('=29\r\ntxt:This is a verbatim\nstring\r\n');
    expect(encode(2, (w) => w.addVerbatim(s))).toBe('$25\r\nThis is a verbatim\nstring\r\n');
    // The length covers the format prefix and counts UTF-8 bytes.
    expect(encode(3, (w) => w.addVerbatim('\u00e9', 'mkd'))).toBe(Buffer.from('=6\r\nmkd:\u00e9\r\n', 'utf8').toString('latin1'));
  });
});

describe('reply writer: doubles', () => {
  it('formatDouble follows %.17g where it agrees with Redis 7.0.15 (ZSCORE of a skiplist zset)', () => {
    const cases: [number, string][] = [
      [0.1, '0.10000000000000001'],
      [3, '3'],
      [100, '100'],
      [-2.5, '-2.5'],
      [0, '0'],
      [123.456, '123.456'],
      [0.30000000000000004, '0.30000000000000004'],
      [1e-4, '0.0001'],
      [1e16, '10000000000000000'],
      // 1e17 and above: exponent form, at least two exponent digits, trailing zeros dropped.
      [1e17, '1e+17'],
      [99999999999999999, '1e+17'],
      [123456789012345678, '1.2345678901234568e+17'],
      [1e21, '1e+21'],
      [1.5e300, '1.5000000000000001e+300'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      // Below 1e-6 (JS toPrecision switches to exponent form there too).
      [1e-6, '9.9999999999999995e-07'],
      [9.5367431640625e-7, '9.5367431640625e-07'],
      [1e-7, '9.9999999999999995e-08'],
      [-1e-7, '-9.9999999999999995e-08'],
      [1e-300, '1e-300'],
      [5e-324, '4.9406564584124654e-324'],
      [4503599627370495.5, '4503599627370495.5'],
      [281474976710656.375, '281474976710656.38'],
    ];
    expect(cases.map(([d]) => [d, formatDouble(d)])).toEqual(cases);
  });

  it('uses exponent form for 1e-6 <= |d| < 1e-4, as %.17g does (Redis 7.0.15: ZSCORE)', () => {
    expect(formatDouble(1e-5)).toBe('1.0000000000000001e-05');
    expect(formatDouble(5e-5)).toBe('5.0000000000000002e-05');
    expect(formatDouble(9.99e-5)).toBe('9.9900000000000002e-05');
    expect(formatDouble(-9.6350364546398437e-5)).toBe('-9.6350364546398437e-05');
    expect(formatDouble(1.0062064216174681e-6)).toBe('1.0062064216174681e-06');
    expect(formatDouble(0.0000152587890625)).toBe('1.52587890625e-05');
    expect(formatDouble(6.103515625e-5)).toBe('6.103515625e-05');
  });

  it('rounds a tie at the 17th significant digit to even, as glibc printf does (Redis 7.0.15: ZSCORE)', () => {
    expect(formatDouble(281474976710656.125)).toBe('281474976710656.12');
    expect(formatDouble(-281474976710656.125)).toBe('-281474976710656.12');
    expect(formatDouble(21216390380719.5625)).toBe('21216390380719.562');
    // Not a tie: rounds as usual.
    expect(formatDouble(281474976710656.375)).toBe('281474976710656.38');
  });

  it('prints -0.0 as "-0" (Redis 7.0.15: ZADD z -0 m on a skiplist zset; ZSCORE)', () => {
    expect(formatDouble(-0)).toBe('-0');
  });

  it('inf and -inf as Redis 7.0.15 spells them (ZSCORE), nan as %.17g prints a NaN', () => {
    expect([formatDouble(Infinity), formatDouble(-Infinity), formatDouble(NaN)]).toEqual(['inf', '-inf', 'nan']);
  });

  it('addDouble: ,d in RESP3, a bulk string in RESP2 (Redis 7.0.15: ZSCORE, DEBUG PROTOCOL double)', () => {
    expect(encode(3, (w) => w.addDouble(3.141))).toBe(',3.141\r\n');
    expect(encode(2, (w) => w.addDouble(3.141))).toBe('$5\r\n3.141\r\n');
    expect(encode(3, (w) => w.addDouble(0.1))).toBe(',0.10000000000000001\r\n');
    expect(encode(2, (w) => w.addDouble(0.1))).toBe('$19\r\n0.10000000000000001\r\n');
    expect(encode(3, (w) => w.addDouble(-Infinity))).toBe(',-inf\r\n');
    expect(encode(2, (w) => w.addDouble(Infinity))).toBe('$3\r\ninf\r\n');
    expect(encode(3, (w) => w.addDouble(NaN))).toBe(',nan\r\n');
  });
});

describe('reply writer: large-value views, mark and rollback', () => {
  const VIEW_MIN = 16 * 1024;

  it('a span of >= 16 KiB in a block is queued as a view after its header, and raises the block readers', () => {
    const buf = Buffer.alloc(VIEW_MIN + 10);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) & 0xff;
    const blk = block();
    const w = writer();
    w.addStatus('A');
    w.addBulkSpan({ buf, start: 10, end: 10 + VIEW_MIN, block: blk });
    w.addStatus('B');
    // The output holds the header and the CRLF only; the view goes out between them.
    expect(text(w)).toBe('+A\r\n$16384\r\n\r\n+B\r\n');
    const q = w.queued();
    expect(q.length).toBe(1);
    expect(q[0].at).toBe('+A\r\n$16384\r\n'.length);
    expect(q[0].bytes).toBe(buf.toString('latin1', 10, 10 + VIEW_MIN));
    expect(blk.readers).toBe(1);
  });

  it('a span one byte short of 16 KiB, or with no block, is copied and leaves readers alone', () => {
    const buf = Buffer.alloc(VIEW_MIN, 0x78);
    const blk = block();
    const w = writer();
    w.addBulkSpan({ buf, start: 1, end: VIEW_MIN, block: blk });
    w.addBulkSpan({ buf, start: 0, end: VIEW_MIN, block: null });
    expect(text(w)).toBe(`$16383\r\n${'x'.repeat(VIEW_MIN - 1)}\r\n$16384\r\n${'x'.repeat(VIEW_MIN)}\r\n`);
    expect(w.queued()).toEqual([]);
    expect(blk.readers).toBe(0);
  });

  it('replyRollback drops the bytes added since the mark', () => {
    const w = writer();
    w.addOk();
    const mark = w.replyMark();
    w.addArrayLen(2);
    w.addBulkString('x');
    w.addError('ERR later');
    w.replyRollback(mark);
    expect(text(w)).toBe('+OK\r\n');
    w.addInt(5);
    expect(text(w)).toBe('+OK\r\n:5\r\n');
  });

  it('replyRollback also drops views queued since the mark and lowers their readers again; earlier views stay', () => {
    const buf = Buffer.alloc(VIEW_MIN * 2, 0x41);
    const first = block();
    const second = block();
    const w = writer();
    w.addBulkSpan({ buf, start: 0, end: VIEW_MIN, block: first });
    const mark = w.replyMark();
    w.addBulkSpan({ buf, start: 0, end: VIEW_MIN * 2, block: second });
    // The same block twice: readers counts views, not blocks.
    w.addBulkSpan({ buf, start: VIEW_MIN, end: VIEW_MIN * 2, block: second });
    expect(second.readers).toBe(2);
    expect(w.queued().length).toBe(3);
    w.replyRollback(mark);
    expect(second.readers).toBe(0);
    expect(first.readers).toBe(1);
    expect(w.queued().map((v) => v.at)).toEqual(['$16384\r\n'.length]);
    expect(text(w)).toBe('$16384\r\n\r\n');
  });

  it('a bulk of parts mixes copied bytes and a view: the view sits between the copied part and the CRLF', () => {
    const big = Buffer.alloc(VIEW_MIN, 0x76);
    const blk = block();
    const w = writer();
    w.addBulkHeader(3 + VIEW_MIN);
    w.addBulkPart({ buf: Buffer.from('abc'), start: 0, end: 3, block: null });
    w.addBulkPart({ buf: big, start: 0, end: VIEW_MIN, block: blk });
    w.addBulkEnd();
    expect(text(w)).toBe('$16387\r\nabc\r\n');
    expect(w.queued()).toEqual([{ at: '$16387\r\nabc'.length, bytes: 'v'.repeat(VIEW_MIN) }]);
    expect(blk.readers).toBe(1);
  });

  it('a mark taken before any output rolls back to nothing, views included', () => {
    const blk = block();
    const w = writer(3);
    const mark = w.replyMark();
    expect(mark).toBe(0);
    w.addBulkSpan({ buf: Buffer.alloc(VIEW_MIN), start: 0, end: VIEW_MIN, block: blk });
    w.replyRollback(mark);
    expect(w.outLen).toBe(0);
    expect(w.queued()).toEqual([]);
    expect(blk.readers).toBe(0);
  });
});

describe('reply writer: buffer growth', () => {
  it('many replies past the initial buffer keep every earlier byte', () => {
    const w = writer();
    let want = '';
    for (let i = 0; i < 5000; i++) {
      w.addInt(i * 37);
      want += `:${i * 37}\r\n`;
      const s = `value-${i}`;
      w.addBulkString(s);
      want += `$${s.length}\r\n${s}\r\n`;
    }
    expect(want.length).toBeGreaterThan(4 * INITIAL_REPLY_BUFFER);
    expect(w.out.length).toBeGreaterThanOrEqual(want.length);
    expect(text(w)).toBe(want);
  });

  it('one reply bigger than several doublings of the buffer lands whole after the earlier ones', () => {
    const w = writer();
    w.addStatus('first');
    const big = Buffer.alloc(INITIAL_REPLY_BUFFER * 5 + 3, 0x7a);
    w.addBulk(big);
    w.addStatus('last');
    expect(text(w)).toBe(`+first\r\n$${big.length}\r\n${'z'.repeat(big.length)}\r\n+last\r\n`);
  });

  it('a rollback after the buffer grew keeps the bytes before the mark', () => {
    const w = writer();
    w.addStatus('kept');
    const mark = w.replyMark();
    w.addBulk(Buffer.alloc(INITIAL_REPLY_BUFFER * 3, 0x71));
    w.replyRollback(mark);
    w.addStatus('after');
    expect(text(w)).toBe('+kept\r\n+after\r\n');
  });

  it('growth does not move bytes under a queued view: its offset still points between the same bytes', () => {
    const blk = block();
    const w = writer();
    w.addStatus('head');
    w.addBulkSpan({ buf: Buffer.alloc(16 * 1024, 0x31), start: 0, end: 16 * 1024, block: blk });
    for (let i = 0; i < 3000; i++) w.addBulkString('padding-padding');
    const out = text(w);
    const at = w.queued()[0].at;
    expect(out.slice(0, at)).toBe('+head\r\n$16384\r\n');
    expect(out.slice(at, at + 2)).toBe('\r\n');
    expect(out.length).toBe(at + 2 + 3000 * '$15\r\npadding-padding\r\n'.length);
  });
});
