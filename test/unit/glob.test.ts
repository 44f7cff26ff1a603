// Redis's glob matcher, quirks included. Every expectation below was checked
// against redis-server 7.0 with KEYS (a pattern other than the lone "*",
// which KEYS and SCAN short-circuit); the differential KEYS test covers
// random patterns against the real server as well.

import { describe, expect, it } from 'vitest';
import { matchBytes, matchString } from '../../src/util/glob.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function expectMatch(pattern: string, subject: string, want: boolean): void {
  expect({ pattern, subject, match: matchBytes(b(pattern), b(subject)) }).toEqual({ pattern, subject, match: want });
}

describe('glob: wildcards', () => {
  it('* matches any run of bytes, but needs a subject to start on', () => {
    expectMatch('a*', 'a', true);
    expectMatch('a*', 'abc', true);
    expectMatch('*c', 'abc', true);
    expectMatch('a*c', 'ac', true);
    expectMatch('a*c', 'abcbc', true);
    expectMatch('a*c', 'ab', false);
    expectMatch('**', 'abc', true);
    // Redis stops once the subject is used up: "*" alone does not match "".
    expectMatch('**', '', false);
    expectMatch('*', '', false);
    expectMatch('', '', true);
    expectMatch('', 'a', false);
  });
  it('? matches exactly one byte', () => {
    expectMatch('a?c', 'abc', true);
    expectMatch('a?c', 'ac', false);
    expectMatch('?', '', false);
    expectMatch('?*', 'a', true);
  });
  it('is case-sensitive unless asked otherwise', () => {
    expectMatch('A', 'a', false);
    expect(matchBytes(b('HeL*'), b('hello'), true)).toBe(true);
    expect(matchBytes(b('[A-C]x'), b('bX'), true)).toBe(true);
    expect(matchString('maxmemory*', 'MAXMEMORY-policy')).toBe(true);
  });
  it('is binary-safe', () => {
    expectMatch('x\x00*', 'x\x00y', true);
    expectMatch('*\x00', 'ab\x00', true);
    expectMatch('x\x00', 'x', false);
  });
  it('gives up on patterns nesting more than 1000 stars, as Redis does', () => {
    expectMatch('*a'.repeat(1000), 'a'.repeat(1100), true);
    expectMatch('*a'.repeat(1001), 'a'.repeat(1100), false);
  });
  it('stays fast on backtracking-heavy patterns', () => {
    const start = performance.now();
    expectMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(200), false);
    expectMatch('*a*b', 'xaxxbx', false);
    expectMatch('*a*b', 'xaxxb', true);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('glob: classes', () => {
  it('matches members, negations and ranges', () => {
    expectMatch('[abc]', 'b', true);
    expectMatch('[abc]', 'd', false);
    expectMatch('[^abc]', 'd', true);
    expectMatch('[^abc]', 'a', false);
    expectMatch('h[^e]llo', 'hallo', true);
    expectMatch('h[^e]llo', 'hello', false);
    expectMatch('[a-c]x', 'bx', true);
    expectMatch('[a-c]', 'd', false);
    // '!' is not a negation in Redis.
    expectMatch('[!a]', 'b', false);
    expectMatch('[!a]', '!', true);
  });
  it('accepts reversed ranges', () => {
    expectMatch('[c-a]x', 'bx', true);
  });
  it('takes the byte after "-" as the range end, even "]"', () => {
    expectMatch('[a-]', ']', true);
    expectMatch('[a-]', '_', true);
    expectMatch('[a-]', 'b', false);
    expectMatch('[a-c-e]', 'd', false);
    expectMatch('[a-c-e]', '-', true);
  });
  it('treats an unclosed class as ending the pattern, and "[]" as matching nothing', () => {
    expectMatch('[a', 'a', true);
    expectMatch('[a', 'ab', false);
    expectMatch('[', 'a', false);
    expectMatch('a[', 'a', false);
    expectMatch('[^', 'x', true);
    expectMatch('[]a]', 'a', false);
    expectMatch('[]a]', ']', false);
  });
  it('compares range bounds as signed chars, as C does', () => {
    // 0xff is -1: [a-\xff] is the range -1..'a'.
    expectMatch('[a-\xff]', '0', true);
    expectMatch('[a-\xff]', 'b', false);
    expectMatch('[a-\xff]', '\x80', false);
    expectMatch('[\x80-\xff]', '\x90', true);
    expectMatch('[\x80-\xff]', 'a', false);
  });
});

describe('glob: escapes', () => {
  it('escapes wildcards outside classes', () => {
    expectMatch('\\*', '*', true);
    expectMatch('\\*', 'a', false);
    expectMatch('\\?', '?', true);
    expectMatch('\\?', 'x', false);
  });
  it('treats a trailing backslash as itself', () => {
    expectMatch('a\\', 'a\\', true);
    expectMatch('a\\', 'a', false);
  });
  it('escapes inside classes', () => {
    expectMatch('[\\]]', ']', true);
    expectMatch('[\\-]', '-', true);
    expectMatch('[a\\-z]', 'b', false);
    expectMatch('[a\\-z]', '-', true);
    expectMatch('[a\\-z]', 'z', true);
  });
  it('compares escaped class members exactly even without case', () => {
    expect(matchBytes(b('[\\A]'), b('a'), true)).toBe(false);
    expect(matchBytes(b('[A]'), b('a'), true)).toBe(true);
  });
});
