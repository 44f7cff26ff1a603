// ACL rules in-process: AclUser and Selector apply rules one at a time as
// Redis 7.0's ACLSetUser does, describe() turns them back into ACL LIST text.
// Texts marked "Redis 7.0.15" were obtained from redis-server 7.0.15 with
// ACL SETUSER u <rules> and ACL LIST while writing these tests. kvslab's
// command table is smaller than Redis's (no lists, hashes, pubsub, ...) and
// lists commands in table order where Redis uses its dict order, so the
// command part of a description can legitimately differ; where it does, the
// test asserts kvslab's own text and says why.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AclCommandIndex } from '../../src/acl/command-index.js';
import { describeCommandRules, describeSelector } from '../../src/acl/describe.js';
import { hashPassword, passwordMatches, validHash } from '../../src/acl/password.js';
import { mergeSelectorArgs, RuleError, ruleErrorText } from '../../src/acl/rules.js';
import { KEY_ALL, KEY_READ, KEY_WRITE, Selector } from '../../src/acl/selector.js';
import { AclUser } from '../../src/acl/user.js';
import { buildCommandTable } from '../../src/commands/families.js';

/** The ACL's view of the real command table (built once: it does not change). */
function commandIndex(): AclCommandIndex {
  return new AclCommandIndex(buildCommandTable());
}

const index = commandIndex();

/** A fresh user with `rules` applied in order; throws on the first rule that fails. */
function user(...rules: string[]): AclUser {
  const u = new AclUser('u', index);
  for (const r of rules) {
    const err = u.apply(r);
    if (err !== null) throw new Error(`rule ${r}: ${ruleErrorText(err)}`);
  }
  u.refresh();
  return u;
}

/** The error the first failing rule gives, or null when all apply. */
function firstError(...rules: string[]): RuleError | null {
  const u = new AclUser('u', index);
  for (const r of rules) {
    const err = u.apply(r);
    if (err !== null) return err;
  }
  return null;
}

/** What ACL LIST shows for a user named u with these rules. */
function aclList(...rules: string[]): string {
  return `user u ${user(...rules).describe()}`;
}

function id(name: string): number {
  const i = index.lookup(name);
  if (i < 0) throw new Error(`no command ${name}`);
  return i;
}

/** Whether the root selector lets `argv` run (keys aside). */
function may(u: AclUser, ...argv: string[]): boolean {
  const name = argv.length > 1 && index.lookup(`${argv[0]}|${argv[1]}`) >= 0 ? `${argv[0]}|${argv[1]}` : argv[0];
  return u.root.commandAllowed(id(name), argv.map((a) => Buffer.from(a, 'latin1')));
}

const key = (s: string) => Buffer.from(s, 'latin1');
const sha = (s: string) => createHash('sha256').update(Buffer.from(s, 'latin1')).digest('hex');

describe('command index', () => {
  it('looks up commands and container subcommands in any case, one level deep', () => {
    expect(index.lookup('GET')).toBe(index.lookup('get'));
    expect(index.parent[id('config|get')]).toBe(id('config'));
    expect(index.lookup('Config|GET')).toBe(id('config|get'));
    // No such command; a subcommand of a command without subcommands; two levels.
    expect([index.lookup('nosuch'), index.lookup('get|x'), index.lookup('config|get|x'), index.lookup('config|nosuch')]).toEqual([-1, -1, -1, -1]);
    // A subcommand's name alone is not a top-level command.
    expect(index.lookup('config|')).toBe(-1);
  });
});

describe('commands: +@all, -@all, +cmd, -cmd', () => {
  it('a new user allows nothing; +@all everything, commands added later included; -@all nothing again', () => {
    const fresh = user();
    expect([may(fresh, 'get', 'k'), may(fresh, 'ping')]).toEqual([false, false]);
    const all = user('+@all');
    expect([may(all, 'get', 'k'), may(all, 'config', 'set', 'x', 'y'), all.root.allCommands, all.root.futureCommands]).toEqual([true, true, true, true]);
    const none = user('+@all', '-@all');
    expect([may(none, 'get', 'k'), none.root.allCommands, none.root.futureCommands]).toEqual([false, false, false]);
    // allcommands / nocommands are the same rules.
    expect(user('allcommands').root.allowed).toEqual(all.root.allowed);
    expect(user('+@all', 'nocommands').root.allowed).toEqual(none.root.allowed);
  });

  it('+cmd and -cmd change one command; names are case-insensitive', () => {
    const u = user('+GET', '+set', '-set');
    expect([may(u, 'get', 'k'), may(u, 'set', 'k', 'v'), may(u, 'del', 'k')]).toEqual([true, false, false]);
    const v = user('+@all', '-get');
    expect([may(v, 'get', 'k'), may(v, 'set', 'k', 'v'), v.root.allCommands, v.root.futureCommands]).toEqual([false, true, false, true]);
  });

  it('unknown commands and categories are NoEntry, for + and - alike (Redis 7.0.15: the same errors)', () => {
    expect(['+nosuch', '-nosuch', '+@nosuch', '-@nosuch', '+get|x|y', '+config|nosuch'].map((r) => firstError(r)))
      .toEqual([RuleError.NoEntry, RuleError.NoEntry, RuleError.NoEntry, RuleError.NoEntry, RuleError.NoEntry, RuleError.NoEntry]);
    // Anything that is no rule at all is a syntax error.
    expect([firstError('bogus'), firstError('get'), firstError('')]).toEqual([RuleError.Syntax, RuleError.Syntax, null]);
  });
});

describe('commands: subcommands and first arguments', () => {
  it('+config|get allows that subcommand only; +config allows the container and every subcommand', () => {
    const u = user('+config|get');
    expect([may(u, 'config', 'get', 'x'), may(u, 'config', 'set', 'x', 'y')]).toEqual([true, false]);
    expect(u.root.allowed[id('config')]).toBe(0);
    const v = user('+config');
    expect(index.subs[id('config')].every((s) => v.root.allowed[s] === 1)).toBe(true);
    const w = user('+@all', '-config', '+config|get');
    expect([may(w, 'config', 'get', 'x'), may(w, 'config', 'rewrite')]).toEqual([true, false]);
  });

  it('+select|0 allows SELECT with that first argument only (any case), and -select or +select drops the list', () => {
    const u = user('+select|0', '+debug|Object');
    expect([may(u, 'select', '0'), may(u, 'select', '1'), may(u, 'select')]).toEqual([true, false, false]);
    expect([may(u, 'debug', 'OBJECT', 'k'), may(u, 'debug', 'sleep', '0')]).toEqual([true, false]);
    expect(u.root.firstArgs?.get(id('select'))).toEqual(['0']);
    // Duplicates are kept once, compared without case.
    expect(user('+select|0', '+select|0', '+SELECT|0').root.firstArgs?.get(id('select'))).toEqual(['0']);
    expect(user('+select|0', '-select').root.firstArgs?.has(id('select'))).toBe(false);
    expect(user('+select|0', '+@all').root.firstArgs).toBe(null);
  });

  it('first-arg rules that Redis refuses: of a subcommand, or an empty one (Redis 7.0.15: same errors)', () => {
    expect(firstError('+config|get|x')).toBe(RuleError.SubcommandFirstArg);
    expect(firstError('+get|')).toBe(RuleError.Syntax);
  });
});

describe('commands: categories', () => {
  it('+@read -@write allows reads only', () => {
    const u = user('+@read', '-@write');
    expect([may(u, 'get', 'k'), may(u, 'mget', 'a', 'b'), may(u, 'set', 'k', 'v'), may(u, 'incr', 'k'), may(u, 'ping')])
      .toEqual([true, true, false, false, false]);
  });

  it('category names are case-insensitive; kvslab adds @kvtensor (Redis 7.0.15 has no such category)', () => {
    expect(user('+@READ').root.allowed).toEqual(user('+@read').root.allowed);
    const u = user('+@kvtensor');
    expect([may(u, 'kv.slice', 'k'), may(u, 'kv.put', 'k'), may(u, 'get', 'k')]).toEqual([true, true, false]);
  });

  it('-@dangerous takes KEYS and FLUSHALL out of +@all, and leaves GET', () => {
    const u = user('+@all', '-@dangerous');
    expect([may(u, 'keys', '*'), may(u, 'flushall'), may(u, 'get', 'k')]).toEqual([false, false, true]);
  });
});

describe('keys', () => {
  it('~pattern grants read and write on matching keys only', () => {
    const s = user('~cache:*').root;
    expect([s.keyAllowed(key('cache:1'), KEY_READ), s.keyAllowed(key('cache:1'), KEY_WRITE), s.keyAllowed(key('cache:1'), KEY_ALL)])
      .toEqual([true, true, true]);
    expect([s.keyAllowed(key('other'), KEY_READ), s.keyAllowed(key('Cache:1'), KEY_READ)]).toEqual([false, false]);
  });

  it('%R~ grants reads, %W~ writes, %RW~ both; need 0 takes any pattern', () => {
    const s = user('%R~r:*', '%W~w:*', '%RW~rw:*').root;
    const grid = (k: string) => [KEY_READ, KEY_WRITE, KEY_ALL, 0].map((need) => s.keyAllowed(key(k), need));
    expect(grid('r:1')).toEqual([true, false, false, true]);
    expect(grid('w:1')).toEqual([false, true, false, true]);
    expect(grid('rw:1')).toEqual([true, true, true, true]);
    expect(grid('x')).toEqual([false, false, false, false]);
    // Flags in either order and case.
    expect(user('%wr~k').root.patterns.map((p) => p.flags)).toEqual([KEY_ALL]);
  });

  it('the same pattern twice merges its permissions (Redis 7.0.15: %R~x %W~x lists as ~x)', () => {
    const s = user('%R~x', '%W~x').root;
    expect(s.patterns.map((p) => [p.text, p.flags])).toEqual([['x', KEY_ALL]]);
    expect(aclList('%R~x', '%W~x')).toBe('user u off ~x resetchannels -@all');
  });

  it('allkeys (or ~*) allows every key; %R~* is only a read pattern', () => {
    expect(user('allkeys').root.keyAllowed(key('anything'), KEY_ALL)).toBe(true);
    expect(user('~a', '~*').root.patterns).toEqual([]);
    const r = user('%R~*').root;
    expect([r.allKeys, r.keyAllowed(key('k'), KEY_READ), r.keyAllowed(key('k'), KEY_WRITE)]).toEqual([false, true, false]);
  });

  it('a pattern after allkeys is refused until resetkeys (Redis 7.0.15: the AfterAllKeys text)', () => {
    expect(firstError('allkeys', '~x')).toBe(RuleError.AfterAllKeys);
    expect(firstError('~*', '%R~x')).toBe(RuleError.AfterAllKeys);
    const s = user('allkeys', 'resetkeys', '~q').root;
    expect([s.allKeys, s.keyAllowed(key('q'), KEY_ALL), s.keyAllowed(key('z'), KEY_READ)]).toEqual([false, true, false]);
  });

  it('key pattern syntax errors (Redis 7.0.15: all Syntax error)', () => {
    expect(['%~x', '%X~x', '%RR~x', '%Rx', '~a b', '~a\tb'].map((r) => firstError(r)))
      .toEqual([RuleError.Syntax, RuleError.Syntax, RuleError.Syntax, RuleError.Syntax, RuleError.Syntax, RuleError.Syntax]);
  });

  it('patterns are bytes: matched binary-safe and case-sensitive', () => {
    const s = user('~k\xff*').root;
    expect([s.keyAllowed(Buffer.from([0x6b, 0xff, 0x00]), KEY_READ), s.keyAllowed(key('k'), KEY_READ)]).toEqual([true, false]);
    // The empty pattern matches the empty key only.
    const e = user('~').root;
    expect([e.keyAllowed(key(''), KEY_READ), e.keyAllowed(key('a'), KEY_READ)]).toEqual([true, false]);
  });
});

describe('channels', () => {
  it('&pattern adds a channel pattern once; &* / allchannels allow all; resetchannels clears', () => {
    expect(user('&chan', '&news.*', '&chan').root.channels).toEqual(['chan', 'news.*']);
    expect(user('&x', 'allchannels').root).toMatchObject({ allChannels: true, channels: [] });
    expect(user('&*', 'resetchannels', '&a').root).toMatchObject({ allChannels: false, channels: ['a'] });
  });

  it('a channel after allchannels is refused (Redis 7.0.15: the AfterAllChannels text); spaces are a syntax error', () => {
    expect(firstError('allchannels', '&x')).toBe(RuleError.AfterAllChannels);
    expect(firstError('&a b')).toBe(RuleError.Syntax);
  });
});

describe('passwords', () => {
  // Digests as Redis 7.0.15 lists them (ACL SETUSER u >pw; ACL LIST).
  const PW = '30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4';
  const A = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
  const B = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';

  it('hashPassword is the SHA-256 of the bytes in lower-case hex', () => {
    expect([hashPassword('pw'), hashPassword('a'), hashPassword('b')]).toEqual([PW, A, B]);
    // A latin1 string is bytes: "\xe9" is the one byte 0xe9, not its UTF-8 encoding.
    expect(hashPassword('\xe9')).toBe(createHash('sha256').update(Buffer.from([0xe9])).digest('hex'));
    expect(hashPassword('')).toBe(sha(''));
  });

  it('validHash takes exactly 64 lower-case hex digits', () => {
    expect(validHash(PW)).toBe(true);
    expect([validHash(PW.slice(1)), validHash(`${PW}0`), validHash(PW.toUpperCase()), validHash(`g${PW.slice(1)}`), validHash('')])
      .toEqual([false, false, false, false, false]);
  });

  it('passwordMatches checks a password against every digest', () => {
    expect([passwordMatches([A, B], 'a'), passwordMatches([A, B], 'b'), passwordMatches([A, B], 'c'), passwordMatches([], '')])
      .toEqual([true, true, false, false]);
  });

  it('>pw adds a digest once, <pw removes it; removing an absent one fails', () => {
    expect(user('>a', '>b', '>a').passwords).toEqual([A, B]);
    expect(user('>a', '>b', '<a').passwords).toEqual([B]);
    expect(firstError('<nopw')).toBe(RuleError.NoSuchPassword);
  });

  it('#hash adds and !hash removes a digest given as such; a malformed one is BadHash (Redis 7.0.15: same errors)', () => {
    expect(user(`#${A}`).passwords).toEqual([A]);
    expect(user('>a', `!${A}`).passwords).toEqual([]);
    expect([firstError('#abc'), firstError(`#${A.toUpperCase()}`), firstError(`!${'g'.repeat(64)}`)])
      .toEqual([RuleError.BadHash, RuleError.BadHash, RuleError.BadHash]);
    // A well-formed digest that is not there.
    expect(firstError(`!${'a'.repeat(64)}`)).toBe(RuleError.NoSuchPassword);
  });

  it('nopass drops the passwords; a password after it drops nopass; resetpass drops both', () => {
    const n = user('>a', 'nopass');
    expect([n.nopass, n.passwords]).toEqual([true, []]);
    const p = user('nopass', '>a');
    expect([p.nopass, p.passwords]).toEqual([false, [A]]);
    const r = user('nopass', 'resetpass');
    expect([r.nopass, r.passwords]).toEqual([false, []]);
    expect(user('>a', 'resetpass').passwords).toEqual([]);
  });
});

describe('flags', () => {
  it('on/off (any case) switch the user; a new user is off', () => {
    expect([user().enabled, user('on').enabled, user('on', 'off').enabled, user('ON').enabled]).toEqual([false, true, false, true]);
  });

  it('skip-sanitize-payload and sanitize-payload exclude each other', () => {
    expect(user('skip-sanitize-payload').flagNames()).toEqual(['off', 'skip-sanitize-payload']);
    expect(user('skip-sanitize-payload', 'sanitize-payload').flagNames()).toEqual(['off', 'sanitize-payload']);
    expect(user('on', 'nopass').flagNames()).toEqual(['on', 'nopass']);
  });

  it('reset: off, sanitize-payload, no passwords, keys, channels, commands or selectors', () => {
    const u = user('on', '>a', '~k', '&c', '+@all', '(~x +get)', 'reset');
    expect([u.enabled, u.passwords, u.selectors.length, u.root.patterns, u.root.channels, u.root.allCommands])
      .toEqual([false, [], 1, [], [], false]);
    // Redis 7.0.15: ACL LIST after "on ~k +@all reset".
    expect(aclList('on', '~k', '+@all', 'reset')).toBe('user u off sanitize-payload resetchannels -@all');
  });
});

describe('selectors', () => {
  it('"(...)" adds a selector of its own rules; the root is unchanged', () => {
    const u = user('+@all', '(~x +get)', '(%R~y +@read)');
    expect(u.selectors.length).toBe(3);
    const [root, s1, s2] = u.selectors;
    expect([root.allCommands, root.patterns]).toEqual([true, []]);
    expect([s1.commandAllowed(id('get'), [key('get'), key('x')]), s1.commandAllowed(id('set'), [key('set')]), s1.keyAllowed(key('x'), KEY_ALL)])
      .toEqual([true, false, true]);
    expect([s2.keyAllowed(key('y'), KEY_READ), s2.keyAllowed(key('y'), KEY_WRITE)]).toEqual([true, false]);
  });

  it('a bad rule inside a selector fails the whole selector, which is not added', () => {
    const u = new AclUser('u', index);
    expect(u.apply('(~x nosuch)')).toBe(RuleError.Syntax);
    expect(u.apply('(+nosuch)')).toBe(RuleError.NoEntry);
    expect(u.apply('(allkeys ~x)')).toBe(RuleError.AfterAllKeys);
    expect(u.selectors.length).toBe(1);
  });

  it('clearselectors keeps the root only', () => {
    const u = user('+@all', '(~x +get)', '(~y +set)', 'clearselectors');
    expect(u.selectors).toEqual([u.root]);
    expect(u.root.allCommands).toBe(true);
  });

  it('copyFrom copies selectors, not shares them', () => {
    const a = user('~k', '(~x +get)');
    const b = new AclUser('b', index);
    b.copyFrom(a);
    b.apply('~more');
    b.selectors[1].apply('+set');
    expect(a.root.patterns.map((p) => p.text)).toEqual(['k']);
    expect(a.selectors[1].allowed[id('set')]).toBe(0);
    expect(b.describe()).toBe('off ~k ~more resetchannels -@all (~x resetchannels -@all +get +set)');
  });
});

describe('mergeSelectorArgs', () => {
  it('joins a selector spread over arguments with single spaces; other rules pass through', () => {
    expect(mergeSelectorArgs(['on', '(+get', '~k)', '>pw'])).toEqual({ rules: ['on', '(+get ~k)', '>pw'] });
    expect(mergeSelectorArgs(['(', '~a', '+get', ')'])).toEqual({ rules: ['( ~a +get )'] });
    expect(mergeSelectorArgs(['(~a)', '(~b', 'x)'])).toEqual({ rules: ['(~a)', '(~b x)'] });
    expect(mergeSelectorArgs([])).toEqual({ rules: [] });
  });

  it('an unclosed "(" reports the argument that opened it (Redis 7.0.15: "Unmatched parenthesis ... starting at")', () => {
    expect(mergeSelectorArgs(['on', '(+get', '~k'])).toEqual({ unmatchedAt: 1 });
    // "(~a) " does not end in ")": it opens a selector that never closes.
    expect(mergeSelectorArgs(['(~a) '])).toEqual({ unmatchedAt: 0 });
    expect(mergeSelectorArgs(['(~a)', '(~b'])).toEqual({ unmatchedAt: 1 });
  });

  it('merged selectors apply as Redis 7.0.15 does: "( ~a +get )" is a selector; "(~a (~b)" is a syntax error', () => {
    const merged = mergeSelectorArgs(['(', '~a', '+get', ')']);
    if (!('rules' in merged)) throw new Error('unmatched');
    expect(aclList(...merged.rules)).toBe('user u off resetchannels -@all (~a resetchannels -@all +get)');
    const bad = mergeSelectorArgs(['on', '(~a', '(~b)']);
    expect(bad).toEqual({ rules: ['on', '(~a (~b)'] });
    expect(firstError('on', '(~a (~b)')).toBe(RuleError.Syntax);
  });
});

describe('ruleErrorText', () => {
  it('each error has the text Redis 7.0.15 replies with after "Error in ACL SETUSER modifier \'...\': "', () => {
    expect([
      RuleError.NoEntry, RuleError.Syntax, RuleError.AfterAllKeys, RuleError.AfterAllChannels,
      RuleError.NoSuchPassword, RuleError.BadHash, RuleError.SubcommandFirstArg,
    ].map(ruleErrorText)).toEqual([
      'Unknown command or category name in ACL',
      'Syntax error',
      "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
      "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
      'The password you are trying to remove from the user does not exist',
      'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
      'Allowing first-arg of a subcommand is not supported',
    ]);
    // Only reachable from an ACL file with a user twice (the text of Redis 7.0's ACLSetUserStringError).
    expect(ruleErrorText(RuleError.DuplicateUser)).toBe('Duplicate user found. A user can only be defined once in config files');
  });
});

/** The first-arg lists that matter: of commands the bitmap denies ("+select +select|0" keeps a list that does nothing, as Redis does). */
function deniedFirstArgs(s: Selector): [number, string[]][] {
  return [...(s.firstArgs ?? new Map<number, string[]>())].filter(([cmd, args]) => s.allowed[cmd] === 0 && args.length > 0)
    .sort((x, y) => x[0] - y[0]);
}

describe('describe(): ACL LIST text', () => {
  it('flags, digests, keys, channels and category-only commands: exactly what Redis 7.0.15 lists', () => {
    const cases: [string[], string][] = [
      [[], 'user u off resetchannels -@all'],
      [['on'], 'user u on resetchannels -@all'],
      [['on', '>pw', '~k*', '+@read'], `user u on #${sha('pw')} ~k* resetchannels -@all +@read`],
      [['on', 'nopass', '~*', '&*', '+@all'], 'user u on nopass ~* &* +@all'],
      [['+@all', '-@write'], 'user u off resetchannels +@all -@write'],
      [['+@read', '-@write'], 'user u off resetchannels -@all +@read'],
      [['+@read', '+@write'], 'user u off resetchannels -@all +@write +@read'],
      [['+@read', '+@write', '-@write'], 'user u off resetchannels -@all +@read'],
      [['+@all', '-@read', '-@write'], 'user u off resetchannels +@all -@write -@read'],
      [['+@bitmap', '+@string'], 'user u off resetchannels -@all +@string +@bitmap'],
      [['+@all', '-@admin'], 'user u off resetchannels +@all -@admin'],
      [['+@all', '-@dangerous'], 'user u off resetchannels +@all -@dangerous'],
      [['on', 'nopass', 'allkeys', 'allchannels', 'allcommands', '-@dangerous'], 'user u on nopass ~* &* +@all -@dangerous'],
      [['+@fast'], 'user u off resetchannels -@all +@fast'],
      [['+@string'], 'user u off resetchannels -@all +@string'],
      [['+@connection'], 'user u off resetchannels -@all +@connection'],
      [['+@transaction'], 'user u off resetchannels -@all +@transaction'],
      [['-@all', '+@connection', '+@transaction', '+info'], 'user u off resetchannels -@all +@connection +@transaction +info'],
      [['~a', '%R~b', '%W~c', '%RW~d'], 'user u off ~a %R~b %W~c ~d resetchannels -@all'],
      [['~a', '%R~a'], 'user u off ~a resetchannels -@all'],
      [['%R~*'], 'user u off %R~* resetchannels -@all'],
      [['%R~*', '~*'], 'user u off ~* resetchannels -@all'],
      [['allkeys'], 'user u off ~* resetchannels -@all'],
      [['~a', '~*', 'resetkeys'], 'user u off resetchannels -@all'],
      [['~'], 'user u off ~ resetchannels -@all'],
      [['%R~'], 'user u off %R~ resetchannels -@all'],
      [['&chan', '&news.*'], 'user u off resetchannels &chan &news.* -@all'],
      [['allchannels'], 'user u off &* -@all'],
      [['&*', 'resetchannels', '&a'], 'user u off resetchannels &a -@all'],
      [['&'], 'user u off resetchannels & -@all'],
      [['>a', '>b', '<a'], `user u off #${sha('b')} resetchannels -@all`],
      [['>a', 'nopass'], 'user u off nopass resetchannels -@all'],
      [['nopass', '>a'], `user u off #${sha('a')} resetchannels -@all`],
      [[`#${'a'.repeat(64)}`], `user u off #${'a'.repeat(64)} resetchannels -@all`],
      [['skip-sanitize-payload'], 'user u off skip-sanitize-payload resetchannels -@all'],
      [['sanitize-payload'], 'user u off sanitize-payload resetchannels -@all'],
      [['~k', '&c', '>x', 'on', '+get', 'skip-sanitize-payload'], `user u on skip-sanitize-payload #${sha('x')} ~k resetchannels &c -@all +get`],
      [['+@all', '(~x +get)', '(%R~y +@read)'], 'user u off resetchannels +@all (~x resetchannels -@all +get) (%R~y resetchannels -@all +@read)'],
      [['+@all', '(~x +get)', 'clearselectors'], 'user u off resetchannels +@all'],
      [['(~x allkeys)'], 'user u off resetchannels -@all (~* resetchannels -@all)'],
      [['()'], 'user u off resetchannels -@all (resetchannels -@all)'],
      [['(+@all ~* &*)'], 'user u off resetchannels -@all (~* &* +@all)'],
      [['+@all', '~*', '&*', '(+get ~a)', '(+set %W~b &c)'], 'user u off ~* &* +@all (~a resetchannels -@all +get) (%W~b resetchannels &c -@all +set)'],
    ];
    expect(cases.map(([rules]) => [rules, aclList(...rules)])).toEqual(cases);
  });

  it('single commands, subcommands and first args on top of the categories: as Redis 7.0.15 lists them', () => {
    const cases: [string[], string][] = [
      [['+get', '-get'], 'user u off resetchannels -@all'],
      [['+@read', '-get'], 'user u off resetchannels -@all +@read -get'],
      [['+@all', '-get', '-set'], 'user u off resetchannels +@all -get -set'],
      [['+@all', '-get', '+get'], 'user u off resetchannels +@all'],
      [['+@all', '-@all', '+get'], 'user u off resetchannels -@all +get'],
      [['+@all', '-@write', '+set'], 'user u off resetchannels +@all -@write +set'],
      [['+get', '+set', '+del', '+@keyspace'], 'user u off resetchannels -@all +@keyspace +get +set'],
      [['+config|get'], 'user u off resetchannels -@all +config|get'],
      [['-@all', '+config'], 'user u off resetchannels -@all +config'],
      [['+@all', '-config|set'], 'user u off resetchannels +@all -config|set'],
      [['+@all', '-config', '+config|get'], 'user u off resetchannels +@all -config +config|get'],
      [['+select|0'], 'user u off resetchannels -@all +select|0'],
      [['+select|0', '+select|1'], 'user u off resetchannels -@all +select|0 +select|1'],
      [['+select', '+select|0'], 'user u off resetchannels -@all +select'],
      [['+select|0', '+select'], 'user u off resetchannels -@all +select'],
      [['+select|0', '-select'], 'user u off resetchannels -@all'],
      [['+select|0', '+@all'], 'user u off resetchannels +@all'],
      [['+select|0', '-@connection'], 'user u off resetchannels -@all'],
      [['+@all', '-select', '+select|0'], 'user u off resetchannels +@all -select +select|0'],
      [['+@all', '-debug', '+debug|object'], 'user u off resetchannels +@all -debug +debug|object'],
      [['+debug'], 'user u off resetchannels -@all +debug'],
    ];
    expect(cases.map(([rules]) => [rules, aclList(...rules)])).toEqual(cases);
  });

  it('where kvslab\'s smaller command table makes the command part differ from Redis 7.0.15', () => {
    // Redis: "+@pubsub" (it has PUBLISH, SUBSCRIBE, ...). kvslab has no @pubsub command, so
    // the category allows nothing and the bitmap describes as "-@all".
    expect(aclList('+@pubsub')).toBe('user u off resetchannels -@all');
    // Redis lists the @dangerous @keyspace commands it has (restore, migrate, ...) in its dict
    // order: "-restore -restore-asking -flushall -swapdb -flushdb -migrate -keys". kvslab has six
    // of them (not RESTORE-ASKING) and lists them in table order.
    expect(aclList('+@keyspace', '-@dangerous')).toBe('user u off resetchannels -@all +@keyspace -keys -flushdb -flushall -swapdb -restore -migrate');
    // Same commands as Redis ("+get +lcs +strlen +substr +mget +getrange"), in table order.
    expect(aclList('+@string', '-@write')).toBe('user u off resetchannels -@all +get +mget +strlen +getrange +substr +lcs');
    // Redis: "+client|setname +client|id" (dict order).
    expect(aclList('+client|id', '+client|setname')).toBe('user u off resetchannels -@all +client|id +client|setname');
    // Redis 7.0.15 refuses @kvtensor (no such category there).
    expect(aclList('+@all', '-@kvtensor')).toBe('user u off resetchannels +@all -@kvtensor');
    // Redis picks a dozen categories of commands kvslab lacks (+@sortedset +@hash ...); kvslab
    // has @string, @kvtensor, @bitmap and @keyspace to choose from.
    expect(aclList('on', '>pw', '~cache:*', '%R~ro:*', '&news', '+@read', '+@write', '-flushdb', '-keys'))
      .toBe(`user u on #${sha('pw')} ~cache:* %R~ro:* resetchannels &news -@all +@string +@kvtensor +@bitmap +@keyspace -keys -flushdb +memory|usage -object|help`);
  });

  it('describeSelector and describeCommandRules give the parts of a selector', () => {
    const s = new Selector(index);
    for (const r of ['%W~w', '&c', '+@read', '-get']) expect(s.apply(r)).toBe(null);
    expect(describeCommandRules(s)).toBe('-@all +@read -get');
    expect(describeSelector(s)).toBe('%W~w resetchannels &c -@all +@read -get');
    expect(s.describeKeys()).toBe('%W~w');
    expect(s.describeChannels()).toBe('&c');
  });

  it('replaying a description gives the same permissions back (random rule lists)', () => {
    const names = ['get', 'set', 'del', 'keys', 'config', 'config|get', 'client|id', 'select', 'kv.put', 'acl|whoami'];
    const cats = ['all', 'read', 'write', 'keyspace', 'string', 'fast', 'slow', 'dangerous', 'admin', 'connection', 'kvtensor'];
    const rule = fc.oneof(
      fc.tuple(fc.constantFrom('+', '-'), fc.constantFrom(...names)).map(([s, n]) => s + n),
      fc.tuple(fc.constantFrom('+@', '-@'), fc.constantFrom(...cats)).map(([s, n]) => s + n),
      fc.constantFrom('+select|0', '+select|5', '+debug|object', '~a*', '%R~b', '%W~c', 'allkeys', 'resetkeys', '&ch', 'allchannels', 'resetchannels'),
    );
    fc.assert(fc.property(fc.array(rule, { maxLength: 12 }), (rules) => {
      const a = new AclUser('u', index);
      for (const r of rules) a.apply(r);
      const text = a.describe();
      const b = new AclUser('u', index);
      for (const r of text.split(' ')) expect(b.apply(r)).toBe(null);
      expect(b.describe()).toBe(text);
      expect(b.root.allowed).toEqual(a.root.allowed);
      expect(deniedFirstArgs(b.root)).toEqual(deniedFirstArgs(a.root));
    }), { numRuns: 300 });
  });
});

describe('unrestricted', () => {
  it('is set by refresh() when the root allows every command on every key', () => {
    const u = new AclUser('u', index);
    u.apply('+@all');
    u.apply('~*');
    // Rules alone do not update it: refresh() does.
    expect(u.unrestricted).toBe(false);
    u.refresh();
    expect(u.unrestricted).toBe(true);
    u.apply('-get');
    expect(u.unrestricted).toBe(true);
    u.refresh();
    expect(u.unrestricted).toBe(false);
  });

  it('needs allkeys and +@all on the root; a selector, %RW~* or re-adding a removed command does not give it', () => {
    expect(user('+@all').unrestricted).toBe(false);
    expect(user('allkeys').unrestricted).toBe(false);
    expect(user('%RW~*', '+@all').unrestricted).toBe(false);
    expect(user('(+@all ~*)').unrestricted).toBe(false);
    // Every bit is set again, but allCommands was cleared by -get: the slow path checks the bitmap.
    const back = user('+@all', '~*', '-get', '+get');
    expect([back.unrestricted, back.root.allowed.every((b) => b === 1)]).toEqual([false, true]);
    // The default user's rules.
    expect(user('+@all', '~*', '&*', 'on', 'nopass').unrestricted).toBe(true);
    // copyFrom refreshes.
    const c = new AclUser('c', index);
    c.copyFrom(user('allcommands', 'allkeys'));
    expect(c.unrestricted).toBe(true);
  });
});
