// Server commands: INFO, CONFIG, TIME, DEBUG, MEMORY, OBJECT, SHUTDOWN.

import type { Client } from '../server/client.js';
import { ValueType } from '../store/keytable.js';
import { buildInfo, infoPeak, resetInfoState, selectSections, trackPeak } from '../server/info.js';
import type { SlabKeyTable } from '../store/slab-table.js';
import { fullGc } from '../util/gc.js';
import { keyword, intOrReply, parseInt64, ERR_SYNTAX } from './args.js';
import { replyHelp, Spec } from './command.js';
import type { CommandFlag } from './table.js';

/** Whether the client connects over loopback (the "local" setting of protected features). */
export function isLocalClient(c: Client): boolean {
  const a = c.socket.remoteAddress;
  // Only a unix-socket connection has no peer address: it is local (Redis's islocalClient).
  if (a === undefined) return true;
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** enable-debug-command / enable-protected-configs: no, yes or local. */
function allowProtected(c: Client, directive: string): boolean {
  const v = c.server.config.str(directive);
  return v === 'yes' || (v === 'local' && isLocalClient(c));
}

// ---------------------------------------------------------------------------
// INFO, TIME

function info(c: Client, argv: Buffer[]): void {
  const sections = selectSections(argv.slice(1).map((a) => a.toString('latin1')));
  c.addVerbatim(buildInfo(c.server, sections));
}

function time(c: Client): void {
  // Wall clock in microseconds, with sub-millisecond precision from the monotonic clock.
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.addArrayLen(2);
  c.addBulkString(String(Math.floor(us / 1e6)));
  c.addBulkString(String(us % 1e6));
}

// ---------------------------------------------------------------------------
// CONFIG

function configGet(c: Client, argv: Buffer[]): void {
  const pairs = c.server.config.getMatching(argv.slice(2).map((a) => a.toString()));
  c.addMapLen(pairs.length);
  for (const [k, v] of pairs) {
    c.addBulkString(k);
    c.addBulkString(v);
  }
}

function configSet(c: Client, argv: Buffer[]): void {
  if ((argv.length - 2) % 2 !== 0) return c.addError(ERR_SYNTAX);
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i].toString(), argv[i + 1].toString()]);
  // Through the listeners: the TLS setup is read once, after every pair (Redis's apply step).
  const err = c.server.listeners.configSet(pairs, allowProtected(c, 'enable-protected-configs'));
  if (err) return c.addError(err);
  c.addOk();
}

function configResetStat(c: Client): void {
  c.server.resetStats();
  resetInfoState(c.server);
  c.addOk();
}

function configRewrite(c: Client): void {
  const err = c.server.config.rewrite();
  if (err) {
    c.server.log('warning', `CONFIG REWRITE failed: ${err.replace(/^ERR /, '')}`);
    return c.addError(err);
  }
  c.server.log('notice', 'CONFIG REWRITE executed with success.');
  c.addOk();
}

function configHelp(c: Client): void {
  replyHelp(c, 'CONFIG', [
    'GET <pattern>',
    '    Values of the directives whose names match the glob-style <pattern>.',
    'SET <directive> <value>',
    '    Change <directive> to <value>; several pairs may be given and apply together.',
    'RESETSTAT',
    '    Zero the statistics INFO reports.',
    'REWRITE',
    '    Write the running configuration back into the config file.',
  ]);
}

// ---------------------------------------------------------------------------
// DEBUG

/** Redis reads DEBUG SLEEP's argument with strtod: garbage is 0. */
function strtod(s: string): number {
  const v = Number.parseFloat(s.trim());
  return Number.isFinite(v) ? v : 0;
}

/** Blocks the whole server, as Redis's DEBUG SLEEP does. */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debug(c: Client, argv: Buffer[]): void {
  if (!allowProtected(c, 'enable-debug-command')) {
    return c.addError('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.');
  }
  const sub = keyword(argv[1]);
  const n = argv.length;
  if (sub === 'help' && n === 2) {
    return replyHelp(c, 'DEBUG', [
      'OBJECT <key>',
      '    Low-level facts about the value stored at <key>.',
      'SET-ACTIVE-EXPIRE <0|1>',
      '    Turn the background expiry of keys off (0) or on (1); keys still expire when accessed.',
      'SLEEP <seconds>',
      '    Stop the whole server for <seconds> (fractions allowed).',
      'LOG <message>',
      '    Write <message> to the server log.',
    ]);
  }
  if (sub === 'sleep' && n === 3) {
    sleepSync(strtod(argv[2].toString('latin1')) * 1000);
    return c.addOk();
  }
  if (sub === 'set-active-expire' && n === 3) {
    c.server.activeExpireEnabled = (Number.parseInt(argv[2].toString('latin1').trim(), 10) || 0) !== 0;
    return c.addOk();
  }
  if (sub === 'log' && n === 3) {
    c.server.log('warning', `DEBUG LOG: ${argv[2].toString()}`);
    return c.addOk();
  }
  if (sub === 'object' && n === 3) {
    const h = c.db.find(argv[2]);
    if (h < 0) return c.addError('ERR no such key');
    const value = c.db.value(h);
    const idleMs = c.db.table.idleMs(h, c.server.now());
    const idle = Math.floor(idleMs / 1000);
    const lru = Math.floor((c.server.now() - idleMs) / 1000) & 0xffffff;
    return c.addStatus(
      `Value at:0x${(h + 0x1000).toString(16)} refcount:${refcount(c, h)} encoding:${encoding(c, h)} `
      + `serializedlength:${value.length + 1} lru:${lru} lru_seconds_idle:${idle}`,
    );
  }
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].toString('latin1')}'. Try DEBUG HELP.`);
}

// ---------------------------------------------------------------------------
// OBJECT

const LFU_REQUIRED = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LRU_REQUIRED = 'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
/** Redis shares the integers 0..9999 between keys: their refcount reads as INT_MAX. */
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;

function lfuPolicy(c: Client): boolean {
  return c.server.config.str('maxmemory-policy').endsWith('-lfu');
}

/** Whether a string value would be stored as an integer by Redis (string2l of at most 20 bytes). */
function intValue(v: Buffer): number | null {
  return v.length <= 20 ? parseInt64(v) : null;
}

/** Encoding of a value as Redis would report it: int, embstr (<= 44 bytes) or raw for strings. */
function encoding(c: Client, h: number): string {
  if (c.db.type(h) !== ValueType.String) return 'raw';
  const v = c.db.value(h);
  if (intValue(v) !== null) return 'int';
  return v.length <= 44 ? 'embstr' : 'raw';
}

function refcount(c: Client, h: number): number {
  if (c.db.type(h) !== ValueType.String) return 1;
  const n = intValue(c.db.value(h));
  // With maxmemory and an LRU/LFU policy Redis stops sharing (each key needs its own access data).
  const policy = c.server.config.str('maxmemory-policy');
  const noShared = c.server.config.int('maxmemory') !== 0 && (policy.endsWith('-lru') || policy.endsWith('-lfu'));
  return n !== null && n >= 0 && n < SHARED_INTEGERS && !noShared ? SHARED_REFCOUNT : 1;
}

/** OBJECT's key lookup: no access-time update, but hits and misses count. */
function objectLookup(c: Client, key: Buffer): number {
  const h = c.db.find(key);
  if (h < 0) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  if (h < 0) c.addNull();
  return h;
}

function objectEncoding(c: Client, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h >= 0) c.addBulkString(encoding(c, h));
}

function objectRefcount(c: Client, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h >= 0) c.addInt(refcount(c, h));
}

function objectIdletime(c: Client, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h < 0) return;
  if (lfuPolicy(c)) return c.addError(LRU_REQUIRED);
  c.addInt(Math.floor(c.db.table.idleMs(h, c.server.now()) / 1000));
}

function objectFreq(c: Client, argv: Buffer[]): void {
  const h = objectLookup(c, argv[2]);
  if (h < 0) return;
  const lfu = c.server.lfu;
  if (lfu === null) return c.addError(LFU_REQUIRED);
  const t = c.db.table;
  c.addInt(t.lfuCounter(h, c.server.now()));
}

function objectHelp(c: Client): void {
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

// ---------------------------------------------------------------------------
// MEMORY

function memoryUsage(c: Client, argv: Buffer[]): void {
  for (let j = 3; j < argv.length; j++) {
    if (keyword(argv[j]) === 'samples' && j + 1 < argv.length) {
      const n = intOrReply(c, argv[j + 1]);
      if (n === null) return;
      if (n < 0) return c.addError(ERR_SYNTAX);
      j++;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  // Strings have no nested values, so SAMPLES changes nothing yet.
  const h = c.db.find(argv[2]);
  if (h < 0) return c.addNull();
  c.addInt(c.db.table.entryBytes(h));
}

function memoryStats(c: Client): void {
  const server = c.server;
  const ks = server.keyspace;
  const used = trackPeak(server);
  const rss = process.memoryUsage().rss;
  let keys = 0;
  const dbs = server.dbs.filter((d) => d.size > 0);
  for (const d of dbs) keys += d.size;
  const overhead = ks.indexBytes + ks.slabs.metadataBytes + server.clientsMemory;
  const dataset = used - overhead;
  const live = ks.slabs.pageBytes - ks.idleChunkBytes();
  const fields: [string, (() => void)][] = [];
  const int = (name: string, v: number) => fields.push([name, () => c.addInt(v)]);
  const dbl = (name: string, v: number) => fields.push([name, () => c.addDouble(v)]);
  int('peak.allocated', infoPeak(server));
  int('total.allocated', used);
  int('startup.allocated', 0);
  int('replication.backlog', 0);
  int('clients.slaves', 0);
  int('clients.normal', server.clientsMemory);
  int('cluster.links', 0);
  int('aof.buffer', 0);
  int('lua.caches', 0);
  int('functions.caches', 0);
  for (const d of dbs) {
    const t = d.table as SlabKeyTable;
    fields.push([`db.${d.id}`, () => {
      c.addMapLen(3);
      c.addBulkString('overhead.hashtable.main'); c.addInt(t.bucketBytes);
      c.addBulkString('overhead.hashtable.expires'); c.addInt(t.volatileBytes);
      c.addBulkString('overhead.hashtable.slot-to-keys'); c.addInt(0);
    }]);
  }
  int('overhead.total', overhead);
  int('keys.count', keys);
  int('keys.bytes-per-key', keys ? Math.floor(used / keys) : 0);
  int('dataset.bytes', dataset);
  dbl('dataset.percentage', used ? (dataset * 100) / used : 0);
  dbl('peak.percentage', infoPeak(server) ? (used * 100) / infoPeak(server) : 100);
  // The slab allocator's view: chunks in use out of the pages held.
  int('allocator.allocated', live + ks.large.bytes);
  int('allocator.active', ks.slabs.pageBytes + ks.large.bytes);
  int('allocator.resident', rss);
  dbl('allocator-fragmentation.ratio', live ? ks.slabs.pageBytes / live : 1);
  int('allocator-fragmentation.bytes', ks.slabs.pageBytes - live);
  dbl('allocator-rss.ratio', used ? rss / used : 0);
  int('allocator-rss.bytes', rss - used);
  dbl('rss-overhead.ratio', 1);
  int('rss-overhead.bytes', 0);
  dbl('fragmentation', used ? rss / used : 0);
  int('fragmentation.bytes', rss - used);
  c.addMapLen(fields.length);
  for (const [name, emit] of fields) {
    c.addBulkString(name);
    emit();
  }
}

function memoryDoctor(c: Client): void {
  const keys = c.server.dbs.reduce((n, d) => n + d.size, 0);
  const max = c.server.config.int('maxmemory');
  const used = c.server.usedMemory();
  let report: string;
  if (keys === 0) {
    report = 'The keyspace is empty, so there is nothing to diagnose yet. Store some data and ask again.\n';
  } else if (max > 0 && used > max * 0.9) {
    report = `The keyspace uses ${used} bytes, more than 90% of maxmemory (${max} bytes). Writes will soon be refused or keys evicted, depending on maxmemory-policy.\n`;
  } else {
    report = 'No memory problems were found: the keyspace is within its limits.\n';
  }
  c.addVerbatim(report);
}

function memoryMallocStats(c: Client): void {
  c.addVerbatim('Stats not supported for the current allocator');
}

/** Gives back every empty page and has the runtime collect what the store let go of. */
function memoryPurge(c: Client): void {
  const slabs = c.server.keyspace.slabs;
  while (slabs.emptyPages > 0 && slabs.dropEmptyPage());
  fullGc();
  c.addOk();
}

function memoryHelp(c: Client): void {
  replyHelp(c, 'MEMORY', [
    'DOCTOR',
    '    A short report of memory problems, if any.',
    'MALLOC-STATS',
    '    Statistics of the memory allocator.',
    'PURGE',
    '    Ask the allocator to give unused memory back.',
    'STATS',
    '    Figures about the memory the server uses.',
    'USAGE <key> [SAMPLES <count>]',
    '    Approximate bytes used by <key> and its value; nested values are sampled up to',
    '    <count> times (default 5, 0 samples all).',
  ]);
}

// ---------------------------------------------------------------------------
// SHUTDOWN

function shutdown(c: Client, argv: Buffer[]): void {
  let save = false;
  let nosave = false;
  let abort = false;
  let other = false;
  for (let i = 1; i < argv.length; i++) {
    const k = keyword(argv[i]);
    if (k === 'nosave') nosave = true;
    else if (k === 'save') save = true;
    else if (k === 'abort') abort = true;
    else if (k === 'now' || k === 'force') other = true;
    else return c.addError(ERR_SYNTAX);
  }
  // ABORT goes alone (repeating it is fine, as in Redis).
  if ((abort && (save || nosave || other)) || (save && nosave)) return c.addError(ERR_SYNTAX);
  // Shutdown never waits for replicas here, so there is never one to abort.
  if (abort) return c.addError('ERR No shutdown in progress.');
  // kvslab keeps no data on disk: SAVE and NOSAVE both just stop the server.
  c.server.onShutdown('SHUTDOWN');
}

// ---------------------------------------------------------------------------
// Specs

const admin: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const allShards = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'];
const keyArg: [number, number, number] = [2, 2, 1];

export const serverCommands: Spec[] = [
  {
    name: 'info', arity: -1, flags: ['loading', 'stale'], acl: ['dangerous'], handler: info, tips: allShards,
    docs: { summary: 'Reports information and statistics about the server, by section.', since: '1.0.0', group: 'server', complexity: 'O(1)', syntax: '[section [section ...]]' },
  },
  {
    name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], acl: [], handler: time, tips: ['nondeterministic_output'],
    docs: { summary: 'Returns the server clock as seconds and microseconds.', since: '2.6.0', group: 'server', complexity: 'O(1)' },
  },
  {
    name: 'config', arity: -2, flags: [], acl: [],
    docs: { summary: 'Reads and changes the server configuration.', since: '2.0.0', group: 'server', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'config|get', arity: -3, flags: admin, acl: [], handler: configGet,
        docs: { summary: 'Returns the values of the directives matching the patterns.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', syntax: 'parameter [parameter ...]' },
      },
      {
        name: 'config|set', arity: -4, flags: admin, acl: [], handler: configSet, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        docs: { summary: 'Changes one or more directives at run time, all or none.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', syntax: 'parameter value [parameter value ...]' },
      },
      {
        name: 'config|resetstat', arity: 2, flags: admin, acl: [], handler: configResetStat,
        docs: { summary: 'Zeroes the statistics reported by INFO.', since: '2.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'config|rewrite', arity: 2, flags: admin, acl: [], handler: configRewrite,
        docs: { summary: 'Writes the running configuration back to the config file.', since: '2.8.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'config|help', arity: 2, flags: ['loading', 'stale'], acl: [], handler: configHelp,
        docs: { summary: 'Explains the CONFIG subcommands.', since: '5.0.0', group: 'server', complexity: 'O(1)' },
      },
    ],
  },
  {
    name: 'debug', arity: -2, flags: admin, acl: [], handler: debug,
    docs: { summary: 'Debugging helpers (sleep, active expiry switch, object details).', since: '1.0.0', group: 'server', complexity: 'Depends on subcommand.' },
  },
  {
    name: 'memory', arity: -2, flags: [], acl: [],
    docs: { summary: 'Memory introspection.', since: '4.0.0', group: 'server', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'memory|doctor', arity: 2, flags: [], acl: [], handler: memoryDoctor, tips: allShards,
        docs: { summary: 'Reports memory problems, if any.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|help', arity: 2, flags: ['loading', 'stale'], acl: [], handler: memoryHelp,
        docs: { summary: 'Explains the MEMORY subcommands.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|malloc-stats', arity: 2, flags: [], acl: [], handler: memoryMallocStats, tips: allShards,
        docs: { summary: 'Returns the statistics of the memory allocator.', since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' },
      },
      {
        name: 'memory|purge', arity: 2, flags: [], acl: [], handler: memoryPurge, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
        docs: { summary: 'Asks the allocator to release unused memory.', since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' },
      },
      {
        name: 'memory|stats', arity: 2, flags: [], acl: [], handler: memoryStats, tips: allShards,
        docs: { summary: 'Returns figures about the memory the server uses.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|usage', arity: -3, flags: ['readonly'], acl: [], keys: keyArg, keySpecFlags: ['RO'], handler: memoryUsage,
        docs: { summary: 'Estimates the bytes a key and its value use.', since: '4.0.0', group: 'server', complexity: 'O(N) where N is the number of samples.', syntax: 'key [SAMPLES count]' },
      },
    ],
  },
  {
    name: 'object', arity: -2, flags: [], acl: [],
    docs: { summary: 'Inspects the internals of stored values.', since: '2.2.3', group: 'generic', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'object|encoding', arity: 3, flags: ['readonly'], acl: ['keyspace'], keys: keyArg, keySpecFlags: ['RO'], handler: objectEncoding, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the internal encoding of a value.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|freq', arity: 3, flags: ['readonly'], acl: ['keyspace'], keys: keyArg, keySpecFlags: ['RO'], handler: objectFreq, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the logarithmic access counter of a key.', since: '4.0.0', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|help', arity: 2, flags: ['loading', 'stale'], acl: ['keyspace'], handler: objectHelp,
        docs: { summary: 'Explains the OBJECT subcommands.', since: '6.2.0', group: 'generic', complexity: 'O(1)' },
      },
      {
        name: 'object|idletime', arity: 3, flags: ['readonly'], acl: ['keyspace'], keys: keyArg, keySpecFlags: ['RO'], handler: objectIdletime, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the seconds since a key was last accessed.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
      {
        name: 'object|refcount', arity: 3, flags: ['readonly'], acl: ['keyspace'], keys: keyArg, keySpecFlags: ['RO'], handler: objectRefcount, tips: ['nondeterministic_output'],
        docs: { summary: 'Returns the reference count of a value.', since: '2.2.3', group: 'generic', complexity: 'O(1)', syntax: 'key' },
      },
    ],
  },
  {
    name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], acl: [], handler: shutdown,
    docs: { summary: 'Stops the server after flushing replies to every client.', since: '1.0.0', group: 'server', complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)', syntax: '[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]' },
  },
];
