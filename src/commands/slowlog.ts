// SLOWLOG: the slow log's entries (monitor/slow-log.ts keeps them), and the
// arguments an entry keeps: at most 32, each cut at 128 bytes, secrets
// redacted (Redis's slowlogCreateEntry). Dispatch times every call and
// compares the duration with one number, server.slowUs: the lower of the
// slow log's threshold and the latency monitor's; only a call at or over it
// gets here.

import type { CommandContext, Handler } from './context.js';
import { argIs, intOrReply, subcommandSyntaxError } from './args.js';
import { replyHelp } from './help.js';
import type { Command, CommandDef } from './model/command-table.js';
import { CMD_ADMIN, CMD_LOADING, CMD_STALE } from './model/flags.js';

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGC = 32;
const MAX_STRING = 128;
const REDACTED = Buffer.from('(redacted)');

/** Which arguments hide a secret (Redis's redactClientCommandArgument calls). */
function redacted(cmd: Command<Handler>, argv: Buffer[]): Set<number> | null {
  if (cmd.name === 'auth') return new Set(argv.map((_, i) => i).filter((i) => i > 0));
  if (cmd.name === 'hello') {
    // Options as HELLO reads them: AUTH takes two arguments, SETNAME one.
    for (let j = 2; j < argv.length; j++) {
      const more = argv.length - 1 - j;
      if (argIs(argv[j], 'auth') && more >= 2) return new Set([j + 1, j + 2]);
      if (argIs(argv[j], 'setname') && more >= 1) j++;
    }
    return null;
  }
  if (cmd.name === 'migrate') {
    // Options as MIGRATE reads them, up to KEYS or a bad one: AUTH's password, AUTH2's username and password.
    const out = new Set<number>();
    for (let j = 6; j < argv.length; j++) {
      const more = argv.length - 1 - j;
      if (argIs(argv[j], 'auth') && more >= 1) out.add(++j);
      else if (argIs(argv[j], 'auth2') && more >= 2) out.add(++j).add(++j);
      else if (!argIs(argv[j], 'copy') && !argIs(argv[j], 'replace')) break;
    }
    return out;
  }
  if (cmd.name === 'config|set') {
    const out = new Set<number>();
    for (let j = 2; j + 1 < argv.length; j += 2) if (SECRET_DIRECTIVES.some((d) => argIs(argv[j], d))) out.add(j + 1);
    return out;
  }
  return null;
}

const SECRET_DIRECTIVES = ['requirepass', 'masterauth', 'masteruser'];

/** The arguments as the entry keeps them: copies, at most 32, each cut at 128 bytes (Redis's slowlogCreateEntry). */
export function slowlogArgs(cmd: Command<Handler>, argv: Buffer[]): Buffer[] {
  const hide = redacted(cmd, argv);
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

// ---------------------------------------------------------------------------
// Handlers

const ERR_COUNT = 'ERR count should be greater than or equal to -1';

function slowlogGet(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  let count = 10;
  if (argv.length === 3) {
    const n = intOrReply(c, argv[2], ERR_COUNT);
    if (n === null) return;
    if (n < -1) return c.addError(ERR_COUNT);
    count = n === -1 ? Infinity : n;
  }
  const entries = c.server.slowLog.newest(count);
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

function slowlogLen(c: CommandContext): void {
  c.addInt(c.server.slowLog.length);
}

function slowlogReset(c: CommandContext): void {
  c.server.slowLog.reset();
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

function slowlogHelp(c: CommandContext): void {
  replyHelp(c, 'SLOWLOG', HELP);
}

// ---------------------------------------------------------------------------

const group = 'server';

export const slowlogCommands: CommandDef<Handler>[] = [
  {
    name: 'slowlog', arity: -2, 
    docs: { summary: 'A container for slow log commands.', since: '2.2.12', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'slowlog|get', arity: -2, flags: CMD_ADMIN | CMD_LOADING | CMD_STALE, handler: slowlogGet,
        tips: ['request_policy:all_nodes', 'nondeterministic_output'],
        docs: { summary: 'Returns the slow log\'s entries.', since: '2.2.12', group, complexity: 'O(N) where N is the number of entries returned', syntax: '[count]' },
      },
      {
        name: 'slowlog|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: slowlogHelp,
        docs: { summary: 'Show helpful text about the different subcommands.', since: '6.2.0', group, complexity: 'O(1)' },
      },
      {
        name: 'slowlog|len', arity: 2, flags: CMD_ADMIN | CMD_LOADING | CMD_STALE, handler: slowlogLen,
        tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
        docs: { summary: 'Returns the number of entries in the slow log.', since: '2.2.12', group, complexity: 'O(1)' },
      },
      {
        name: 'slowlog|reset', arity: 2, flags: CMD_ADMIN | CMD_LOADING | CMD_STALE, handler: slowlogReset,
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        docs: { summary: 'Clears all entries from the slow log.', since: '2.2.12', group, complexity: 'O(N) where N is the number of entries in the slowlog' },
      },
    ],
  },
];
