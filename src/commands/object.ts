// OBJECT: what Redis would tell of a value's representation (ENCODING,
// REFCOUNT), and the access data eviction uses (IDLETIME, FREQ).

import type { CommandContext, Handler } from './context.js';
import { parseInt64 } from './args.js';
import { replyHelp } from './help.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_KEYSPACE, CMD_LOADING, CMD_READONLY, CMD_STALE } from './model/flags.js';
import { keyAt, KS_RO } from './model/key-specs.js';
import { ValueType } from '../store/types.js';

const LFU_REQUIRED = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LRU_REQUIRED = 'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
/** Redis shares the integers 0..9999 between keys: their refcount reads as INT_MAX. */
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;

function lfuPolicy(c: CommandContext): boolean {
  return c.server.config.str('maxmemory-policy').endsWith('-lfu');
}

/** Whether a string value would be stored as an integer by Redis (string2l of at most 20 bytes). */
function intValue(v: Buffer): number | null {
  return v.length <= 20 ? parseInt64(v) : null;
}

/** Encoding of a value as Redis would report it: int, embstr (<= 44 bytes) or raw for strings. */
export function encoding(c: CommandContext, h: number): string {
  if (c.db.type(h) !== ValueType.String) return 'raw';
  const v = c.db.value(h);
  if (intValue(v) !== null) return 'int';
  return v.length <= 44 ? 'embstr' : 'raw';
}

export function refcount(c: CommandContext, h: number): number {
  if (c.db.type(h) !== ValueType.String) return 1;
  const n = intValue(c.db.value(h));
  // With maxmemory and an LRU/LFU policy Redis stops sharing (each key needs its own access data).
  const policy = c.server.config.str('maxmemory-policy');
  const noShared = c.server.config.int('maxmemory') !== 0 && (policy.endsWith('-lru') || policy.endsWith('-lfu'));
  return n !== null && n >= 0 && n < SHARED_INTEGERS && !noShared ? SHARED_REFCOUNT : 1;
}

/** OBJECT's key lookup: no access-time update, but hits and misses count. */
function objectLookup(c: CommandContext, key: Buffer): number {
  const h = c.db.find(key);
  if (h < 0) c.server.store.stats.keyspaceMisses++;
  else c.server.store.stats.keyspaceHits++;
  if (h < 0) c.addNull();
  return h;
}

function objectEncoding(c: CommandContext, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h >= 0) c.addBulkString(encoding(c, h));
}

function objectRefcount(c: CommandContext, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h >= 0) c.addInt(refcount(c, h));
}

function objectIdletime(c: CommandContext, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h < 0) return;
  if (lfuPolicy(c)) return c.addError(LRU_REQUIRED);
  c.addInt(Math.floor(c.db.idleMs(h) / 1000));
}

function objectFreq(c: CommandContext, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h < 0) return;
  if (!c.server.store.lfuTracked) return c.addError(LFU_REQUIRED);
  c.addInt(c.db.lfuCounter(h));
}

function objectHelp(c: CommandContext): void {
  replyHelp(c, 'OBJECT', [
    'ENCODING <key>',
    '    How the value at <key> is represented internally.',
    'FREQ <key>',
    '    Logarithmic access-frequency counter of <key> (needs an LFU maxmemory-policy).',
    'IDLETIME <key>',
    '    Seconds since <key> was last accessed (not available under an LFU policy).',
    'REFCOUNT <key>',
    '    How many references the value at <key> has.',
  ]);
}

export const objectCommands: CommandDef<Handler>[] = [
  {
    name: 'object', arity: -2, 
    docs: { summary: 'Inspects the internals of stored values.', since: '2.2.3', group: 'generic', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'object|encoding', arity: 3, flags: CMD_READONLY, acl: ACL_KEYSPACE, keySpecs: [keyAt(2, KS_RO)], handler: objectEncoding, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the internal encoding of a value.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|freq', arity: 3, flags: CMD_READONLY, acl: ACL_KEYSPACE, keySpecs: [keyAt(2, KS_RO)], handler: objectFreq, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the logarithmic access counter of a key.', since: '4.0.0', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|help', arity: 2, flags: CMD_LOADING | CMD_STALE, acl: ACL_KEYSPACE, handler: objectHelp,
        docs: { summary: 'Explains the OBJECT subcommands.', since: '6.2.0', group: 'generic', complexity: 'O(1)' },
      },
      {
        name: 'object|idletime', arity: 3, flags: CMD_READONLY, acl: ACL_KEYSPACE, keySpecs: [keyAt(2, KS_RO)], handler: objectIdletime, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the seconds since a key was last accessed.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|refcount', arity: 3, flags: CMD_READONLY, acl: ACL_KEYSPACE, keySpecs: [keyAt(2, KS_RO)], handler: objectRefcount, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the reference count of a value.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
    ],
  },
];
