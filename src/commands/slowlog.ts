// SLOWLOG: the commands that took at least slowlog-log-slower-than µs, newest
// first, at most slowlog-max-len of them, in Redis's entry shape: id,
// unix time, duration in µs, the arguments (at most 32, each cut at 128
// bytes, secrets redacted), the client's address and name.
//
// Dispatch times every call and compares the duration with one number,
// server.slowUs: the lower of the slow log's threshold and the latency
// monitor's. Only a call at or over it comes here (slowCommand).

import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { intOrReply, keyword } from './args.js';
import { replyHelp, type Spec } from './command.js';
import { latencyAddSampleIfNeeded } from './latency.js';
import { F_FAST, isArg, type CommandSpec } from './table.js';

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGC = 32;
const MAX_STRING = 128;
const REDACTED = Buffer.from('(redacted)');

interface Entry {
  id: number;
  time: number;
  us: number;
  argv: Buffer[];
  addr: string;
  name: string;
}

interface SlowLog {
  /** Oldest first from `start`; entries before it are dropped (compacted now and then). */
  entries: Entry[];
  start: number;
  nextId: number;
}

const logs = new WeakMap<Server, SlowLog>();

function logOf(server: Server): SlowLog {
  let l = logs.get(server);
  if (!l) {
    l = { entries: [], start: 0, nextId: 0 };
    logs.set(server, l);
  }
  return l;
}

function length(l: SlowLog): number {
  return l.entries.length - l.start;
}

/**
 * Keeps server.slowUs, the duration (µs) from which a call takes the slow
 * path, in step with slowlog-log-slower-than and latency-monitor-threshold.
 */
export function watchSlowCommands(server: Server): void {
  const apply = () => {
    const slowlog = server.config.int('slowlog-log-slower-than');
    const latencyMs = server.config.int('latency-monitor-threshold');
    server.slowUs = Math.min(slowlog < 0 ? Infinity : slowlog, latencyMs > 0 ? latencyMs * 1000 : Infinity);
  };
  apply();
  server.config.onChange((name) => {
    if (name === 'slowlog-log-slower-than' || name === 'latency-monitor-threshold') apply();
  });
}

/** A call that took `us` µs, at least server.slowUs: into the slow log and the latency monitor as they ask. */
export function slowCommand(c: Client, spec: CommandSpec, argv: Buffer[], us: number): void {
  const server = c.server;
  const d = Math.floor(us);
  const threshold = server.config.int('slowlog-log-slower-than');
  if (threshold >= 0 && d >= threshold && !spec.flags.includes('skip_slowlog')) slowlogPush(c, spec, argv, d);
  latencyAddSampleIfNeeded(server, ((spec.bits as number) & F_FAST) !== 0 ? 'fast-command' : 'command', Math.floor(d / 1000));
}

function slowlogPush(c: Client, spec: CommandSpec, argv: Buffer[], us: number): void {
  const l = logOf(c.server);
  l.entries.push({
    id: l.nextId++, time: Math.floor(Date.now() / 1000), us, argv: entryArgs(spec, argv), addr: c.addr, name: c.name,
  });
  const max = c.server.config.int('slowlog-max-len');
  if (length(l) > max) l.start = l.entries.length - max;
  if (l.start > 64 && l.start * 2 > l.entries.length) {
    l.entries = l.entries.slice(l.start);
    l.start = 0;
  }
}

/** Which arguments hide a secret (Redis's redactClientCommandArgument calls). */
function redacted(spec: CommandSpec, argv: Buffer[]): Set<number> | null {
  if (spec.name === 'auth') return new Set(argv.map((_, i) => i).filter((i) => i > 0));
  if (spec.name === 'hello') {
    // Options as HELLO reads them: AUTH takes two arguments, SETNAME one.
    for (let j = 2; j < argv.length; j++) {
      const more = argv.length - 1 - j;
      if (isArg(argv[j], 'auth') && more >= 2) return new Set([j + 1, j + 2]);
      if (isArg(argv[j], 'setname') && more >= 1) j++;
    }
    return null;
  }
  if (spec.name === 'config|set') {
    const out = new Set<number>();
    for (let j = 2; j + 1 < argv.length; j += 2) if (SECRET_DIRECTIVES.includes(keyword(argv[j]))) out.add(j + 1);
    return out;
  }
  return null;
}

const SECRET_DIRECTIVES = ['requirepass', 'masterauth', 'masteruser'];

/** The arguments as the entry keeps them: copies, at most 32, each cut at 128 bytes (Redis's slowlogCreateEntry). */
function entryArgs(spec: CommandSpec, argv: Buffer[]): Buffer[] {
  const hide = redacted(spec, argv);
  const argc = argv.length;
  const n = Math.min(argc, MAX_ARGC);
  const out: Buffer[] = [];
  for (let j = 0; j < n; j++) {
    if (n !== argc && j === n - 1) {
      out.push(Buffer.from(`... (${argc - n + 1} more arguments)`));
    } else if (hide?.has(j)) {
      out.push(REDACTED);
    } else if (argv[j].length > MAX_STRING) {
      out.push(Buffer.concat([argv[j].subarray(0, MAX_STRING), Buffer.from(`... (${argv[j].length - MAX_STRING} more bytes)`)]));
    } else {
      // The request's buffers are views of the read buffer: keep a copy.
      out.push(Buffer.from(argv[j]));
    }
  }
  return out;
}

/** The newest entries first (for /metrics and the status page too). */
export function slowlogEntries(server: Server, count = Infinity): Entry[] {
  const l = logOf(server);
  const out: Entry[] = [];
  for (let i = l.entries.length - 1; i >= l.start && out.length < count; i--) out.push(l.entries[i]);
  return out;
}

export function slowlogLength(server: Server): number {
  return length(logOf(server));
}

// ---------------------------------------------------------------------------
// Handlers

const ERR_COUNT = 'ERR count should be greater than or equal to -1';

function slowlogGet(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) {
    return c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].toString('latin1')}'. Try ${keyword(argv[0]).toUpperCase()} HELP.`);
  }
  let count = 10;
  if (argv.length === 3) {
    const n = intOrReply(c, argv[2], ERR_COUNT);
    if (n === null) return;
    if (n < -1) return c.addError(ERR_COUNT);
    count = n === -1 ? Infinity : n;
  }
  const entries = slowlogEntries(c.server, count);
  c.addArrayLen(entries.length);
  for (const e of entries) {
    c.addArrayLen(6);
    c.addInt(e.id);
    c.addInt(e.time);
    c.addInt(e.us);
    c.addArrayLen(e.argv.length);
    for (const a of e.argv) c.addBulk(a);
    c.addBulkString(e.addr);
    c.addBulkString(e.name);
  }
}

function slowlogLen(c: Client): void {
  c.addInt(slowlogLength(c.server));
}

function slowlogReset(c: Client): void {
  const l = logOf(c.server);
  l.entries = [];
  l.start = 0;
  c.addOk();
}

const HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

function slowlogHelp(c: Client): void {
  replyHelp(c, 'SLOWLOG', HELP);
}

// ---------------------------------------------------------------------------

const group = 'server';

export const slowlogCommands: Spec[] = [
  {
    name: 'slowlog', arity: -2, flags: [], acl: [],
    docs: { summary: 'A container for slow log commands.', since: '2.2.12', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'slowlog|get', arity: -2, flags: ['admin', 'loading', 'stale'], acl: [], handler: slowlogGet,
        tips: ['request_policy:all_nodes', 'nondeterministic_output'],
        docs: { summary: 'Returns the slow log\'s entries.', since: '2.2.12', group, complexity: 'O(N) where N is the number of entries returned', syntax: '[count]' },
      },
      {
        name: 'slowlog|help', arity: 2, flags: ['loading', 'stale'], acl: [], handler: slowlogHelp,
        docs: { summary: 'Show helpful text about the different subcommands.', since: '6.2.0', group, complexity: 'O(1)' },
      },
      {
        name: 'slowlog|len', arity: 2, flags: ['admin', 'loading', 'stale'], acl: [], handler: slowlogLen,
        tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
        docs: { summary: 'Returns the number of entries in the slow log.', since: '2.2.12', group, complexity: 'O(1)' },
      },
      {
        name: 'slowlog|reset', arity: 2, flags: ['admin', 'loading', 'stale'], acl: [], handler: slowlogReset,
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        docs: { summary: 'Clears all entries from the slow log.', since: '2.2.12', group, complexity: 'O(N) where N is the number of entries in the slowlog' },
      },
    ],
  },
];
