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
  if (!c.authenticated && (bits & F_NO_AUTH) === 0) {
    return reject(c, 'NOAUTH Authentication required.', spec);
  }
  if (c.multi !== null && (bits & F_NO_MULTI) !== 0) {
    return reject(c, 'ERR Command not allowed inside a transaction', spec);
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
 * does not flag them fast, but they are), are timed one call in
 * TIMING_SAMPLE: two clock reads cost more than a SET itself.
 */
const TIMING_SAMPLE = 16;
const SAMPLED = F_FAST | F_DENYOOM;
let timingTick = 0;

/**
 * Runs a handler and records it (EXEC calls this for each queued command).
 * INFO commandstats' usec is exact for other commands and, for the sampled
 * ones, estimated from every 16th call.
 */
export function call(c: Client, spec: CommandSpec, argv: Buffer[]): void {
  const stats = c.server.stats;
  const errorsBefore = stats.errorReplies;
  const cs = spec.stats as NonNullable<CommandSpec['stats']>;
  c.lastCommand = spec.name;
  // Handles pinned by an earlier command (of the same EXEC, say) may be evicted again.
  c.server.keyspace.unpinAll();
  const sampled = ((spec.bits as number) & SAMPLED) !== 0;
  if (!sampled || ++timingTick === TIMING_SAMPLE) {
    const weight = sampled ? TIMING_SAMPLE : 1;
    timingTick = 0;
    const start = performance.now();
    guardedRun(c, spec, argv);
    cs.usec += (performance.now() - start) * 1000 * weight;
  } else {
    guardedRun(c, spec, argv);
  }
  cs.calls++;
  if (stats.errorReplies !== errorsBefore) cs.failed++;
  stats.totalCommands++;
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
