// String commands: GET, SET and friends.

import type { Client } from '../server/client.js';
import { ValueType } from '../store/keytable.js';
import { ERR_WRONGTYPE } from './args.js';
import type { CommandSpec } from './table.js';

/** Handle of a string key for reading, or -1 (missing); -2 after a WRONGTYPE reply. */
export function lookupStringOrReply(c: Client, key: Buffer): number {
  const h = c.db.lookupRead(key);
  if (h >= 0 && c.db.type(h) !== ValueType.String) {
    c.addError(ERR_WRONGTYPE);
    return -2;
  }
  return h;
}

function get(c: Client, argv: Buffer[]): void {
  const h = lookupStringOrReply(c, argv[1]);
  if (h === -2) return;
  if (h < 0) return c.addNull();
  c.addBulk(c.db.value(h));
}

function set(c: Client, argv: Buffer[]): void {
  c.db.setString(argv[1], argv[2]);
  c.addOk();
}

const group = 'string';
export const stringCommands: CommandSpec[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], acl: ['string'], keys: [1, 1, 1], handler: get,
    docs: { summary: 'Returns the string value of a key.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], acl: ['string'], keys: [1, 1, 1], handler: set,
    docs: { summary: 'Sets the string value of a key, with optional expiry and conditions.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]' },
  },
];
