import { describe, expect, it } from 'vitest';
import { scanKeyHints } from '../../src/protocol/key-hints.js';

const frame = (...args: string[]): string => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

function hints(wire: string | Buffer, max = 64): string[] {
  const buf = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const starts = new Uint32Array(max);
  const ends = new Uint32Array(max);
  const n = scanKeyHints(buf, 0, starts, ends);
  return Array.from({ length: n }, (_, i) => buf.toString('latin1', starts[i], ends[i]));
}

describe('scanKeyHints', () => {
  it('finds the second argument of each complete frame, in order', () => {
    expect(hints(frame('GET', 'a') + frame('SET', 'key:1', 'v') + frame('INCR', 'counter'))).toEqual(['a', 'key:1', 'counter']);
  });

  it('skips frames of one argument and binary keys keep their bytes', () => {
    expect(hints(frame('PING') + frame('GET', 'k\r\n\0x') + frame('DBSIZE'))).toEqual(['k\r\n\0x']);
  });

  it('stops at a frame cut by the end of the read', () => {
    const wire = frame('GET', 'a') + frame('SET', 'b', 'value');
    for (let cut = 0; cut < wire.length; cut++) {
      const got = hints(wire.slice(0, cut));
      expect(got).toEqual(cut >= frame('GET', 'a').length ? ['a'] : []);
    }
    expect(hints(wire)).toEqual(['a', 'b']);
  });

  it('stops at anything but the plain shape: inline commands, 10+ arguments, bad headers', () => {
    expect(hints('GET a\r\n' + frame('GET', 'b'))).toEqual([]);
    expect(hints(frame('GET', 'a') + frame('MSET', 'k1', 'v', 'k2', 'v', 'k3', 'v', 'k4', 'v', 'k5') + frame('GET', 'c'))).toEqual(['a']);
    expect(hints(frame('GET', 'a') + '*2\r\n$3\r\nGET\r\n$-1\r\n' + frame('GET', 'c'))).toEqual(['a']);
    expect(hints(frame('GET', 'a') + '*2\r\n$3\r\nGET\r\n$1x\r\nb\r\n')).toEqual(['a']);
    expect(hints(frame('GET', 'a') + '*2\r\n$3\r\nGET\r\n$99999999999\r\n')).toEqual(['a']);
  });

  it('fills at most as many hints as it has room for', () => {
    const wire = Array.from({ length: 10 }, (_, i) => frame('GET', `k${i}`)).join('');
    expect(hints(wire, 4)).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('never reads past the buffer on random bytes', () => {
    let seed = 7;
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 16; };
    const parts = ['*', '2', '3', '\r\n', '$', '1', '0', 'G', '\0', '9'];
    for (let t = 0; t < 2000; t++) {
      const buf = Buffer.from(Array.from({ length: rnd() % 80 }, () => parts[rnd() % parts.length]).join(''), 'latin1');
      const starts = new Uint32Array(8);
      const ends = new Uint32Array(8);
      const n = scanKeyHints(buf, 0, starts, ends);
      for (let i = 0; i < n; i++) expect(starts[i] <= ends[i] && ends[i] <= buf.length).toBe(true);
    }
  });
});
