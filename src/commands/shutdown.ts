// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: the final save (as the save rules
// say, or as asked), then replies due go out and the server stops.

import type { CommandContext, Handler } from './context.js';
import { argIs, ERR_SYNTAX } from './args.js';
import type { CommandDef } from './model/command-table.js';
import { CMD_ADMIN, CMD_ALLOW_BUSY, CMD_LOADING, CMD_NO_MULTI, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';

function shutdown(c: CommandContext, argv: Buffer[]): void {
  let save = false;
  let nosave = false;
  let abort = false;
  let force = false;
  let now = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (argIs(a, 'nosave')) nosave = true;
    else if (argIs(a, 'save')) save = true;
    else if (argIs(a, 'abort')) abort = true;
    else if (argIs(a, 'now')) now = true;
    else if (argIs(a, 'force')) force = true;
    else return c.addError(ERR_SYNTAX);
  }
  const other = now || force;
  // ABORT goes alone (repeating it is fine, as in Redis).
  if ((abort && (save || nosave || other)) || (save && nosave)) return c.addError(ERR_SYNTAX);
  // Shutdown never waits for replicas here, so there is never one to abort.
  if (abort) return c.addError('ERR No shutdown in progress.');
  // NOW has nothing to skip (no replicas to wait for). FORCE exits even when the final save fails.
  if (!c.server.shutdown('SHUTDOWN', save ? 'save' : nosave ? 'nosave' : 'rules', force)) {
    c.addError('ERR Errors trying to SHUTDOWN. Check logs.');
  }
}

export const shutdownCommands: CommandDef<Handler>[] = [
  {
    name: 'shutdown', arity: -1, flags: CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY, handler: shutdown,
    docs: { summary: 'Stops the server after flushing replies to every client.', since: '1.0.0', group: 'server', complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)', syntax: '[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]' },
  },
];
