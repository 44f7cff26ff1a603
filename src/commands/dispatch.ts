// From argv to handler: lookup, arity, authentication, memory and transaction
// checks, in the order Redis's processCommand makes them (the order decides
// which error a client sees when several apply); then the call, timed and
// counted (Redis's call()). EXEC's loop over its queue is here too, so that
// every command, queued or not, runs through the same call().

import type { CommandContext, Handler, QueuedCommand } from './context.js';
import { subcommandOf, type Command } from './model/command-table.js';
import {
  CMD_DENYOOM, CMD_EXEC, CMD_FAST, CMD_NO_AUTH, CMD_NO_MULTI, CMD_SKIP_SLOWLOG, CMD_TX_CONTROL, CMD_TX_OOM_EXEMPT, CMD_WRITE, CMD_LOADING,
} from './model/flags.js';
import { ERR_MISCONF } from '../persistence/persistence.js';
import { cText, ERR_OOM } from './args.js';
import { KeyTooLongError, OutOfMemoryError } from '../store/errors.js';
import { newHistogram, recordLatency } from '../monitor/latency-histogram.js';
import { slowlogArgs } from './slowlog.js';
import { commandDenied, queuedCommandDenied } from '../acl/gate.js';
import { clusterRefusal } from './cluster-routing.js';
import { ERR_TRYAGAIN } from '../cluster/cluster-state.js';

/** Quotes the first arguments the way Redis's unknown-command error does (C strings: stop at NUL). */
function argsPreview(argv: Buffer[], from: number): string {
  let out = '';
  for (let i = from; i < argv.length && out.length < 128; i++) out += `'${cText(argv[i], 128 - out.length)}' `;
  return out;
}

/** An error that also dooms an open transaction (Redis's rejectCommand). */
function reject(c: CommandContext, msg: string, cmd?: Command<Handler>): void {
  if (c.multi) c.multiError = true;
  if (cmd) cmd.stats.rejected++;
  c.addError(msg);
}

/** EXEC refused before it runs (Redis's execCommandAbort): the transaction is discarded. */
function abortExec(c: CommandContext, cmd: Command<Handler>, err: string): void {
  cmd.stats.rejected++;
  c.discardTransaction();
  c.addError(`EXECABORT Transaction discarded because of: ${err}`);
}

export function processCommand(c: CommandContext, argv: Buffer[]): void {
  const server = c.server;
  server.store.unpinAll();
  let cmd = server.commands.lookup(argv[0]);
  if (cmd === undefined) {
    return reject(c, `ERR unknown command '${cText(argv[0], 128)}', with args beginning with: ${argsPreview(argv, 1)}`);
  }
  if (cmd.subcommands.length > 0 && argv.length >= 2) {
    const sub = subcommandOf(cmd, argv[1]);
    if (sub === undefined) {
      return reject(c, `ERR unknown subcommand '${cText(argv[1], 128)}'. Try ${cmd.name.toUpperCase()} HELP.`);
    }
    cmd = sub;
  }
  if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
    return reject(c, `ERR wrong number of arguments for '${cmd.name}' command`, cmd);
  }
  const flags = cmd.flags;
  if (!c.authenticated && (flags & CMD_NO_AUTH) === 0 && server.acl.authRequired()) {
    return reject(c, 'NOAUTH Authentication required.', cmd);
  }
  if (c.multi !== null && (flags & CMD_NO_MULTI) !== 0) {
    return reject(c, 'ERR Command not allowed inside a transaction', cmd);
  }
  // ACLs: a user who may run everything (the default user) costs one test.
  if (!c.user.unrestricted) {
    const denied = commandDenied(server.acl, c, cmd, argv);
    if (denied !== null && (flags & CMD_EXEC) !== 0) return abortExec(c, cmd, denied);
    if (denied !== null) return reject(c, denied, cmd);
  }
  // Cluster mode: keys of one slot this node owns, else a redirection (Redis checks after the ACL, before memory).
  // Off, this costs one null test. A refused EXEC discards the transaction; a refused queued command dooms it.
  const cluster = server.cluster;
  if (cluster !== null && !c.importStream) {
    const refused = clusterRefusal(cluster, c, cmd, argv);
    if (refused !== null) {
      // A write to a slot whose last keys are on their way waits for them (not every client library retries TRYAGAIN).
      if (refused === ERR_TRYAGAIN && c.park(argv)) return;
      if ((flags & CMD_EXEC) !== 0) c.discardTransaction();
      return reject(c, refused, cmd);
    }
  }
  // Inside MULTI every queued command counts as growing memory, and so does an
  // EXEC whose queue holds one that does (Redis 7's rules).
  const execGrows = c.multi !== null && (flags & CMD_EXEC) !== 0 && c.multi.some((q) => (q.cmd.flags & CMD_DENYOOM) !== 0);
  const mayGrow = (flags & CMD_DENYOOM) !== 0 || execGrows || (c.multi !== null && (flags & CMD_TX_OOM_EXEMPT) === 0);
  if (mayGrow && !server.makeRoom()) {
    if (execGrows) return abortExec(c, cmd, ERR_OOM);
    return reject(c, ERR_OOM, cmd);
  }
  // After a failed background save (stop-writes-on-bgsave-error): writes, an EXEC of writes, and PING, as Redis.
  if (server.persistence.refusingWrites && refusedByMisconf(c, cmd)) {
    if ((flags & CMD_EXEC) !== 0) return abortExec(c, cmd, ERR_MISCONF);
    return reject(c, ERR_MISCONF, cmd);
  }
  // The dump is loading: only commands flagged for it run (and an EXEC of only those), as Redis.
  if (server.persistence.isLoading && refusedWhileLoading(c, cmd)) return reject(c, ERR_LOADING, cmd);
  if (c.multi !== null && (flags & CMD_TX_CONTROL) === 0) {
    c.multi.push({ cmd, argv: argv.map((a) => Buffer.from(a)) });
    c.addStatus('QUEUED');
    return;
  }
  call(c, cmd, argv);
}

const ERR_LOADING = 'LOADING Redis is loading the dataset in memory';

function refusedWhileLoading(c: CommandContext, cmd: Command<Handler>): boolean {
  if ((cmd.flags & CMD_LOADING) === 0) return true;
  return (cmd.flags & CMD_EXEC) !== 0 && c.multi !== null && c.multi.some((q) => (q.cmd.flags & CMD_LOADING) === 0);
}

function refusedByMisconf(c: CommandContext, cmd: Command<Handler>): boolean {
  if ((cmd.flags & CMD_WRITE) !== 0 || cmd.name === 'ping') return true;
  return (cmd.flags & CMD_EXEC) !== 0 && c.multi !== null && c.multi.some((q) => (q.cmd.flags & CMD_WRITE) !== 0);
}

/** EXEC's loop: the reply is an array of the queued commands' replies. Each is checked against the ACL again. */
export function runQueued(c: CommandContext, queue: QueuedCommand[]): void {
  c.addArrayLen(queue.length);
  c.server.inExec = true;
  try {
    runQueue(c, queue);
  } finally {
    c.server.inExec = false;
  }
}

function runQueue(c: CommandContext, queue: QueuedCommand[]): void {
  for (const q of queue) {
    // The rules may have changed since the command was queued: Redis checks again.
    if (!c.user.unrestricted) {
      const denied = queuedCommandDenied(c.server.acl, c, q.cmd, q.argv);
      if (denied !== null) {
        c.addError(denied);
        continue;
      }
    }
    call(c, q.cmd, q.argv);
  }
}

/**
 * Fast commands, and the writes that add data (SET, MSET, APPEND...: Redis
 * does not flag them fast, but they are), are timed with one clock read:
 * from the end of the previous command of the same read batch (or the
 * batch's start, server.timeMark), so their time includes parsing them. A
 * clock read costs about 40 ns: one per call is ~1.7% of a pipelined GET's
 * CPU (profiled), two would be twice that.
 */
const CHAINED = CMD_FAST | CMD_DENYOOM;

/**
 * Runs a handler and records it: INFO commandstats, the LATENCY HISTOGRAM
 * buckets, and, for a call that took at least server.slowUs, the slow log and
 * the latency monitor.
 */
function call(c: CommandContext, cmd: Command<Handler>, argv: Buffer[]): void {
  const server = c.server;
  const stats = server.stats;
  const errorsBefore = stats.errorReplies;
  c.lastCommand = cmd.name;
  // Handles pinned by an earlier command (of the same EXEC, say) may be evicted again.
  server.store.unpinAll();
  // Other commands are timed exactly, from here (EXEC's queued commands chain from it).
  if ((cmd.flags & CHAINED) === 0) server.timeMark = performance.now();
  const start = server.timeMark;
  guardedRun(c, cmd, argv);
  const end = performance.now();
  server.timeMark = end;
  const us = (end - start) * 1000;
  // Read after the call: CONFIG RESETSTAT replaces the counters, and counts itself in the new ones (as Redis).
  const cs = cmd.stats;
  cs.usec += us;
  recordLatency(cs.hist ?? (cs.hist = newHistogram()), us);
  if (us >= server.slowUs) slowCall(c, cmd, argv, us);
  cs.calls++;
  if (stats.errorReplies !== errorsBefore) cs.failed++;
  stats.totalCommands++;
}

/** A call that took `us` µs, at least server.slowUs: into the slow log and the latency monitor as they ask. */
function slowCall(c: CommandContext, cmd: Command<Handler>, argv: Buffer[], us: number): void {
  const server = c.server;
  const d = Math.floor(us);
  const threshold = server.config.int('slowlog-log-slower-than');
  if (threshold >= 0 && d >= threshold && (cmd.flags & CMD_SKIP_SLOWLOG) === 0) {
    server.slowLog.push(slowlogArgs(cmd, argv), d, c.addr, c.name);
  }
  server.latency.addSampleIfNeeded((cmd.flags & CMD_FAST) !== 0 ? 'fast-command' : 'command', Math.floor(d / 1000));
}

/**
 * Runs the handler. A write that finds no memory within maxmemory (nothing
 * could be evicted) ends with Redis's OOM error; a bug that throws must not
 * take the server down with every other client's data. Either way the
 * partial reply is dropped so the stream stays well-formed; a bug's stack
 * goes to the log.
 */
function guardedRun(c: CommandContext, cmd: Command<Handler>, argv: Buffer[]): void {
  const mark = c.replyMark();
  try {
    (cmd.handler as Handler)(c, argv);
  } catch (e) {
    c.replyRollback(mark);
    if (e instanceof OutOfMemoryError) return c.addError(ERR_OOM);
    if (e instanceof KeyTooLongError) return c.addError(e.message);
    c.server.log('warning', `BUG: '${cmd.name}' threw: ${(e as Error).stack ?? String(e)}`);
    c.addError(`ERR internal error in '${cmd.name}' (see the server log)`);
  }
}
