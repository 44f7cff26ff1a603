// redis-cli, the real one, against kvslab: plain commands, -x, --pipe with a
// large command stream, -c (cluster mode on a standalone server), and a
// non-interactive session fed on stdin.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCli, startKvslab, RunningServer } from '../helpers/servers.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });

describe('redis-cli', () => {
  it('runs commands from arguments', () => {
    expect(redisCli(srv.port, ['PING']).trim()).toBe('PONG');
    expect(redisCli(srv.port, ['SET', 'cli:k', 'hello world']).trim()).toBe('OK');
    expect(redisCli(srv.port, ['GET', 'cli:k']).trim()).toBe('hello world');
    expect(redisCli(srv.port, ['--no-raw', 'GET', 'nope']).trim()).toBe('(nil)');
  });

  it('-x takes the last argument from stdin, binary-safe', () => {
    const payload = Buffer.concat([Buffer.from('line1\nline2\n'), Buffer.from([0, 1, 2, 0xff])]);
    expect(redisCli(srv.port, ['-x', 'SET', 'cli:x'], payload).trim()).toBe('OK');
    expect(redisCli(srv.port, ['STRLEN', 'cli:x']).trim()).toBe(String(payload.length));
    const out = execFileSync('redis-cli', ['-p', String(srv.port), '--raw', 'GET', 'cli:x']);
    // --raw adds one trailing newline.
    expect(out.subarray(0, payload.length).equals(payload)).toBe(true);
  });

  it('--pipe sends 100,000 commands and gets every reply', () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const k = `pipe:${i}`;
      const v = `v${i}`;
      lines.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
    }
    const out = redisCli(srv.port, ['--pipe'], lines.join(''));
    expect(out).toMatch(/errors: 0, replies: 100000/);
    expect(redisCli(srv.port, ['DBSIZE']).trim()).toBe(String(100_000 + 2));
    expect(redisCli(srv.port, ['GET', 'pipe:99999']).trim()).toBe('v99999');
  });

  it('-c works against a standalone server', () => {
    expect(redisCli(srv.port, ['-c', 'SET', 'cli:c', '1']).trim()).toBe('OK');
    expect(redisCli(srv.port, ['-c', 'INCR', 'cli:c']).trim()).toBe('2');
  });

  it('reads a session of commands from stdin', () => {
    const out = redisCli(srv.port, [], 'SET cli:s 5\nINCRBY cli:s 10\nGET cli:s\nNOSUCH\n');
    expect(out.split('\n').slice(0, 4)).toEqual(['OK', '15', '15', "ERR unknown command 'NOSUCH', with args beginning with: "]);
  });

  it('shows RESP3 replies with -3', () => {
    const out = redisCli(srv.port, ['-3', 'HELLO', '3']);
    expect(out).toMatch(/proto\s+3/);
  });
});
