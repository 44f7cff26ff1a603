// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing itself happens
// in dispatch.ts (commands are checked for arity etc. before being queued, and
// a failed check dooms the transaction: EXECABORT).

import type { Client } from '../server/client.js';
import { call } from './dispatch.js';
import type { CommandSpec } from './table.js';

function discardTransaction(c: Client): void {
  c.multi = null;
  c.multiError = false;
  c.server.unwatchAll(c);
}

/** EXEC refused before it runs (Redis's execCommandAbort): the transaction is discarded. */
export function abortTransaction(c: Client, err: string): void {
  discardTransaction(c);
  c.addError(`EXECABORT Transaction discarded because of: ${err}`);
}

function multi(c: Client): void {
  if (c.multi) return c.addError('ERR MULTI calls can not be nested');
  c.multi = [];
  c.multiError = false;
  c.addOk();
}

/** Whether a key watched while alive has since expired (EXEC must fail, as in Redis 7). */
function watchedKeyExpired(c: Client): boolean {
  const now = c.server.now();
  for (const w of c.watched) {
    if (w.expired) continue;
    const h = w.db.table.find(w.key);
    if (h < 0) continue;
    const at = w.db.table.expireAt(h);
    if (at !== 0 && at <= now) return true;
  }
  return false;
}

/** EXEC's handler; dispatch knows it by it (an EXEC whose queue writes is checked against maxmemory). */
export function execHandler(c: Client): void {
  const queue = c.multi;
  if (!queue) return c.addError('ERR EXEC without MULTI');
  if (c.multiError) {
    discardTransaction(c);
    return c.addError('EXECABORT Transaction discarded because of previous errors.');
  }
  if (c.dirtyCas || watchedKeyExpired(c)) {
    discardTransaction(c);
    return c.addNullArray();
  }
  // Unwatch first: the transaction's own writes must not mark it dirty.
  c.multi = null;
  c.server.unwatchAll(c);
  c.addArrayLen(queue.length);
  for (const q of queue) call(c, q.spec, q.argv);
}

function discard(c: Client): void {
  if (!c.multi) return c.addError('ERR DISCARD without MULTI');
  discardTransaction(c);
  c.addOk();
}

function watch(c: Client, argv: Buffer[]): void {
  if (c.multi) return c.addError('ERR WATCH inside MULTI is not allowed');
  // A client that is already dirty stays dirty: watching more keys can't save it.
  const now = c.server.now();
  for (let i = 1; i < argv.length; i++) {
    const h = c.db.table.find(argv[i]);
    const at = h < 0 ? 0 : c.db.table.expireAt(h);
    c.server.watches.watch(c, c.db, argv[i], at !== 0 && at <= now);
  }
  c.addOk();
}

function unwatch(c: Client): void {
  c.server.unwatchAll(c);
  c.addOk();
}

const group = 'transactions';
const flags = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'] as CommandSpec['flags'];
export const transactionCommands: CommandSpec[] = [
  {
    name: 'multi', arity: 1, flags, acl: ['transaction'], handler: multi,
    docs: { summary: 'Starts a transaction: later commands are queued until EXEC.', since: '1.2.0', group, complexity: 'O(1)' },
  },
  {
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], acl: ['transaction'], handler: execHandler,
    docs: { summary: 'Runs the queued commands of a transaction atomically.', since: '1.2.0', group, complexity: 'Depends on commands in the transaction' },
  },
  {
    name: 'discard', arity: 1, flags, acl: ['transaction'], handler: discard,
    docs: { summary: 'Drops the queued commands of a transaction.', since: '2.0.0', group, complexity: 'O(N), when N is the number of queued commands' },
  },
  {
    name: 'watch', arity: -2, flags, acl: ['transaction'], keys: [1, -1, 1], handler: watch,
    docs: { summary: 'Makes the next EXEC fail if any of the keys changes before it.', since: '2.2.0', group, complexity: 'O(1) for every key.', syntax: 'key [key ...]' },
  },
  {
    name: 'unwatch', arity: 1, flags, acl: ['transaction'], handler: unwatch,
    docs: { summary: 'Forgets all keys watched by the connection.', since: '2.2.0', group, complexity: 'O(1)' },
  },
];
