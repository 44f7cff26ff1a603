// Key extraction from the command model, in-process: COMMAND GETKEYSANDFLAGS
// (run through dispatch on a TestContext) for every command and subcommand
// against the table of expectations in key-specs.expected.ts (Redis 7.0.15's
// answers, and kvslab's own commands checked by hand), then the model's
// functions on key spec shapes no kvslab command declares yet (keyword
// searches, key counts) against Redis's rules for them.

import { describe, expect, it } from 'vitest';
import { KEYS_CASES } from './key-specs.expected.js';
import { TestServer } from '../helpers/context.js';
import {
  keyAt, keysBySpecs, keysFrom, legacyRange, KS_INCOMPLETE, KS_RO, KS_RW, KS_ACCESS, KS_UPDATE, type KeyRef, type KeySpec,
} from '../../src/commands/model/key-specs.js';

const server = new TestServer();

/** What GETKEYSANDFLAGS replies for `argv`: [key, flags] pairs, or the error. */
function getKeysAndFlags(argv: string[]): unknown {
  const c = server.connect();
  // One word cannot be asked through COMMAND (its arity is -4): the same handler, called directly.
  if (argv.length === 1) return c.runHandler('command|getkeysandflags', 'COMMAND', 'GETKEYSANDFLAGS', ...argv);
  return c.run('COMMAND', 'GETKEYSANDFLAGS', ...argv);
}

describe('COMMAND GETKEYSANDFLAGS for every command, against Redis 7.0.15 (and kvslab\'s own by hand)', () => {
  it('covers every command and subcommand of the table', () => {
    const named = new Set(KEYS_CASES.map((k) => server.commands.lookupArgv(k.argv.map((a) => Buffer.from(a)))?.name));
    const missing = [...server.commands.everyCommand()].filter((cmd) => cmd.subcommands.length === 0 && !named.has(cmd.name)).map((c) => c.name);
    expect(missing).toEqual([]);
  });

  for (const k of KEYS_CASES) {
    it(`${k.argv.join(' ')} (${k.source})`, () => {
      const want = k.error !== undefined ? { error: k.error } : k.keys!.map((r) => [k.argv[r.pos], r.flags]);
      expect(getKeysAndFlags(k.argv)).toEqual(want);
    });
  }
});

describe('key spec shapes (Redis 7\'s getKeysUsingKeySpecs)', () => {
  const argv = (s: string) => s.split(' ').map((a) => Buffer.from(a));
  const keys = (specs: KeySpec[], line: string): KeyRef[] | null => {
    const out: KeyRef[] = [];
    return keysBySpecs(specs, argv(line), out) ? out : null;
  };

  it('a range with a limit takes 1/limit of what follows (lastkey -1, limit 2: the first half)', () => {
    const spec: KeySpec = { flags: KS_RO, begin: { index: 1 }, find: { lastkey: -1, keystep: 1, limit: 2 } };
    expect(keys([spec], 'CMD a b c d')?.map((r) => r.pos)).toEqual([1, 2]);
  });

  it('a keyword search starts after the keyword (XREAD STREAMS k1 k2 id1 id2 style), searched backwards from the end', () => {
    const spec: KeySpec = { flags: KS_RO | KS_ACCESS, begin: { keyword: 'streams', startFrom: -2 }, find: { lastkey: -1, keystep: 1, limit: 2 } };
    expect(keys([spec], 'XREAD COUNT 2 STREAMS k1 k2 0 0')?.map((r) => r.pos)).toEqual([4, 5]);
    // The keyword is matched as strcasecmp does, and a spec whose keyword is absent names no key.
    expect(keys([spec], 'XREAD COUNT 2 streams k1 0')?.map((r) => r.pos)).toEqual([4]);
    expect(keys([spec], 'XREAD COUNT 2 k1 0')).toEqual([]);
  });

  it('a key count read from an argument (ZUNIONSTORE dst numkeys k1 k2 style); a bad count fails the whole extraction', () => {
    const specs: KeySpec[] = [
      keyAt(1, KS_RW | KS_UPDATE),
      { flags: KS_RO | KS_ACCESS, begin: { index: 2 }, find: { keynumIdx: 0, firstKey: 1, keystep: 1 } },
    ];
    expect(keys(specs, 'ZUNIONSTORE d 2 a b WEIGHTS 1 2')?.map((r) => [r.pos, r.flags])).toEqual([[1, KS_RW | KS_UPDATE], [3, KS_RO | KS_ACCESS], [4, KS_RO | KS_ACCESS]]);
    expect(keys(specs, 'ZUNIONSTORE d x a b')).toBeNull();
    expect(keys(specs, 'ZUNIONSTORE d -1 a')).toBeNull();
    // Positions past the arguments are left out (the handler reports the arity problem).
    expect(keys(specs, 'ZUNIONSTORE d 3 a')?.map((r) => r.pos)).toEqual([1, 3]);
  });

  it('an incomplete spec that applies fails the extraction (the command\'s own finder answers); one whose keyword is absent does not', () => {
    const specs: KeySpec[] = [
      keyAt(3, KS_RW),
      { flags: KS_RW | KS_INCOMPLETE, begin: { keyword: 'keys', startFrom: -2 }, find: { lastkey: -1, keystep: 1, limit: 0 } },
    ];
    const out: KeyRef[] = [{ pos: 9, flags: KS_RO }];
    expect(keysBySpecs(specs, argv('MIGRATE h p x 0 5 KEYS a b'), out)).toBe(false);
    expect(out).toEqual([{ pos: 9, flags: KS_RO }]);
    expect(keys(specs, 'MIGRATE h p k 0 5 COPY')?.map((r) => r.pos)).toEqual([3]);
  });

  it('the legacy first/last/step and movablekeys derive from the specs as populateCommandLegacyRangeSpec does', () => {
    // One plain spec: copied (MSET: 1, -1, 2).
    expect(legacyRange([keysFrom(1, KS_RW, 2)])).toEqual({ range: [1, -1, 2], movable: false });
    // Consecutive single keys merge (RENAME: 1, 2, 1).
    expect(legacyRange([keyAt(1, KS_RW), keyAt(2, KS_RW)])).toEqual({ range: [1, 2, 1], movable: false });
    // A keyword or key-count spec cannot be a range: the keys move.
    const numkeys: KeySpec = { flags: KS_RO, begin: { index: 2 }, find: { keynumIdx: 0, firstKey: 1, keystep: 1 } };
    expect(legacyRange([keyAt(1, KS_RW), numkeys])).toEqual({ range: [1, 1, 1], movable: true });
    expect(legacyRange([numkeys])).toEqual({ range: [0, 0, 0], movable: true });
    // An incomplete spec is used, but marks the command movable.
    expect(legacyRange([{ ...keyAt(1, KS_RO), flags: KS_RO | KS_INCOMPLETE }])).toEqual({ range: [1, 1, 1], movable: true });
    expect(legacyRange([])).toEqual({ range: [0, 0, 0], movable: false });
  });
});
