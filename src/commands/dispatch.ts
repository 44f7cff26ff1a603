// From argv to handler: lookup, arity, authentication, memory and transaction
// checks, in the order Redis's processCommand makes them (the order decides
// which error a client sees when several apply).

import type { Client } from '../server/client.js';
import {
  CommandSpec, CommandTable, lookupSubcommand, F_DENYOOM, F_FAST, F_MULTI_CONTROL, F_MULTI_OOM_EXEMPT, F_NO_AUTH, F_NO_MULTI,
} from './table.js';
import { cText } from './args.js';
import { KeyTooLongError, OutOfMemoryError } from '../store/keyspace.js';
import { abortTransaction, execHandler } from './transactions.js';
import { newHistogram, recordLatency } from './latency.js';
import { slowCommand } from './slowlog.js';
import { commandDenied, queuedCommandDenied } from '../acl/gate.js';

const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Quotes the first arguments the way Redis's unknown-command error does (C strings: stop at NUL). */
function argsPreview(argv: Buffer[], from: number): string {
  let out = '';
  for (let i = from; i < argv.length && out.length < 128; i++) out += `'${cText(argv[i], 128 - out.length)}' `;
  return out;
}

/** An error that also dooms an open transaction (Redis's rejectCommand). */
function reject(c: Client, msg: string, spec?: CommandSpec): void {
  if (c.multi) c.multiError = true;
  if (spec?.stats) spec.stats.rejected++;
  c.addError(msg);
}

/** The argv processCommand last passed through the ACL check (call() need not check it again). */
let aclChecked: Buffer[] | null = null;

export function processCommand(table: CommandTable, c: Client, argv: Buffer[]): void {
  const server = c.server;
  server.keyspace.unpinAll();
  let spec = table.lookup(argv[0]);
  if (spec === undefined) {
    return reject(c, `ERR unknown command '${cText(argv[0], 128)}', with args beginning with: ${argsPreview(argv, 1)}`);
  }
  if (spec.subcommands && argv.length >= 2) {
    const sub = lookupSubcommand(spec, argv[1]);
    if (sub === undefined) {
      return reject(c, `ERR unknown subcommand '${cText(argv[1], 128)}'. Try ${spec.name.toUpperCase()} HELP.`);
    }
    spec = sub;
  }
  if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
    return reject(c, `ERR wrong number of arguments for '${spec.name}' command`, spec);
  }
  const bits = spec.bits as number;
  if (!c.authenticated && (bits & F_NO_AUTH) === 0 && c.authRequired()) {
    return reject(c, 'NOAUTH Authentication required.', spec);
  }
  if (c.multi !== null && (bits & F_NO_MULTI) !== 0) {
    return reject(c, 'ERR Command not allowed inside a transaction', spec);
  }
  // ACLs: a user who may run everything (the default user) costs one test.
  if (!c.user.unrestricted) {
    const denied = commandDenied(c, spec, argv);
    if (denied !== null && spec.handler === execHandler) {
      if (spec.stats) spec.stats.rejected++;
      return abortTransaction(c, denied);
    }
    if (denied !== null) return reject(c, denied, spec);
    aclChecked = argv;
  }
  // Inside MULTI every queued command counts as growing memory, and so does an
  // EXEC whose queue holds one that does (Redis 7's rules).
  const execGrows = c.multi !== null && spec.handler === execHandler && c.multi.some((q) => ((q.spec.bits as number) & F_DENYOOM) !== 0);
  const mayGrow = (bits & F_DENYOOM) !== 0 || execGrows || (c.multi !== null && (bits & F_MULTI_OOM_EXEMPT) === 0);
  if (mayGrow && !server.makeRoom()) {
    if (execGrows) {
      if (spec.stats) spec.stats.rejected++;
      return abortTransaction(c, ERR_OOM);
    }
    return reject(c, ERR_OOM, spec);
  }
  if (c.multi !== null && (bits & F_MULTI_CONTROL) === 0) {
    c.multi.push({ spec, argv: argv.map((a) => Buffer.from(a)) });
    c.addStatus('QUEUED');
    return;
  }
  call(c, spec, argv);
}

/**
 * Fast commands, and the writes that add data (SET, MSET, APPEND...: Redis
 * does not flag them fast, but they are), are timed with one clock read:
 * from the end of the previous command of the same read batch (or the
 * batch's start, server.timeMark), so their time includes parsing them. A
 * clock read costs about 40 ns: one per call is ~1.7% of a pipelined GET's
 * CPU (profiled), two would be twice that.
 */
const CHAINED = F_FAST | F_DENYOOM;

/**
 * Runs a handler and records it (EXEC calls this for each queued command):
 * INFO commandstats, the LATENCY HISTOGRAM buckets, and, for a call that
 * took at least server.slowUs, SLOWLOG and the latency monitor.
 */
export function call(c: Client, spec: CommandSpec, argv: Buffer[]): void {
  // A command EXEC runs from its queue (a copy of the argv checked above) is checked again, as in Redis.
  if (!c.user.unrestricted && argv !== aclChecked) {
    const denied = queuedCommandDenied(c, spec, argv);
    if (denied !== null) return c.addError(denied);
  }
  const server = c.server;
  const stats = server.stats;
  const errorsBefore = stats.errorReplies;
  c.lastCommand = spec.name;
  // Handles pinned by an earlier command (of the same EXEC, say) may be evicted again.
  server.keyspace.unpinAll();
  // Other commands are timed exactly, from here (EXEC's queued commands chain from it).
  if (((spec.bits as number) & CHAINED) === 0) server.timeMark = performance.now();
  const start = server.timeMark;
  guardedRun(c, spec, argv);
  const end = performance.now();
  server.timeMark = end;
  const us = (end - start) * 1000;
  // Read after the call: CONFIG RESETSTAT replaces the counters, and counts itself in the new ones (as Redis).
  const cs = spec.stats as NonNullable<CommandSpec['stats']>;
  cs.usec += us;
  recordLatency(cs.hist ?? (cs.hist = newHistogram()), us);
  if (us >= server.slowUs) slowCommand(c, spec, argv, us);
  cs.calls++;
  if (stats.errorReplies !== errorsBefore) cs.failed++;
  server.stats.totalCommands++;
}

/**
 * Runs the handler. A write that finds no memory within maxmemory (nothing
 * could be evicted) ends with Redis's OOM error; a bug that throws must not
 * take the server down with every other client's data. Either way the
 * partial reply is dropped so the stream stays well-formed; a bug's stack
 * goes to the log.
 */
function guardedRun(c: Client, spec: CommandSpec, argv: Buffer[]): void {
  const mark = c.replyMark();
  try {
    (spec.handler as NonNullable<CommandSpec['handler']>)(c, argv);
  } catch (e) {
    c.replyRollback(mark);
    if (e instanceof OutOfMemoryError) return c.addError(ERR_OOM);
    if (e instanceof KeyTooLongError) return c.addError(e.message);
    c.server.log('warning', `BUG: '${spec.name}' threw: ${(e as Error).stack ?? String(e)}`);
    c.addError(`ERR internal error in '${spec.name}' (see the server log)`);
  }
}
