// The RESP reply reader MIGRATE's worker reads targets with: whole replies
// only, the first line of each, nested and binary replies skipped whole,
// replies cut anywhere across reads.

import { describe, expect, it } from 'vitest';
import { ReplyReader, type TargetReply } from '../../src/protocol/reply-reader.js';

const show = (r: TargetReply | null) => (r === null ? null : `${String.fromCharCode(r.type)}${r.line.toString('latin1')}`);

function readAll(wire: string | Buffer, pieces: number[] = []): (string | null)[] {
  const buf = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const rd = new ReplyReader();
  const out: (string | null)[] = [];
  let at = 0;
  for (const n of [...pieces, buf.length]) {
    rd.feed(buf.subarray(at, Math.min(buf.length, at + n)));
    at = Math.min(buf.length, at + n);
    for (let r = rd.next(); r !== null; r = rd.next()) out.push(show(r));
  }
  return out;
}

describe('ReplyReader', () => {
  it('status, error and integer replies: the type and the line', () => {
    expect(readAll('+OK\r\n-BUSYKEY Target key name already exists.\r\n:42\r\n')).toEqual([
      '+OK', '-BUSYKEY Target key name already exists.', ':42',
    ]);
  });

  it('a bulk is skipped whole, CRLF and binary bytes inside it included', () => {
    expect(readAll('$7\r\nab\r\n-cd\r\n+OK\r\n$-1\r\n+after\r\n')).toEqual(['$7', '+OK', '$-1', '+after']);
  });

  it('nested aggregates (RESP2 and RESP3) are one reply each', () => {
    const wire = '*2\r\n*2\r\n:1\r\n$1\r\nx\r\n-ERR inner\r\n' + '%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n' + '*0\r\n*-1\r\n_\r\n+last\r\n';
    expect(readAll(wire)).toEqual(['*2', '%1', '*0', '*-1', '_', '+last']);
  });

  it('a reply cut at every byte comes out once, when complete', () => {
    const wire = '+OK\r\n$5\r\nhello\r\n*2\r\n:1\r\n-ERR x\r\n-ERR done\r\n';
    const whole = readAll(wire);
    expect(whole).toEqual(['+OK', '$5', '*2', '-ERR done']);
    for (let cut = 1; cut < wire.length; cut++) expect(readAll(wire, [cut])).toEqual(whole);
    expect(readAll(wire, Array.from({ length: wire.length }, () => 1))).toEqual(whole);
  });

  it('nothing until a line ends; a bare LF ends one too (as Redis reads lines)', () => {
    const rd = new ReplyReader();
    rd.feed(Buffer.from('+O'));
    expect(rd.next()).toBeNull();
    rd.feed(Buffer.from('K\n-ERR y\r'));
    expect(show(rd.next())).toBe('+OK');
    expect(rd.next()).toBeNull();
    rd.feed(Buffer.from('\n'));
    expect(show(rd.next())).toBe('-ERR y');
    expect(rd.pending).toBe(0);
  });

  it('a deep nesting is walked without recursion', () => {
    const depth = 200_000;
    expect(readAll(`${'*1\r\n'.repeat(depth)}:1\r\n+OK\r\n`)).toEqual(['*1', '+OK']);
  });

  it('a big bulk grows the buffer and the next reply follows it', () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const wire = Buffer.concat([Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n+OK\r\n')]);
    expect(readAll(wire, [1000, 64 * 1024, 1024 * 1024])).toEqual([`$${body.length}`, '+OK']);
  });
});
