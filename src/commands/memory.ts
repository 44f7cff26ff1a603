// MEMORY: what a key costs (USAGE), where the server's memory goes (STATS,
// DOCTOR, MALLOC-STATS: all from Server.memoryReport), and giving idle
// memory back (PURGE).

import type { CommandContext, Handler } from './context.js';
import { argIs, intOrReply, ERR_SYNTAX } from './args.js';
import { replyHelp } from './help.js';
import type { CommandDef } from './model/command-table.js';
import { CMD_LOADING, CMD_READONLY, CMD_STALE } from './model/flags.js';
import { keyAt, KS_RO } from './model/key-specs.js';
import { fullGc } from '../util/gc.js';

function memoryUsage(c: CommandContext, argv: Buffer[]): void {
  for (let j = 3; j < argv.length; j++) {
    if (argIs(argv[j], 'samples') && j + 1 < argv.length) {
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
  c.addInt(c.db.entryBytes(h));
}

function memoryStats(c: CommandContext): void {
  const m = c.server.memoryReport();
  const used = m.used;
  const rss = m.rss;
  let keys = 0;
  const dbs = c.server.store.dbs.filter((d) => d.size > 0);
  for (const d of dbs) keys += d.size;
  const overhead = m.store.index + m.clientBuffers;
  const dataset = used - overhead;
  const live = m.store.pages - m.store.idleChunks;
  const fields: [string, (() => void)][] = [];
  const int = (name: string, v: number) => fields.push([name, () => c.addInt(v)]);
  const dbl = (name: string, v: number) => fields.push([name, () => c.addDouble(v)]);
  int('peak.allocated', m.peak);
  int('total.allocated', used);
  int('startup.allocated', 0);
  int('replication.backlog', 0);
  int('clients.slaves', 0);
  int('clients.normal', m.clientBuffers);
  int('cluster.links', 0);
  int('aof.buffer', 0);
  int('lua.caches', 0);
  int('functions.caches', 0);
  for (const d of dbs) {
    fields.push([`db.${d.id}`, () => {
      c.addMapLen(3);
      c.addBulkString('overhead.hashtable.main'); c.addInt(d.bucketBytes);
      c.addBulkString('overhead.hashtable.expires'); c.addInt(d.volatileBytes);
      c.addBulkString('overhead.hashtable.slot-to-keys'); c.addInt(0);
    }]);
  }
  int('overhead.total', overhead);
  int('keys.count', keys);
  int('keys.bytes-per-key', keys ? Math.floor(used / keys) : 0);
  int('dataset.bytes', dataset);
  dbl('dataset.percentage', used ? (dataset * 100) / used : 0);
  dbl('peak.percentage', m.peak ? (used * 100) / m.peak : 100);
  // The slab allocator's view: chunks in use out of the pages held.
  int('allocator.allocated', live + m.store.large);
  int('allocator.active', m.store.pages + m.store.large);
  int('allocator.resident', rss);
  dbl('allocator-fragmentation.ratio', live ? m.store.pages / live : 1);
  int('allocator-fragmentation.bytes', m.store.pages - live);
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

function memoryDoctor(c: CommandContext): void {
  const keys = c.server.store.dbs.reduce((n, d) => n + d.size, 0);
  const max = c.server.config.int('maxmemory');
  const used = c.server.memoryReport().used;
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

function memoryMallocStats(c: CommandContext): void {
  c.addVerbatim('Stats not supported for the current allocator');
}

/** Gives back every empty page and has the runtime collect what the store let go of. */
function memoryPurge(c: CommandContext): void {
  c.server.store.dropEmptyPages();
  fullGc();
  c.addOk();
}

function memoryHelp(c: CommandContext): void {
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

const allShards = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'];

export const memoryCommands: CommandDef<Handler>[] = [
  {
    name: 'memory', arity: -2, 
    docs: { summary: 'Memory introspection.', since: '4.0.0', group: 'server', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'memory|doctor', arity: 2, handler: memoryDoctor, tips: allShards,
        docs: { summary: 'Reports memory problems, if any.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: memoryHelp,
        docs: { summary: 'Explains the MEMORY subcommands.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|malloc-stats', arity: 2, handler: memoryMallocStats, tips: allShards,
        docs: { summary: 'Returns the statistics of the memory allocator.', since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' },
      },
      {
        name: 'memory|purge', arity: 2, handler: memoryPurge, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
        docs: { summary: 'Asks the allocator to release unused memory.', since: '4.0.0', group: 'server', complexity: 'Depends on how much memory is allocated, could be slow' },
      },
      {
        name: 'memory|stats', arity: 2, handler: memoryStats, tips: allShards,
        docs: { summary: 'Returns figures about the memory the server uses.', since: '4.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'memory|usage', arity: -3, flags: CMD_READONLY, keySpecs: [keyAt(2, KS_RO)], handler: memoryUsage,
        docs: { summary: 'Estimates the bytes a key and its value use.', since: '4.0.0', group: 'server', complexity: 'O(N) where N is the number of samples.', syntax: 'key [SAMPLES count]' },
      },
    ],
  },
];
