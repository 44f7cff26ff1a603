// From argv to handler: lookup, arity, authentication, memory and transaction
// checks, in the order Redis's processCommand makes them (the order decides
// which error a client sees when several apply).

import type { Client } from '../server/client.js';
import { CommandSpec, CommandTable, lookupSubcommand } from './table.js';

/** Commands that run immediately even inside MULTI. */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
const MULTI_EXEMPT_FROM_OOM = new Set(['exec', 'discard', 'quit', 'reset']);

/** Quotes the first arguments the way Redis's unknown-command error does (C strings: stop at NUL). */
function argsPreview(argv: Buffer[], from: number): string {
  let out = '';
  for (let i = from; i < argv.length && out.length < 128; i++) {
    let s = argv[i].toString('latin1', 0, argv[i].length);
    const nul = s.indexOf('\0');
    if (nul >= 0) s = s.slice(0, nul);
    out += `'${s.slice(0, 128 - out.length)}' `;
  }
  return out;
}

function cString(b: Buffer, max: number): string {
  let s = b.toString('latin1', 0, Math.min(b.length, max));
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  return s;
}

/** An error that also dooms an open transaction (Redis's rejectCommand). */
function reject(c: Client, msg: string, spec?: CommandSpec): void {
  if (c.multi) c.multiError = true;
  if (spec?.stats) spec.stats.rejected++;
  c.addError(msg);
}

export function processCommand(table: CommandTable, c: Client, argv: Buffer[]): void {
  const server = c.server;
  let spec = table.lookup(argv[0]);
  if (spec === undefined) {
    return reject(c, `ERR unknown command '${cString(argv[0], 128)}', with args beginning with: ${argsPreview(argv, 1)}`);
  }
  if (spec.subcommands && argv.length >= 2) {
    const sub = lookupSubcommand(spec, argv[1]);
    if (sub === undefined) {
      return reject(c, `ERR unknown subcommand '${cString(argv[1], 128)}'. Try ${spec.name.toUpperCase()} HELP.`);
    }
    spec = sub;
  }
  if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
    return reject(c, `ERR wrong number of arguments for '${spec.name}' command`, spec);
  }
  if (!c.authenticated && !spec.flags.includes('no_auth')) {
    return reject(c, 'NOAUTH Authentication required.', spec);
  }
  if (c.multi && spec.flags.includes('no_multi')) {
    return reject(c, 'ERR Command not allowed inside a transaction', spec);
  }
  // Inside MULTI every queued command counts as growing memory (Redis 7 rule).
  const mayGrow = spec.flags.includes('denyoom') || (c.multi !== null && !MULTI_EXEMPT_FROM_OOM.has(spec.name));
  if (mayGrow && server.outOfMemory()) {
    return reject(c, "OOM command not allowed when used memory > 'maxmemory'.", spec);
  }
  if (c.multi && !MULTI_CONTROL.has(spec.name)) {
    c.multi.push({ spec, argv: argv.map((a) => Buffer.from(a)) });
    c.addStatus('QUEUED');
    return;
  }
  call(c, spec, argv);
}

/** Runs a handler and records it (EXEC calls this for each queued command). */
export function call(c: Client, spec: CommandSpec, argv: Buffer[]): void {
  const stats = c.server.stats;
  const errorsBefore = stats.errorReplies;
  const start = performance.now();
  c.lastCommand = spec.name;
  (spec.handler as NonNullable<CommandSpec['handler']>)(c, argv);
  const cs = spec.stats as NonNullable<CommandSpec['stats']>;
  cs.calls++;
  cs.usec += (performance.now() - start) * 1000;
  if (stats.errorReplies !== errorsBefore) cs.failed++;
  stats.totalCommands++;
}
