// DUMP and RESTORE: one value in Redis's payload format (src/persistence/
// dump-payload.ts), so that a string moves between kvslab and Redis either
// way, and a tensor between kvslab servers.

import type { CommandContext, Handler } from './context.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_DANGEROUS, ACL_KEYSPACE, CMD_DENYOOM, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import { keyAt, KS_ACCESS, KS_OW, KS_RO, KS_UPDATE } from './model/key-specs.js';
import { argIs, ERR_NOT_INTEGER, ERR_SYNTAX, parseInt64Big } from './args.js';
import { dumpPayload, readDumpPayload } from '../persistence/dump-payload.js';

function dump(c: CommandContext, argv: Buffer[]): void {
  const h = c.db.lookupRead(argv[1]);
  if (h < 0) return c.addNull();
  c.addBulk(dumpPayload(c.db, h, c.server.config.bool('rdbcompression')));
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ n]: checked in Redis's order. */
function restore(c: CommandContext, argv: Buffer[]): void {
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const more = argv.length - j - 1;
    if (argIs(argv[j], 'replace')) {
      replace = true;
    } else if (argIs(argv[j], 'absttl')) {
      absttl = true;
    } else if (argIs(argv[j], 'idletime') && more >= 1 && freq === -1) {
      const v = parseInt64Big(argv[++j]);
      if (v === null) return c.addError(ERR_NOT_INTEGER);
      if (v < 0n) return c.addError('ERR Invalid IDLETIME value, must be >= 0');
      idle = Number(v);
    } else if (argIs(argv[j], 'freq') && more >= 1 && idle === -1) {
      const v = parseInt64Big(argv[++j]);
      if (v === null) return c.addError(ERR_NOT_INTEGER);
      if (v < 0n || v > 255n) return c.addError('ERR Invalid FREQ value, must be >= 0 and <= 255');
      freq = Number(v);
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  const key = argv[1];
  const db = c.db;
  if (!replace && db.lookupWrite(key) >= 0) return c.addError('BUSYKEY Target key name already exists.');
  let ttl = parseInt64Big(argv[2]);
  if (ttl === null) return c.addError(ERR_NOT_INTEGER);
  if (ttl < 0n) return c.addError('ERR Invalid TTL value, must be >= 0');
  const v = readDumpPayload(argv[3]);
  if ('error' in v) {
    if (v.error === 'checksum') return c.addError('ERR DUMP payload version or checksum are wrong');
    return c.addError(v.detail === undefined ? 'ERR Bad data format' : `ERR Bad data format: ${v.detail}`);
  }
  if (replace) db.delete(key);
  if (ttl !== 0n && !absttl) ttl += BigInt(db.now());
  // Already expired: as Redis, OK and no key (REPLACE has deleted the old one).
  if (ttl !== 0n && ttl <= BigInt(db.now())) return c.addOk();
  const h = db.add(key, v.type, v.value, ttl);
  db.restoreAccess(h, idle, freq);
  c.addOk();
}

const group = 'generic';
export const dumpCommands: CommandDef<Handler>[] = [
  {
    name: 'dump', arity: 2, flags: CMD_READONLY, acl: ACL_KEYSPACE, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: dump,
    tips: ['nondeterministic_output'],
    docs: { summary: 'Returns the value of a key serialized in the RDB format, for RESTORE.', since: '2.6.0', group, complexity: 'O(1) to access the key and O(N*M) to serialize it, N the objects composing the value and M their average size', syntax: 'key' },
  },
  {
    name: 'restore', arity: -4, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_KEYSPACE | ACL_DANGEROUS, keySpecs: [keyAt(1, KS_OW | KS_UPDATE)], handler: restore,
    docs: { summary: 'Creates a key from the serialized value DUMP gave.', since: '2.6.0', group, complexity: 'O(1) to create the new key and O(N*M) to reconstruct the serialized value, N the objects composing the value and M their average size', syntax: 'key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]' },
  },
];
