// Expiry commands against real Redis 7: argument grammar, overflow limits,
// option conflicts, NX/XX/GT/LT decisions, rounding, exact int64 times,
// RESP3, COMMAND INFO, and a randomized sequence over the family with TTLs
// compared within a tolerance.

import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Argv, clockTolerance, compareOn, describeArgv, Pair, repliesEqual, startPair } from '../helpers/differential.js';
import { RawClient, Reply, show } from '../helpers/raw-client.js';

let pair: Pair;
beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await pair.stop(); });
beforeEach(async () => { await pair.reset(); });

const SET_CMDS = ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT'];
/** A Unix time (s) far enough ahead that nothing here expires, fixed for the file. */
const FUTURE = Math.floor(Date.now() / 1000) + 10_000_000;

/** The same reply bytes on the wire, integers beyond 2^53 included (no clock tolerance). */
async function sameWire(argv: Argv): Promise<void> {
  await compareOn(pair.k, pair.r, argv, { tolerance: 0 });
}

describe('argument errors', () => {
  it('arity', async () => {
    const cmds: Argv[] = [['TTL'], ['TTL', 'a', 'b'], ['PTTL'], ['EXPIRETIME'], ['PEXPIRETIME', 'a', 'b'], ['PERSIST'], ['PERSIST', 'a', 'b']];
    for (const c of SET_CMDS) cmds.push([c], [c, 'a']);
    await pair.sequence(cmds);
  });

  it('non-integer and out-of-range times, on present and missing keys', async () => {
    const bad = ['', ' 1', '1 ', '1.5', '+1', 'abc', '0x10', '1e3', '--1', Buffer.from('1\x00', 'latin1'), '9223372036854775808', '-9223372036854775809'];
    const edge = [
      '9223372036854775807', '-9223372036854775808', '9223372036854775', '9223372036854776', '-9223372036854775', '-9223372036854776',
      '9223372036854775806', '9223370000000000000', '9007199254740993', '-9007199254740993', '1000000000000001', '-1000000000000001',
    ];
    for (const key of ['present', 'missing']) {
      for (const cmd of SET_CMDS) {
        for (const t of [...bad, ...edge]) {
          await pair.same(['SET', 'present', 'v']);
          await sameWire([cmd, key, t]);
          await pair.same(['EXISTS', 'present']);
          // Relative times differ by the milliseconds between the two servers' clocks reads.
          if (cmd.endsWith('AT')) await sameWire(['PEXPIRETIME', 'present']);
          else await pair.same(['PEXPIRETIME', 'present'], { tolerance: 1500 });
        }
      }
    }
  });

  it('options: unknown words, C-string words, conflicts', async () => {
    await pair.same(['SET', 'k', 'v']);
    const optionSets: Argv[] = [
      ['FOO'], ['NX', 'FOO'], ['FOO', 'NX', 'XX'], [Buffer.from('fo\x00o', 'latin1')], [Buffer.from('nx\x00zz', 'latin1')], [''],
      ['NX', 'XX'], ['NX', 'GT'], ['NX', 'LT'], ['XX', 'GT'], ['XX', 'LT'], ['GT', 'LT'], ['GT', 'LT', 'NX'], ['LT', 'GT', 'XX'],
      ['NX', 'NX'], ['xx', 'XX', 'gt', 'GT'], ['nx'], ['lt', 'lt'],
    ];
    for (const cmd of SET_CMDS) {
      for (const o of optionSets) {
        for (const key of ['k', 'missing']) {
          await pair.same([cmd, key, 'abc', ...o]);
          await pair.same([cmd, key, '9223372036854775807', ...o]);
          // A future time, kept identical on both servers.
          await pair.same([cmd, key, cmd.endsWith('AT') ? String(cmd === 'PEXPIREAT' ? FUTURE * 1000 : FUTURE) : '100000', ...o]);
        }
      }
    }
  });
});

describe('NX, XX, GT, LT', () => {
  it('decide as Redis does against no TTL, a smaller and a larger TTL', async () => {
    const flagSets = [[], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT'], ['XX', 'LT']];
    const times = [FUTURE - 100, FUTURE, FUTURE + 100];
    for (const initial of [null, FUTURE]) {
      for (const flags of flagSets) {
        for (const t of times) {
          await pair.same(['SET', 'k', 'v']);
          if (initial !== null) await pair.same(['EXPIREAT', 'k', String(initial)]);
          await pair.same(['EXPIREAT', 'k', String(t), ...flags]);
          await pair.same(['EXPIRETIME', 'k']);
          await pair.same(['PEXPIREAT', 'k', String(t * 1000 + 1), ...flags]);
          await pair.same(['PEXPIRETIME', 'k']);
        }
      }
    }
  });

  it('a past time deletes the key whenever the conditions pass', async () => {
    for (const flags of [[], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'LT']]) {
      for (const withTtl of [false, true]) {
        for (const [cmd, t] of [['EXPIRE', '-10'], ['EXPIRE', '0'], ['PEXPIRE', '-1'], ['EXPIREAT', '1'], ['PEXPIREAT', '0'], ['EXPIREAT', '-9223372036854775'], ['PEXPIRE', '-9223372036854775808']]) {
          await pair.same(withTtl ? ['SET', 'k', 'v', 'EX', '1000'] : ['SET', 'k', 'v']);
          await pair.same([cmd, 'k', t, ...flags]);
          await pair.same(['EXISTS', 'k']);
        }
      }
    }
  });
});

describe('reading TTLs', () => {
  it('-2, -1, and rounded seconds', async () => {
    await pair.sequence([
      ['TTL', 'k'], ['PTTL', 'k'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'], ['PERSIST', 'k'],
      ['SET', 'k', 'v'], ['TTL', 'k'], ['PTTL', 'k'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'], ['PERSIST', 'k'],
    ]);
    for (const ms of ['000', '001', '499', '500', '501', '999']) {
      await pair.same(['PEXPIREAT', 'k', `${FUTURE}${ms}`]);
      await pair.same(['EXPIRETIME', 'k']);
      await pair.same(['PEXPIRETIME', 'k']);
    }
    await pair.sequence([['PEXPIRE', 'k', '100000'], ['TTL', 'k'], ['PTTL', 'k'], ['PERSIST', 'k'], ['PERSIST', 'k'], ['TTL', 'k']]);
  });

  it('keeps int64 times exactly, as Redis does', async () => {
    for (const [cmd, t] of [
      ['PEXPIREAT', '9223372036854775807'], ['PEXPIREAT', '9223372036854775806'], ['PEXPIREAT', '9007199254740993'],
      ['EXPIREAT', '9223372036854775'], ['EXPIREAT', '9007199254740993'], ['PEXPIREAT', '9223372036854775499'],
    ]) {
      await pair.same(['SET', 'k', 'v']);
      await sameWire([cmd, 'k', t]);
      await sameWire(['PEXPIRETIME', 'k']);
      await sameWire(['EXPIRETIME', 'k']);
      await pair.same(['TTL', 'k']);
      await pair.same(['PTTL', 'k'], { tolerance: 1500 });
      // Comparisons at full precision.
      await sameWire(['PEXPIREAT', 'k', '9223372036854775806', 'LT']);
      await sameWire(['PEXPIREAT', 'k', '9007199254740992', 'GT']);
      await sameWire(['PEXPIRETIME', 'k']);
    }
    // The exact time survives RENAME, COPY and MOVE.
    await pair.sequence([['SET', 'k', 'v'], ['PEXPIREAT', 'k', '9223372036854775807'], ['RENAME', 'k', 'r'], ['COPY', 'r', 'c'], ['MOVE', 'c', '1']]);
    await sameWire(['PEXPIRETIME', 'r']);
    await pair.same(['SELECT', '1']);
    await sameWire(['PEXPIRETIME', 'c']);
  });

  it('reply the same in RESP3', async () => {
    const [k3, r3] = await pair.connect();
    await Promise.all([k3.call('HELLO', '3'), r3.call('HELLO', '3')]);
    for (const argv of [
      ['TTL', 'x'], ['SET', 'x', '1'], ['TTL', 'x'], ['EXPIREAT', 'x', String(FUTURE)], ['EXPIRETIME', 'x'], ['PEXPIRETIME', 'x'],
      ['EXPIRE', 'x', '1', 'NX', 'XX'], ['PERSIST', 'x'], ['PTTL', 'x'],
    ] as Argv[]) await compareOn(k3, r3, argv);
    k3.close();
    r3.close();
  });
});

describe('COMMAND INFO', () => {
  it('describes each command as Redis does', async () => {
    for (const name of ['expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl', 'expiretime', 'pexpiretime', 'persist']) {
      const [k, r] = await pair.both(['COMMAND', 'INFO', name]);
      expect({ name, info: show(k) }).toEqual({ name, info: show(r) });
    }
  });
});

describe('random expiry sequences', () => {
  const key = fc.constantFrom<string | Buffer>('a', 'b', Buffer.from([0, 0xff]));
  // Relative times are far apart and carry no GT/LT (whose outcome would then
  // depend on the milliseconds between two commands); absolute times are
  // fixed, so any flag is deterministic.
  const relSeconds = fc.constantFrom('-1', '0', '100', '10000', '1000000', 'x', '9223372036854775807');
  const absSeconds = fc.constantFrom('0', '1', String(FUTURE - 1), String(FUTURE), String(FUTURE + 1), '9223372036854775', '-5');
  const flags = fc.array(fc.constantFrom('NX', 'XX', 'GT', 'LT', 'nx', 'Gt'), { maxLength: 2 });
  const command: fc.Arbitrary<Argv> = fc.oneof(
    fc.tuple(key, fc.constantFrom('v', '')).map(([k, v]): Argv => ['SET', k, v]),
    fc.tuple(key, fc.constantFrom('100', '10000')).map(([k, t]): Argv => ['SET', k, 'v', 'EX', t]),
    fc.tuple(key, relSeconds, fc.array(fc.constantFrom('NX', 'XX'), { maxLength: 1 })).map(([k, t, f]): Argv => ['EXPIRE', k, t, ...f]),
    fc.tuple(key, relSeconds, fc.array(fc.constantFrom('NX', 'XX'), { maxLength: 1 }))
      .map(([k, t, f]): Argv => ['PEXPIRE', k, /^\d{3,7}$/.test(t) ? `${t}000` : t, ...f]),
    fc.tuple(key, absSeconds, flags).map(([k, t, f]): Argv => ['EXPIREAT', k, t, ...f]),
    fc.tuple(key, absSeconds, fc.constantFrom('000', '499', '500', '999'), flags)
      .map(([k, t, ms, f]): Argv => ['PEXPIREAT', k, /^\d{5,}$/.test(t) ? `${t}${ms}` : t, ...f]),
    fc.tuple(fc.constantFrom('TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'PERSIST', 'EXISTS', 'GET', 'DEL'), key).map(([c, k]): Argv => [c, k]),
    fc.tuple(fc.constantFrom('RENAME', 'COPY'), key, key).map(([c, a, b]): Argv => [c, a, b]),
    fc.tuple(key, fc.constantFrom('0', '1')).map(([k, d]): Argv => ['MOVE', k, d]),
    fc.constantFrom<Argv>(['SELECT', '0'], ['SELECT', '1'], ['DBSIZE'], ['SWAPDB', '0', '1']),
  );

  it('match Redis reply for reply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (cmds) => {
        await pair.reset();
        const log: string[] = [];
        for (const argv of cmds) {
          const [k, r]: [Reply, Reply] = await pair.both(argv);
          const name = String(argv[0]).toLowerCase();
          const tol = clockTolerance(name);
          log.push(describeArgv(argv));
          if (!repliesEqual(k, r, tol)) expect({ sequence: log, kvslab: show(k) }).toEqual({ sequence: log, kvslab: show(r) });
        }
      }),
      { numRuns: 200 },
    );
  });
});
