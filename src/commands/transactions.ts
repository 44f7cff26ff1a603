// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing itself happens
// in dispatch.ts (commands are checked for arity etc. before being queued, and
// a failed check dooms the transaction: EXECABORT), and so does running the
// queue (runQueued), which is dispatch's own loop.

import type { CommandContext, Handler } from './context.js';
import { runQueued } from './dispatch.js';
import type { CommandDef } from './model/command-table.js';
import {
  ACL_TRANSACTION, CMD_ALLOW_BUSY, CMD_EXEC, CMD_FAST, CMD_LOADING, CMD_NOSCRIPT, CMD_SKIP_SLOWLOG, CMD_STALE, CMD_TX_CONTROL,
  CMD_TX_OOM_EXEMPT,
} from './model/flags.js';
import { keysFrom, KS_RO } from './model/key-specs.js';

function multi(c: CommandContext): void {
  if (c.multi) return c.addError('ERR MULTI calls can not be nested');
  c.multi = [];
  c.multiError = false;
  c.addOk();
}

/** Whether a key watched while alive has since expired (EXEC must fail, as in Redis 7). */
function watchedKeyExpired(c: CommandContext): boolean {
  const now = c.db.now();
  for (const w of c.watched) {
    if (w.expired) continue;
    const at = w.db.peekExpireAt(w.key);
    if (at > 0 && at <= now) return true;
  }
  return false;
}

function exec(c: CommandContext): void {
  const queue = c.multi;
  if (!queue) return c.addError('ERR EXEC without MULTI');
  if (c.multiError) {
    c.discardTransaction();
    return c.addError('EXECABORT Transaction discarded because of previous errors.');
  }
  if (c.dirtyCas || watchedKeyExpired(c)) {
    c.discardTransaction();
    return c.addNullArray();
  }
  // Unwatch first: the transaction's own writes must not mark it dirty.
  c.discardTransaction();
  runQueued(c, queue);
}

function discard(c: CommandContext): void {
  if (!c.multi) return c.addError('ERR DISCARD without MULTI');
  c.discardTransaction();
  c.addOk();
}

function watch(c: CommandContext, argv: Buffer[]): void {
  if (c.multi) return c.addError('ERR WATCH inside MULTI is not allowed');
  // A client that is already dirty stays dirty: watching more keys can't save it.
  const now = c.db.now();
  for (let i = 1; i < argv.length; i++) {
    const at = c.db.peekExpireAt(argv[i]);
    c.server.watches.watch(c, c.db, argv[i], at > 0 && at <= now);
  }
  c.addOk();
}

function unwatch(c: CommandContext): void {
  c.server.watches.unwatchAll(c);
  c.addOk();
}

const group = 'transactions';
const flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY;
// TX_CONTROL: runs at once inside MULTI; TX_OOM_EXEMPT: never refused for memory there.
export const transactionCommands: CommandDef<Handler>[] = [
  {
    name: 'multi', arity: 1, flags: flags | CMD_TX_CONTROL, acl: ACL_TRANSACTION, handler: multi,
    docs: { summary: 'Starts a transaction: later commands are queued until EXEC.', since: '1.2.0', group, complexity: 'O(1)' },
  },
  {
    name: 'exec', arity: 1, flags: CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG | CMD_TX_CONTROL | CMD_TX_OOM_EXEMPT | CMD_EXEC,
    acl: ACL_TRANSACTION, handler: exec,
    docs: { summary: 'Runs the queued commands of a transaction atomically.', since: '1.2.0', group, complexity: 'Depends on commands in the transaction' },
  },
  {
    name: 'discard', arity: 1, flags: flags | CMD_TX_CONTROL | CMD_TX_OOM_EXEMPT, acl: ACL_TRANSACTION, handler: discard,
    docs: { summary: 'Drops the queued commands of a transaction.', since: '2.0.0', group, complexity: 'O(N), when N is the number of queued commands' },
  },
  {
    name: 'watch', arity: -2, flags: flags | CMD_TX_CONTROL, acl: ACL_TRANSACTION, keySpecs: [keysFrom(1, KS_RO)], handler: watch,
    docs: { summary: 'Makes the next EXEC fail if any of the keys changes before it.', since: '2.2.0', group, complexity: 'O(1) for every key.', syntax: 'key [key ...]' },
  },
  {
    name: 'unwatch', arity: 1, flags, acl: ACL_TRANSACTION, handler: unwatch,
    docs: { summary: 'Forgets all keys watched by the connection.', since: '2.2.0', group, complexity: 'O(1)' },
  },
];
