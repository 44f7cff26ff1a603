// The request reader's pause (what a parked command uses, see
// Client.park): after the command that paused, nothing more is dispatched;
// the rest of that read and later reads wait, and resume() runs them in
// order, frames cut across reads included, until a command pauses again.

import { describe, expect, it } from 'vitest';
import { RequestReader, type RequestSink } from '../../src/protocol/request-reader.js';

function reader() {
  const seen: string[] = [];
  const sink: RequestSink = {
    onCommand(argv) {
      const text = argv.map((a) => a.toString()).join(' ');
      seen.push(text);
      if (argv[0].toString() === 'PARK') r.pauseAfterCommand();
      return true;
    },
    onProtocolError(msg) { seen.push(`error ${msg}`); },
    onQueryBufferOverflow() { seen.push('overflow'); },
    authRequired: () => false,
  };
  const r = new RequestReader(sink, { protoMaxBulkLen: 512 * 1024 * 1024, queryBufferLimit: 1024 * 1024 * 1024 });
  return { r, seen };
}

const frame = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

describe('RequestReader pause and resume', () => {
  it('stops after the pausing command; resume runs the rest of that read and later ones, in order', () => {
    const { r, seen } = reader();
    const all = frame('SET', 'a', '1') + frame('PARK', 'x') + frame('GET', 'a') + 'PING inline\r\n' + frame('SET', 'b', '2');
    const cut = all.length - 5;
    r.feed(Buffer.from(all.slice(0, cut)));
    expect(seen).toEqual(['SET a 1', 'PARK x']);
    expect(r.paused).toBe(true);
    r.feed(Buffer.from(all.slice(cut)));
    r.feed(Buffer.from(frame('DEL', 'a')));
    expect(seen).toEqual(['SET a 1', 'PARK x']);
    r.resume();
    expect(r.paused).toBe(false);
    expect(seen).toEqual(['SET a 1', 'PARK x', 'GET a', 'PING inline', 'SET b 2', 'DEL a']);
  });

  it('a command that pauses again while resuming keeps what comes after it waiting', () => {
    const { r, seen } = reader();
    r.feed(Buffer.from(frame('PARK', '1') + frame('A')));
    r.feed(Buffer.from(frame('PARK', '2') + frame('B')));
    r.feed(Buffer.from(frame('C')));
    r.resume();
    expect(seen).toEqual(['PARK 1', 'A', 'PARK 2']);
    expect(r.paused).toBe(true);
    r.resume();
    expect(seen).toEqual(['PARK 1', 'A', 'PARK 2', 'B', 'C']);
  });

  it('a pause at a read\'s very end, and one after a frame finished by a later read (a big argument)', () => {
    const { r, seen } = reader();
    r.feed(Buffer.from(frame('PARK', 'end')));
    expect(r.paused).toBe(true);
    r.resume();
    const big = 'v'.repeat(100_000);
    const f = frame('PARK', big) + frame('AFTER');
    r.feed(Buffer.from(f.slice(0, 50_000)));
    r.feed(Buffer.from(f.slice(50_000)));
    expect(seen.map((s) => s.slice(0, 10))).toEqual(['PARK end', 'PARK vvvvv']);
    r.resume();
    expect(seen[2]).toBe('AFTER');
  });
});
