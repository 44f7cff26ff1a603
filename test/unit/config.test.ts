// The config layer on its own: value grammar (integers, memory units, enums),
// file loading errors with line numbers, CONFIG GET matching, CONFIG SET's
// all-or-nothing order of checks, REWRITE; and the COMMAND DOCS syntax parser.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, ConfigFileError } from '../../src/config/configuration.js';
import { DIRECTIVES, parseMemory, parseStrictInt, formatMemoryForFile } from '../../src/config/directives.js';
import { parseSyntax } from '../../src/commands/model/doc-syntax.js';

describe('value grammar', () => {
  it('memory units: k=1000, kb=1024, case-insensitive, no sign', () => {
    expect(parseMemory('100')).toBe(100);
    expect(parseMemory('1k')).toBe(1000);
    expect(parseMemory('1kb')).toBe(1024);
    expect(parseMemory('1K')).toBe(1000);
    expect(parseMemory('5kB')).toBe(5120);
    expect(parseMemory('100mb')).toBe(100 * 1024 * 1024);
    expect(parseMemory('2m')).toBe(2_000_000);
    expect(parseMemory('1gb')).toBe(1024 ** 3);
    expect(parseMemory('1g')).toBe(1e9);
    expect(parseMemory('7b')).toBe(7);
    expect(parseMemory('05mb')).toBe(5 * 1024 * 1024);
    expect(parseMemory('')).toBe(0);
    for (const bad of ['-1', '+5', '1.5mb', '5 mb', '1t', '1tb', '0x10', 'abc']) expect(parseMemory(bad), bad).toBeNull();
  });

  it('integers follow string2ll', () => {
    expect(parseStrictInt('0')).toBe(0);
    expect(parseStrictInt('-12')).toBe(-12);
    for (const bad of ['+5', '05', '-0', ' 5', '5 ', '1e3', '5.0', '', '99999999999999999999']) expect(parseStrictInt(bad), bad).toBeNull();
  });

  it('memory values are written back in the largest whole binary unit', () => {
    expect(formatMemoryForFile(0)).toBe('0');
    expect(formatMemoryForFile(1024 ** 3)).toBe('1gb');
    expect(formatMemoryForFile(100 * 1024 * 1024)).toBe('100mb');
    expect(formatMemoryForFile(4096)).toBe('4kb');
    expect(formatMemoryForFile(1000)).toBe('1000');
  });
});

describe('Config.load', () => {
  function loadError(text: string): ConfigFileError {
    try {
      new Config().load(text, 'x.conf');
    } catch (e) {
      return e as ConfigFileError;
    }
    throw new Error('no error');
  }

  it('reports the line and the reason', () => {
    const e = loadError('# c\nport 1\n\n  hz abc  \n');
    expect(e).toBeInstanceOf(ConfigFileError);
    expect(e.line).toBe(4);
    expect(e.text).toBe('hz abc');
    expect(e.reason).toBe("argument couldn't be parsed into an integer");
    expect(e.report()).toContain('Reading the configuration file x.conf, at line 4');
    expect(loadError('bogus 1').reason).toBe('Bad directive or wrong number of arguments');
    expect(loadError('port 1 2').reason).toBe('wrong number of arguments');
    expect(loadError('save 10').reason).toBe('Invalid save parameters');
    expect(loadError('client-output-buffer-limit normal 1 2').reason).toBe('Wrong number of arguments in buffer limit configuration.');
  });

  it('later lines win; save lines add up; enums are lower-cased; hz is clamped', () => {
    const c = new Config();
    c.load('maxmemory 1mb\nmaxmemory 2mb\nsave 900 1\nsave 60 100\nLOGLEVEL WARNING\nhz 0\n', 'x');
    expect(c.int('maxmemory')).toBe(2 * 1024 * 1024);
    expect(c.str('save')).toBe('900 1 60 100');
    expect(c.str('loglevel')).toBe('warning');
    expect(c.int('hz')).toBe(1);
    c.load('save ""', 'y');
    expect(c.str('save')).toBe('');
    // A quoted list, as --save "900 1" arrives from the command line.
    c.load('save "900 1 300 10"\nbind "127.0.0.1 -::1"', 'z');
    expect(c.str('save')).toBe('900 1 300 10');
    expect(c.str('bind')).toBe('127.0.0.1 -::1');
  });

  it('client-output-buffer-limit changes only the classes given', () => {
    const c = new Config();
    c.load('client-output-buffer-limit pubsub 1mb 512kb 30', 'x');
    expect(c.str('client-output-buffer-limit')).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 30');
  });
});

describe('CONFIG GET / SET', () => {
  it('GET: globs match case-insensitively, exact names are echoed, each once', () => {
    const c = new Config();
    const names = c.getMatching(['maxmemory-p*']).map(([n]) => n);
    expect(names).toEqual(['maxmemory-policy']);
    expect(c.getMatching(['MAXMEMORY', 'maxmemory', 'nosuch'])).toEqual([['MAXMEMORY', '0']]);
    expect(c.getMatching(['*']).length).toBe(DIRECTIVES.length);
  });

  it('SET: the first problem in argument order wins, and nothing applies', () => {
    const c = new Config();
    expect(c.setMany([['hz', '5'], ['DATABASES', '3'], ['nosuch', '1']])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set immutable config",
    );
    expect(c.setMany([['nosuch', '1'], ['DATABASES', '3']])).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    expect(c.setMany([['hz', '5'], ['HZ', '6']])).toBe("ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter");
    expect(c.setMany([['dir', '/tmp']])).toBe("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
    expect(c.setMany([['hz', '5'], ['MAXMEMORY', 'x']])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
    );
    expect(c.int('hz')).toBe(10);
    expect(c.setMany([['maxclients', '0']])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
    );
    expect(c.setMany([['proto-max-bulk-len', '1000']])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive",
    );
    expect(c.setMany([['hz', '5'], ['maxmemory', '1gb']])).toBeNull();
    expect(c.int('hz')).toBe(5);
    expect(c.int('maxmemory')).toBe(1024 ** 3);
  });

  it('SET rolls back when applying a value fails', () => {
    const c = new Config();
    c.onChange((name) => { if (name === 'timeout') throw new Error('cannot apply'); });
    expect(c.setMany([['hz', '7'], ['timeout', '5']])).toBe("ERR CONFIG SET failed (possibly related to argument 'timeout') - cannot apply");
    expect(c.int('hz')).toBe(10);
    expect(c.int('timeout')).toBe(0);
  });
});

describe('CONFIG REWRITE', () => {
  it('rewrites lines in place, keeps comments, appends new directives, quotes values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvslab-unit-'));
    const file = join(dir, 'a.conf');
    writeFileSync(file, '# top\nmaxmemory 1mb\n# between\nmaxmemory 2mb\ntimeout 0\n');
    const c = new Config();
    c.loadFile(file, '');
    expect(c.setMany([['maxmemory', '3gb'], ['requirepass', 'a "b"\n'], ['timeout', '9']])).toBeNull();
    expect(c.rewrite()).toBeNull();
    const text = readFileSync(file, 'utf8');
    expect(text).toBe('# top\nmaxmemory 3gb\n# between\ntimeout 9\n# Generated by CONFIG REWRITE\nrequirepass "a \\"b\\"\\n"\n');
    const again = new Config();
    again.loadFile(file, '');
    expect(again.str('requirepass')).toBe('a "b"\n');
    expect(again.int('maxmemory')).toBe(3 * 1024 ** 3);
    expect(new Config().rewrite()).toBe('ERR The server is running without a config file');
  });
});

describe('COMMAND DOCS syntax parser', () => {
  it('turns tokens, optional groups, alternatives and repetition into Redis arguments', () => {
    expect(parseSyntax('key [key ...]')).toEqual([{ name: 'key', type: 'key', flags: ['multiple'] }]);
    expect(parseSyntax('key value [NX | XX] [GET] [EX seconds | KEEPTTL]')).toEqual([
      { name: 'key', type: 'key', flags: [] },
      { name: 'value', type: 'string', flags: [] },
      {
        name: 'nx_xx', type: 'oneof', flags: ['optional'], arguments: [
          { name: 'nx', type: 'pure-token', token: 'NX', flags: [] },
          { name: 'xx', type: 'pure-token', token: 'XX', flags: [] },
        ],
      },
      { name: 'get', type: 'pure-token', token: 'GET', flags: ['optional'] },
      {
        name: 'seconds_keepttl', type: 'oneof', flags: ['optional'], arguments: [
          { name: 'seconds', type: 'integer', token: 'EX', flags: [] },
          { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL', flags: [] },
        ],
      },
    ]);
    expect(parseSyntax('parameter value [parameter value ...]')).toEqual([
      {
        name: 'parameter_value', type: 'block', flags: ['multiple'], arguments: [
          { name: 'parameter', type: 'string', flags: [] },
          { name: 'value', type: 'string', flags: [] },
        ],
      },
    ]);
    expect(parseSyntax('[PREFIX prefix [PREFIX prefix ...]]')).toEqual([
      { name: 'prefix', type: 'string', token: 'PREFIX', flags: ['optional', 'multiple', 'multiple_token'] },
    ]);
    expect(parseSyntax('[LIMIT offset count]')).toEqual([
      {
        name: 'limit', type: 'block', token: 'LIMIT', flags: ['optional'], arguments: [
          { name: 'offset', type: 'integer', flags: [] },
          { name: 'count', type: 'integer', flags: [] },
        ],
      },
    ]);
    expect(parseSyntax('<ON | OFF>')).toEqual([
      {
        name: 'on_off', type: 'oneof', flags: [], arguments: [
          { name: 'on', type: 'pure-token', token: 'ON', flags: [] },
          { name: 'off', type: 'pure-token', token: 'OFF', flags: [] },
        ],
      },
    ]);
    expect(parseSyntax('[TYPE <NORMAL | PUBSUB>]')[0]).toMatchObject({ type: 'oneof', token: 'TYPE', flags: ['optional'] });
    expect(parseSyntax('')).toEqual([]);
  });
});
