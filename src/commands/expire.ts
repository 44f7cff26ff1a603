// Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT),
// TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
//
// Redis takes any int64 time, so the arithmetic is exact: numbers while they
// are safely inside 2^53, bigints beyond (rare, and only then allocated).

import type { CommandContext, Handler } from './context.js';
import { argIs, cText, parseInt64, parseInt64Big, ERR_NOT_INTEGER } from './args.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_KEYSPACE, CMD_FAST, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import { keyAt, KS_ACCESS, KS_RO, KS_RW, KS_UPDATE } from './model/key-specs.js';
import { INT64_MAX, INT64_MIN } from '../util/int64.js';
import { LOOKUP_NOTOUCH } from '../store/types.js';
/** Inputs this small stay safe integers after *1000 and + now. */
const SMALL_SECONDS = 1e12;
const SMALL_MS = 1e15;

const NX = 1;
const XX = 2;
const GT = 4;
const LT = 8;

/** NX/XX/GT/LT from argv[3..], or -1 after replying with the error. */
function expireFlagsOrReply(c: CommandContext, argv: Buffer[]): number {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const a = argv[j];
    if (argIs(a, 'nx')) flags |= NX;
    else if (argIs(a, 'xx')) flags |= XX;
    else if (argIs(a, 'gt')) flags |= GT;
    else if (argIs(a, 'lt')) flags |= LT;
    else {
      c.addError(`ERR Unsupported option ${cText(a)}`);
      return -1;
    }
  }
  if (flags & NX && flags & (XX | GT | LT)) {
    c.addError('ERR NX and XX, GT or LT options at the same time are not compatible');
    return -1;
  }
  if (flags & GT && flags & LT) {
    c.addError('ERR GT and LT options at the same time are not compatible');
    return -1;
  }
  return flags;
}

/**
 * The absolute expiry in ms the command asks for, with Redis's overflow
 * checks (reply "invalid expire time" and null when they fail).
 */
function whenOrReply(c: CommandContext, arg: Buffer, baseMs: number, seconds: boolean, name: string): number | bigint | null {
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(ERR_NOT_INTEGER);
    return null;
  }
  if (Math.abs(v) <= (seconds ? SMALL_SECONDS : SMALL_MS)) return (seconds ? v * 1000 : v) + baseMs;
  let when = parseInt64Big(arg) as bigint;
  const base = BigInt(baseMs);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      c.addError(`ERR invalid expire time in '${name}' command`);
      return null;
    }
    when *= 1000n;
  }
  if (when > INT64_MAX - base) {
    c.addError(`ERR invalid expire time in '${name}' command`);
    return null;
  }
  when += base;
  const n = Number(when);
  return Number.isSafeInteger(n) ? n : when;
}

function expireGeneric(c: CommandContext, argv: Buffer[], relative: boolean, seconds: boolean, name: string): void {
  const flags = expireFlagsOrReply(c, argv);
  if (flags < 0) return;
  const db = c.db;
  const now = db.now();
  const when = whenOrReply(c, argv[2], relative ? now : 0, seconds, name);
  if (when === null) return;
  const key = argv[1];
  const h = db.lookupWrite(key);
  if (h < 0) return c.addZero();
  if (flags !== 0) {
    // 0 stands for "no TTL", which GT and LT treat as infinite.
    const at = db.expireAt(h);
    const cur: number | bigint = Number.isSafeInteger(at) ? at : db.expireAtExact(h);
    const has = cur !== 0;
    if (flags & NX && has) return c.addZero();
    if (flags & XX && !has) return c.addZero();
    if (flags & GT && (!has || when <= cur)) return c.addZero();
    if (flags & LT && has && when >= cur) return c.addZero();
  }
  if (when <= now) {
    // A time in the past deletes the key (Redis propagates it as a DEL).
    db.removeEntry(h);
    return c.addOne();
  }
  if (typeof when === 'number') db.setExpire(h, when);
  else db.setExpireExact(h, when);
  c.addOne();
}

function expire(c: CommandContext, argv: Buffer[]): void {
  expireGeneric(c, argv, true, true, 'expire');
}
function pexpire(c: CommandContext, argv: Buffer[]): void {
  expireGeneric(c, argv, true, false, 'pexpire');
}
function expireat(c: CommandContext, argv: Buffer[]): void {
  expireGeneric(c, argv, false, true, 'expireat');
}
function pexpireat(c: CommandContext, argv: Buffer[]): void {
  expireGeneric(c, argv, false, false, 'pexpireat');
}

/** TTL family: -2 no key, -1 no TTL; else the remaining (or absolute) time, seconds rounded to nearest. */
function ttlGeneric(c: CommandContext, argv: Buffer[], ms: boolean, absolute: boolean): void {
  const db = c.db;
  const h = db.lookupRead(argv[1], LOOKUP_NOTOUCH);
  if (h < 0) return c.addInt(-2);
  const at = db.expireAt(h);
  if (at === 0) return c.addInt(-1);
  if (Number.isSafeInteger(at)) {
    let t = absolute ? at : at - db.now();
    if (t < 0) t = 0;
    // Integer division without float rounding, even near 2^53.
    const r = t + 500;
    return c.addInt(ms ? t : (r - (r % 1000)) / 1000);
  }
  let t = db.expireAtExact(h);
  if (!absolute) t -= BigInt(db.now());
  if (t < 0n) t = 0n;
  c.addInt(ms ? t : (t + 500n) / 1000n);
}

function ttl(c: CommandContext, argv: Buffer[]): void {
  ttlGeneric(c, argv, false, false);
}
function pttl(c: CommandContext, argv: Buffer[]): void {
  ttlGeneric(c, argv, true, false);
}
function expiretime(c: CommandContext, argv: Buffer[]): void {
  ttlGeneric(c, argv, false, true);
}
function pexpiretime(c: CommandContext, argv: Buffer[]): void {
  ttlGeneric(c, argv, true, true);
}

function persist(c: CommandContext, argv: Buffer[]): void {
  const db = c.db;
  const h = db.lookupWrite(argv[1]);
  if (h < 0 || db.expireAt(h) === 0) return c.addZero();
  db.setExpire(h, 0);
  c.addOne();
}

const group = 'generic';
const acl = ACL_KEYSPACE;
const setFlags = CMD_WRITE | CMD_FAST;
const getFlags = CMD_READONLY | CMD_FAST;
export const expireCommands: CommandDef<Handler>[] = [
  {
    name: 'expire', arity: -3, flags: setFlags, acl, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: expire,
    docs: { summary: 'Sets a time to live in seconds on a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key seconds [NX | XX | GT | LT]' },
  },
  {
    name: 'pexpire', arity: -3, flags: setFlags, acl, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: pexpire,
    docs: { summary: 'Sets a time to live in milliseconds on a key.', since: '2.6.0', group, complexity: 'O(1)', syntax: 'key milliseconds [NX | XX | GT | LT]' },
  },
  {
    name: 'expireat', arity: -3, flags: setFlags, acl, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: expireat,
    docs: { summary: 'Makes a key expire at a Unix time given in seconds.', since: '1.2.0', group, complexity: 'O(1)', syntax: 'key unix-time-seconds [NX | XX | GT | LT]' },
  },
  {
    name: 'pexpireat', arity: -3, flags: setFlags, acl, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: pexpireat,
    docs: { summary: 'Makes a key expire at a Unix time given in milliseconds.', since: '2.6.0', group, complexity: 'O(1)', syntax: 'key unix-time-milliseconds [NX | XX | GT | LT]' },
  },
  {
    name: 'ttl', arity: 2, flags: getFlags, acl, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], tips: ['nondeterministic_output'], handler: ttl,
    docs: { summary: 'Returns the seconds a key has left to live, -1 without a TTL, -2 when missing.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'pttl', arity: 2, flags: getFlags, acl, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], tips: ['nondeterministic_output'], handler: pttl,
    docs: { summary: 'Returns the milliseconds a key has left to live, -1 without a TTL, -2 when missing.', since: '2.6.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'expiretime', arity: 2, flags: getFlags, acl, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: expiretime,
    docs: { summary: 'Returns the Unix time in seconds at which a key expires.', since: '7.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'pexpiretime', arity: 2, flags: getFlags, acl, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: pexpiretime,
    docs: { summary: 'Returns the Unix time in milliseconds at which a key expires.', since: '7.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'persist', arity: 2, flags: setFlags, acl, keySpecs: [keyAt(1, KS_RW | KS_UPDATE)], handler: persist,
    docs: { summary: 'Removes the time to live of a key, making it permanent.', since: '2.2.0', group, complexity: 'O(1)', syntax: 'key' },
  },
];
