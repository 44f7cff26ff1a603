// MIGRATE: keys go to another server (a Redis or a kvslab) as RESTOREs of
// their DUMP payloads, and are deleted here once the target has said OK to
// each (unless COPY). As in Redis the whole server waits for the target
// (src/persistence/migrate-link.ts): no command runs between the target's
// RESTORE and our DEL. Outside cluster mode the target is sent RESTORE, not
// RESTORE-ASKING; the TTL goes relative, in ms. Connections are cached by
// host:port for 10 s, with the db last selected on them.

import type { CommandContext, Handler } from './context.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_DANGEROUS, ACL_KEYSPACE, CMD_WRITE } from './model/flags.js';
import { KS_ACCESS, KS_DELETE, KS_INCOMPLETE, KS_RW, type KeyRef } from './model/key-specs.js';
import { argIs, cText, ERR_NOT_INTEGER, ERR_SYNTAX, intOrReply, parseInt64Big } from './args.js';
import { DumpWriter } from '../persistence/dump-payload.js';
import type { LinkConn, LinkReply, MigrateLink } from '../persistence/migrate-link.js';
import { commandParts } from '../protocol/command-wire.js';

interface MigrateOptions {
  copy: boolean;
  replace: boolean;
  username: Buffer | null;
  password: Buffer | null;
  /** Where the keys are in argv: the key argument, or what follows KEYS. */
  firstKey: number;
  numKeys: number;
}

/** What one attempt sends and how it waits. */
interface Job {
  opts: MigrateOptions;
  dbid: bigint;
  ms: number;
  keys: Buffer[];
  /** The RESTORE command of each key, as wire pieces (a payload is not copied into one buffer). */
  restores: Buffer[][];
}

/** A socket error of an attempt (Redis's socket_err): whether writing, and whether a second attempt may follow. */
interface SocketError {
  writing: boolean;
  retry: boolean;
}

/** The options from argv[6], in Redis's order; null once an error is sent. */
function parseOptions(c: CommandContext, argv: Buffer[]): MigrateOptions | null {
  const o: MigrateOptions = { copy: false, replace: false, username: null, password: null, firstKey: 3, numKeys: 1 };
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (argIs(argv[j], 'copy')) {
      o.copy = true;
    } else if (argIs(argv[j], 'replace')) {
      o.replace = true;
    } else if (argIs(argv[j], 'auth') && more >= 1) {
      // The username of an earlier AUTH2 stays, as in Redis.
      o.password = argv[++j];
    } else if (argIs(argv[j], 'auth2') && more >= 2) {
      o.username = argv[++j];
      o.password = argv[++j];
    } else if (argIs(argv[j], 'keys')) {
      if (argv[3].length !== 0) {
        c.addError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
        return null;
      }
      o.firstKey = j + 1;
      o.numKeys = argv.length - j - 1;
      break;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  return o;
}

const RESTORE = Buffer.from('RESTORE');
const REPLACE = Buffer.from('REPLACE');
const AUTH = Buffer.from('AUTH');
const SELECT = Buffer.from('SELECT');

/** RESTORE key ttl payload [REPLACE] for each key, the TTL left in ms (0 for none, at least 1 otherwise). */
function restoreCommands(c: CommandContext, keys: Buffer[], handles: number[], replace: boolean): Buffer[][] {
  const db = c.db;
  const dump = new DumpWriter(c.server.config.bool('rdbcompression'));
  return keys.map((key, i) => {
    const h = handles[i];
    const at = db.expireAtExact(h);
    const left = at - BigInt(db.now());
    const ttl = at === 0n ? 0n : left < 1n ? 1n : left;
    const args = [RESTORE, key, Buffer.from(String(ttl)), dump.payload(db, h)];
    return commandParts(replace ? [...args, REPLACE] : args);
  });
}

/** An error reply's text as Redis quotes it (read into a 1 KiB line buffer, printed with %s), or null. */
function errorText(r: LinkReply | null): string | null {
  if (r === null || r.status !== 'ok' || r.type !== 0x2d) return null;
  return cText(r.line, 1022);
}

/**
 * One try on a connection: send AUTH, SELECT (unless the db is already
 * selected) and the RESTOREs together, then read each reply, deleting a key
 * once its RESTORE is acknowledged. Null once the reply is sent; the socket
 * error otherwise (the caller closes the connection).
 */
function attempt(c: CommandContext, link: MigrateLink, conn: LinkConn, job: Job): SocketError | null {
  const { opts, ms } = job;
  const select = BigInt(conn.lastDb) !== job.dbid;
  const parts: Buffer[] = [];
  if (opts.password) parts.push(...commandParts(opts.username ? [AUTH, opts.username, opts.password] : [AUTH, opts.password]));
  if (select) parts.push(...commandParts([SELECT, Buffer.from(String(job.dbid))]));
  for (const r of job.restores) parts.push(...r);
  const written = link.write(conn, parts, ms);
  if (written !== 'ok') return { writing: true, retry: written === 'error' };
  const auth = opts.password ? link.read(conn, ms) : null;
  if (auth && auth.status !== 'ok') return { writing: false, retry: auth.status === 'error' };
  const selected = select ? link.read(conn, ms) : null;
  if (selected && selected.status !== 'ok') return { writing: false, retry: selected.status === 'error' };
  // A failed AUTH or SELECT fails every RESTORE after it, and is the error reported.
  const earlier = errorText(auth) ?? errorText(selected);
  let targetError: string | null = null;
  for (let j = 0; j < job.keys.length; j++) {
    const r = link.read(conn, ms);
    if (r.status !== 'ok') {
      // Retried only when nothing was acknowledged, and not after a timeout.
      if (targetError === null) return { writing: false, retry: j === 0 && r.status === 'error' };
      // The target's error is the reply; the connection is of no more use.
      link.close(conn);
      return replyTargetError(c, targetError);
    }
    const err = earlier ?? errorText(r);
    if (err !== null) targetError ??= err;
    else if (!opts.copy) c.db.delete(job.keys[j]);
  }
  if (targetError !== null) {
    // The target may not be in the db we think: SELECT again next time.
    link.setDb(conn, -1);
    return replyTargetError(c, targetError);
  }
  // Remembered to spare the next MIGRATE to this db its SELECT.
  link.setDb(conn, job.dbid >= -(2n ** 31n) && job.dbid < 2n ** 31n ? Number(job.dbid) : -1);
  c.addOk();
  return null;
}

function replyTargetError(c: CommandContext, text: string): null {
  c.addError(`ERR Target instance replied with error: ${text}`);
  return null;
}

/** MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key ...] */
function migrate(c: CommandContext, argv: Buffer[]): void {
  const opts = parseOptions(c, argv);
  if (opts === null) return;
  const timeout = intOrReply(c, argv[5]);
  if (timeout === null) return;
  const dbid = parseInt64Big(argv[4]);
  if (dbid === null) return c.addError(ERR_NOT_INTEGER);
  // The keys that exist; NOKEY, not an error, when none does (they may just have expired).
  const keys: Buffer[] = [];
  const handles: number[] = [];
  for (const key of argv.slice(opts.firstKey, opts.firstKey + opts.numKeys)) {
    const h = c.db.lookupRead(key);
    if (h >= 0) {
      keys.push(key);
      handles.push(h);
    }
  }
  if (keys.length === 0) return c.addStatus('NOKEY');
  const job: Job = { opts, dbid, ms: timeout <= 0 ? 1000 : timeout, keys, restores: restoreCommands(c, keys, handles, opts.replace) };
  const link = c.server.migrateLink;
  // A cached connection the target has closed fails the first try: one more, on a new connection.
  for (let retry = true; ; retry = false) {
    const conn = link.open(argv[1], argv[2], job.ms);
    if (conn === null) return c.addError('IOERR error or timeout connecting to the client');
    const failed = attempt(c, link, conn, job);
    if (failed === null) return;
    link.close(conn);
    if (!(failed.retry && retry)) return c.addError(`IOERR error or timeout ${failed.writing ? 'writing' : 'reading'} to target instance`);
  }
}

const DELETED = KS_RW | KS_ACCESS | KS_DELETE;

/** The keys as Redis's migrateGetKeys finds them: the key argument, or after KEYS (none if the key argument is set too). */
function migrateKeys(argv: readonly Buffer[]): KeyRef[] {
  let first = 3;
  let num = 1;
  for (let i = 6; i < argv.length; i++) {
    if (argIs(argv[i], 'keys')) {
      first = i + 1;
      num = argv[3].length > 0 ? 0 : argv.length - first;
      break;
    }
    if (argIs(argv[i], 'auth')) i += 1;
    else if (argIs(argv[i], 'auth2')) i += 2;
  }
  return Array.from({ length: num }, (_, k) => ({ pos: first + k, flags: DELETED }));
}

export const migrateCommands: CommandDef<Handler>[] = [
  {
    name: 'migrate', arity: -6, flags: CMD_WRITE, acl: ACL_KEYSPACE | ACL_DANGEROUS, handler: migrate, getKeys: migrateKeys,
    keySpecs: [
      { flags: DELETED, begin: { index: 3 }, find: { lastkey: 0, keystep: 1, limit: 0 } },
      { flags: DELETED | KS_INCOMPLETE, begin: { keyword: 'keys', startFrom: -2 }, find: { lastkey: -1, keystep: 1, limit: 0 } },
    ],
    tips: ['nondeterministic_output'],
    docs: {
      summary: 'Atomically transfer a key from a Redis instance to another one.', since: '2.6.0', group: 'generic',
      complexity: 'This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.',
      syntax: 'host port <key | ""> destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]',
    },
  },
];
