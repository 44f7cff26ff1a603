// Argument parsing shared by every command family, with Redis's exact
// grammar. The *OrReply helpers send the error and return null, so a handler
// reads as a straight line of early returns.

import type { CommandContext } from './context.js';
import { parseInt64 } from '../util/int64.js';

export { argIs } from '../util/bytes.js';
export { parseInt64, parseInt64Big } from '../util/int64.js';

export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/**
 * What a lookup helper (lookupStringOrReply...) returns when it has already
 * replied with an error: the handler returns at once. -1 means missing.
 */
export const REPLIED = -2;

/** Integer argument or reply `msg` (default: not an integer) and null. */
export function intOrReply(c: CommandContext, b: Buffer, msg = ERR_NOT_INTEGER): number | null {
  const v = parseInt64(b);
  if (v === null) c.addError(msg);
  return v;
}

/** An argument as Redis prints it with %s (a C string): latin1, up to the first NUL, at most `max` bytes. */
export function cText(b: Buffer, max = Infinity): string {
  const nul = b.indexOf(0);
  const end = Math.min(nul < 0 ? b.length : nul, max);
  return b.toString('latin1', 0, end);
}

/** Bytes of an argument as a latin1 string (binary-exact), for error messages. */
export function bytesText(b: Buffer): string {
  return b.toString('latin1', 0, b.length);
}

/** Redis's reply for a subcommand given the wrong number of arguments (or an unknown one). */
export function subcommandSyntaxError(c: CommandContext, argv: Buffer[]): void {
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${cText(argv[1], 128)}'. Try ${cText(argv[0]).toUpperCase()} HELP.`);
}
