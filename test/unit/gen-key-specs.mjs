#!/usr/bin/env node
// Generates test/unit/key-specs.expected.ts: what COMMAND GETKEYSANDFLAGS says
// for an argv, for every command and subcommand kvslab has. The unit test of
// kvslab's key-spec model reads that table; this script is not run by the test
// suite.
//
// To regenerate, build kvslab and start it and Debian's redis-server 7.0.15 side
// by side, then run this script with their ports:
//
//   npx tsc -p tsconfig.json
//   bin/kvslab-server --port 7391 --save '' &
//   redis-server --port 7392 --save '' --appendonly no &
//   node test/unit/gen-key-specs.mjs --kvslab 7391 --redis 7392
//
// (--out FILE writes elsewhere; --check writes nothing and only reports.)
//
// Where the expectations come from:
//  - R(...) cases (source 'redis-7.0.15'): Redis's own answer. The key names it
//    returns are mapped back to argv positions by walking argv in order, so
//    every key name in these argv is unique unless the case is R.rep(...)
//    (a deliberately repeated key, e.g. EXISTS a a), where walking in order
//    gives the positions.
//  - H(...) cases (source 'hand'): commands Redis 7.0.15 lacks (KV.*, CLIENT
//    SETINFO), and one-word argv that GETKEYSANDFLAGS cannot be asked about (it
//    needs at least the command and one argument). The expectation is written
//    here from the command's documented syntax (COMMAND DOCS / src/commands/
//    tensor.ts) and its declared key-spec flags (COMMAND INFO); the script
//    checks it against kvslab's GETKEYSANDFLAGS, or, for one-word argv, against
//    COMMAND INFO of kvslab and Redis (no key specs, first key 0).
//
// Every difference between kvslab's current answer and the expectation is
// printed at the end; they are not errors of this script (the table says what
// kvslab should answer). The script fails if a kvslab command or subcommand has
// no case, or if Redis is not 7.0.15.

import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';

// ---------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}
const KVSLAB_PORT = Number(opt('--kvslab', process.env.KVSLAB_PORT ?? 7391));
const REDIS_PORT = Number(opt('--redis', process.env.REDIS_PORT ?? 7392));
const OUT = opt('--out', new URL('./key-specs.expected.ts', import.meta.url).pathname);
const CHECK_ONLY = args.includes('--check');

// ---------------------------------------------------------------------------
// The cases, by command family

const groups = [];
let current = null;
function group(title) {
  current = { title, cases: [] };
  groups.push(current);
}
/** Asks Redis; every key name in argv is unique. */
function R(...argv) {
  const c = { kind: 'redis', argv, repeat: false, note: '' };
  current.cases.push(c);
  return c;
}
/** Asks Redis; some key is deliberately repeated (positions by walking argv in order). */
R.rep = (...argv) => Object.assign(R(...argv), { repeat: true });
/**
 * By hand: `want` is { keys: [[pos, flags], ...] } or { error }; `syntax` is what
 * it was checked against (a comment line above the command's cases), `note` goes
 * on the case's line.
 */
function H(argv, want, syntax, note = '') {
  const keys = want.keys?.map(([pos, flags]) => ({ pos, flags }));
  current.cases.push({ kind: 'hand', argv, want: keys ? { keys } : { error: want.error }, syntax, note });
}
/** A one-word keyless argv: GETKEYSANDFLAGS needs two words, so COMMAND INFO is checked instead. */
function H1(name) {
  H([name], NO_KEYS, '', 'one word: COMMAND INFO has no key specs (kvslab, Redis)');
}
const NO_KEYS = { error: 'ERR The command has no key arguments' };
const ARITY = { error: 'ERR Invalid number of arguments specified for command' };

const SHAPE = ['DTYPE', 'f16', 'LAYERS', '2', 'HEADS', '4', 'HEADDIM', '64'];

group('Strings: one key at argv[1]');
R('GET', 'k');
R('get', 'k');
R.rep('GET', 'get').note = 'a key named like the command';
R('GET', 'k', 'extra');
R('SETNX', 'k', 'v');
R('SETEX', 'k', '10', 'v');
R('PSETEX', 'k', '100', 'v');
R('PSETEX', 'k', '100');
R('GETSET', 'k', 'v');
R('GETDEL', 'k');
R('GETEX', 'k');
R('GETEX', 'k', 'EX', '10');
R('GETEX', 'k', 'PXAT', '1700000000000');
R('GETEX', 'k', 'PERSIST');
R('APPEND', 'k', 'v');
R('STRLEN', 'k');
R('GETRANGE', 'k', '0', '-1');
R('GETRANGE', 'k', '0');
R('SUBSTR', 'k', '0', '1');
R('SETRANGE', 'k', '0', 'v');
R('INCR', 'k');
R('DECR', 'k');
R('INCRBY', 'k', '5');
R('DECRBY', 'k', '5');
R('INCRBYFLOAT', 'k', '1.5');
R('INCRBYFLOAT', 'k');

group('SET: the GET option changes the key flags (variable_flags)');
R('SET', 'k', 'v');
R('SET', 'k', 'v', 'EX', '10');
R('SET', 'k', 'v', 'NX', 'PX', '100');
R('SET', 'k', 'v', 'KEEPTTL', 'XX');
R('SET', 'k', 'v', 'GET');
R('SET', 'k', 'v', 'get');
R('SET', 'k', 'v', 'EX', '10', 'GET');
R('SET', 'k', 'v', 'NX', 'GET', 'PXAT', '1700000000000');
R('SET', 'k', 'GET').note = 'GET as the value, not the option';
R('SET', 'k', 'GET', 'GET').note = 'GET as the value and the option';
R.rep('SET', 'GET', 'v', 'GET').note = 'a key named GET';
R('SET', 'k');

group('MGET, MSET, MSETNX: several keys');
R('MGET', 'k1');
R('MGET', 'k1', 'k2', 'k3');
R.rep('MGET', 'k1', 'k1');
R('MSET', 'k1', 'v1');
R('MSET', 'k1', 'v1', 'k2', 'v2', 'k3', 'v3');
R('MSET', 'k1', 'v1', 'k2').note = 'odd count: keys still every other word';
R('MSET', 'k1');
R('MSETNX', 'k1', 'v1');
R('MSETNX', 'k1', 'v1', 'k2', 'v2', 'k3', 'v3');
R('MSETNX', 'k1', 'v1', 'k2').note = 'odd count';

group('LCS: two keys');
R('LCS', 'k1', 'k2');
R('LCS', 'k1', 'k2', 'LEN');
R('LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN');
R.rep('LCS', 'k1', 'k1');
R('LCS', 'k1');

group('Bitmaps');
R('SETBIT', 'k', '7', '1');
R('GETBIT', 'k', '7');
R('BITCOUNT', 'k');
R('BITCOUNT', 'k', '0', '-1');
R('BITCOUNT', 'k', '0', '-1', 'BIT');
R('BITPOS', 'k', '1');
R('BITPOS', 'k', '1', '0', '-1', 'BYTE');
R('BITPOS', 'k');
R('SETBIT', 'k', '7');

group('Keys: DEL, UNLINK, EXISTS, TOUCH, TYPE, MOVE');
R('DEL', 'k1');
R('DEL', 'k1', 'k2', 'k3');
R.rep('DEL', 'k1', 'k1');
R('UNLINK', 'k1');
R('UNLINK', 'k1', 'k2', 'k3');
R('EXISTS', 'k1');
R('EXISTS', 'k1', 'k2', 'k3');
R.rep('EXISTS', 'k1', 'k1');
R('TOUCH', 'k1');
R('TOUCH', 'k1', 'k2', 'k3');
R('TYPE', 'k');
R('MOVE', 'k', '1');
R('MOVE', 'k');

group('Keys: RENAME, RENAMENX, COPY (source and destination have different flags)');
R('RENAME', 'src', 'dst');
R.rep('RENAME', 'k', 'k');
R('RENAME', 'src');
R('RENAMENX', 'src', 'dst');
R('COPY', 'src', 'dst');
R('COPY', 'src', 'dst', 'REPLACE');
R('COPY', 'src', 'dst', 'DB', '1', 'REPLACE');
R('COPY', 'src');

group('Keyspace commands without keys');
R('KEYS', '*');
R('SCAN', '0');
R('SCAN', '0', 'MATCH', 'k*', 'COUNT', '10', 'TYPE', 'string');
H1('RANDOMKEY');
H1('DBSIZE');
R('DBSIZE', 'extra').note = 'the no-keys check comes before the arity check';
H1('FLUSHDB');
R('FLUSHDB', 'ASYNC');
H1('FLUSHALL');
R('FLUSHALL', 'SYNC');
R('SWAPDB', '0', '1');

group('Snapshots: DUMP and RESTORE (one key), SAVE, BGSAVE and LASTSAVE (none)');
R('DUMP', 'k');
R('DUMP', 'k', 'extra');
R('RESTORE', 'k', '0', 'payload');
R('RESTORE', 'k', '0', 'payload', 'REPLACE', 'ABSTTL', 'IDLETIME', '10');
R('RESTORE', 'k', '0');
H1('SAVE');
R('SAVE', 'extra');
H1('BGSAVE');
R('BGSAVE', 'SCHEDULE');
H1('LASTSAVE');

group('MIGRATE: the key argument, or the keys after KEYS (an incomplete spec: migrateGetKeys decides)');
R('MIGRATE', 'h', '6379', 'k', '0', '5');
R('MIGRATE', 'h', '6379', 'k', '0', '5', 'COPY', 'REPLACE');
R('MIGRATE', 'h', '6379', 'k', '0', '5', 'AUTH', 'pw');
R('MIGRATE', 'h', '6379', '', '0', '5').note = 'the empty key argument without KEYS is the key';
R('MIGRATE', 'h', '6379', '', '0', '5', 'KEYS', 'k1');
R('MIGRATE', 'h', '6379', '', '0', '5', 'KEYS', 'k1', 'k2', 'k3');
R('MIGRATE', 'h', '6379', '', '0', '5', 'COPY', 'AUTH2', 'u', 'pw', 'KEYS', 'k1', 'k2');
R('migrate', 'h', '6379', '', '0', '5', 'keys', 'k1');
R('MIGRATE', 'h', '6379', '', '0', '5', 'KEYS').note = 'KEYS last: the keyword search starts before it';
R('MIGRATE', 'h', '6379', 'k', '0', '5', 'KEYS', 'k1').note = 'KEYS with a key argument: no keys';
R('MIGRATE', 'h', '6379', '', '0', '5', 'AUTH', 'KEYS', 'k1').note = 'KEYS as the password: not the option';
R('MIGRATE', 'h', '6379', '', '0', '5', 'AUTH', 'KEYS', 'KEYS', 'k1');
R('MIGRATE', 'h', '6379', '', '0', '5', 'AUTH2', 'KEYS', 'x', 'KEYS', 'k1', 'k2');
R('MIGRATE', 'h', '6379', 'k', '0');

group('Expiry');
R('EXPIRE', 'k', '10');
R('EXPIRE', 'k', '10', 'NX');
R('EXPIRE', 'k');
R('PEXPIRE', 'k', '100');
R('PEXPIRE', 'k', '100', 'GT');
R('EXPIREAT', 'k', '1700000000');
R('EXPIREAT', 'k', '1700000000', 'XX');
R('PEXPIREAT', 'k', '1700000000000');
R('PEXPIREAT', 'k', '1700000000000', 'LT');
R('TTL', 'k');
R('PTTL', 'k');
R('EXPIRETIME', 'k');
R('PEXPIRETIME', 'k');
R('PERSIST', 'k');
R('TTL', 'k', 'extra');

group('Transactions');
R('WATCH', 'k1');
R('WATCH', 'k1', 'k2', 'k3');
R.rep('WATCH', 'k1', 'k1');
H1('MULTI');
R('MULTI', 'extra').note = 'the no-keys check comes before the arity check';
H1('EXEC');
H1('DISCARD');
H1('UNWATCH');

group('OBJECT: the key is argv[2]');
R('OBJECT', 'ENCODING', 'k');
R('object', 'encoding', 'k');
R('OBJECT', 'FREQ', 'k');
R('OBJECT', 'IDLETIME', 'k');
R('OBJECT', 'REFCOUNT', 'k');
R('OBJECT', 'ENCODING');
R('OBJECT', 'ENCODING', 'k', 'extra');
R('OBJECT', 'HELP');
R('OBJECT', 'NOSUCH', 'k');

group('MEMORY: USAGE has a key at argv[2]');
R('MEMORY', 'USAGE', 'k');
R('MEMORY', 'USAGE', 'k', 'SAMPLES', '5');
R('memory', 'usage', 'k', 'samples', '0');
R('MEMORY', 'USAGE');
R('MEMORY', 'DOCTOR');
R('MEMORY', 'HELP');
R('MEMORY', 'MALLOC-STATS');
R('MEMORY', 'PURGE');
R('MEMORY', 'STATS');

group('Tensors (kvslab only): KV.CREATE, KV.PUT, KV.APPEND, KV.SLICE, KV.LEN, KV.INFO, KV.META, KV.TRUNCATE');
// Positions from the syntax COMMAND DOCS gives; flags are each command's declared key spec (COMMAND INFO).
const CREATE = 'KV.CREATE key DTYPE dtype LAYERS layers HEADS heads HEADDIM headdim [KV kv] [META meta] [NX] [EX seconds | PX milliseconds]';
H(['KV.CREATE', 't', ...SHAPE], { keys: [[1, ['OW', 'update']]] }, CREATE);
H(['KV.CREATE', 't', ...SHAPE, 'KV', '2', 'META', 'm', 'NX', 'EX', '10'], { keys: [[1, ['OW', 'update']]] }, CREATE);
H(['KV.CREATE', 't', 'DTYPE', 'f16', 'LAYERS', '2', 'HEADS', '4', 'HEADDIM'], ARITY, CREATE, 'arity -10');
const PUT = 'KV.PUT key payload DTYPE dtype LAYERS layers HEADS heads HEADDIM headdim [KV kv] [META meta] [NX] [EX seconds | PX milliseconds]';
H(['KV.PUT', 't', 'payload', ...SHAPE], { keys: [[1, ['OW', 'update']]] }, PUT);
H(['KV.PUT', 't', 'payload', ...SHAPE, 'META', 'm', 'PX', '100'], { keys: [[1, ['OW', 'update']]] }, PUT);
H(['KV.PUT', 't', ...SHAPE], ARITY, PUT, 'arity -11');
const APPEND = 'KV.APPEND key payload [LAYER layer] [AT position] [CREATE DTYPE dtype LAYERS layers HEADS heads HEADDIM headdim [KV kv]]';
H(['KV.APPEND', 't', 'payload'], { keys: [[1, ['RW', 'insert']]] }, APPEND);
H(['KV.APPEND', 't', 'payload', 'LAYER', '0', 'AT', '5'], { keys: [[1, ['RW', 'insert']]] }, APPEND);
H(['KV.APPEND', 't', 'payload', 'CREATE', ...SHAPE, 'KV', '1'], { keys: [[1, ['RW', 'insert']]] }, APPEND);
H(['KV.APPEND', 't'], ARITY, APPEND, 'arity -3');
const SLICE = 'KV.SLICE key start end [LAYER layer | LAYERS from to]';
H(['KV.SLICE', 't', '0', '10'], { keys: [[1, ['RO', 'access']]] }, SLICE);
H(['KV.SLICE', 't', '0', '10', 'LAYER', '1'], { keys: [[1, ['RO', 'access']]] }, SLICE);
H(['KV.SLICE', 't', '0', '10', 'LAYERS', '0', '2'], { keys: [[1, ['RO', 'access']]] }, SLICE);
H(['KV.SLICE', 't', '0'], ARITY, SLICE, 'arity -4');
H(['KV.LEN', 't'], { keys: [[1, ['RO']]] }, 'KV.LEN key');
H(['kv.len', 't'], { keys: [[1, ['RO']]] }, 'KV.LEN key', 'lower case');
H(['KV.LEN', 't', 'extra'], ARITY, 'KV.LEN key', 'arity 2');
H(['KV.INFO', 't'], { keys: [[1, ['RO']]] }, 'KV.INFO key');
H(['KV.META', 't'], { keys: [[1, ['RO', 'access']]] }, 'KV.META key');
H(['KV.TRUNCATE', 't', '5'], { keys: [[1, ['RW', 'delete']]] }, 'KV.TRUNCATE key length');
H(['KV.TRUNCATE', 't'], ARITY, 'KV.TRUNCATE key length', 'arity 3');

group('Tensors (kvslab only): KV.MSLICE, KV.PIN, KV.PREFIX, several keys after fixed arguments');
const MSLICE = 'KV.MSLICE start end key [key ...]';
const RO_ACCESS = ['RO', 'access'];
H(['KV.MSLICE', '0', '10', 't1'], { keys: [[3, RO_ACCESS]] }, MSLICE);
H(['KV.MSLICE', '0', '10', 't1', 't2', 't3'], { keys: [[3, RO_ACCESS], [4, RO_ACCESS], [5, RO_ACCESS]] }, MSLICE);
H(['KV.MSLICE', '0', '10', 't1', 't1'], { keys: [[3, RO_ACCESS], [4, RO_ACCESS]] }, MSLICE, 'a key repeated');
H(['KV.MSLICE', '0', '10', '10'], { keys: [[3, RO_ACCESS]] }, MSLICE, 'a key named like the end');
H(['KV.MSLICE', '0', '10'], ARITY, MSLICE, 'arity -4');
const PIN = 'KV.PIN milliseconds key [key ...]';
H(['KV.PIN', '1000', 't1'], { keys: [[2, ['RO']]] }, PIN);
H(['KV.PIN', '1000', 't1', 't2', 't3'], { keys: [[2, ['RO']], [3, ['RO']], [4, ['RO']]] }, PIN);
H(['KV.PIN', '1000', 't1', 't1'], { keys: [[2, ['RO']], [3, ['RO']]] }, PIN, 'a key repeated');
H(['KV.PIN', '1000'], ARITY, PIN, 'arity -3');
const PREFIX = 'KV.PREFIX key [key ...]';
H(['KV.PREFIX', 't1'], { keys: [[1, ['RO']]] }, PREFIX);
H(['KV.PREFIX', 't1', 't2', 't3'], { keys: [[1, ['RO']], [2, ['RO']], [3, ['RO']]] }, PREFIX);
H(['KV.PREFIX', 't1', 't1'], { keys: [[1, ['RO']], [2, ['RO']]] }, PREFIX, 'a key repeated');

group('Connection');
H1('PING');
R('PING', 'hello');
R('ECHO', 'hello');
R('AUTH', 'password');
R('AUTH', 'user', 'password');
H1('HELLO');
R('HELLO', '3', 'SETNAME', 'n');
R('SELECT', '1');
H1('QUIT');
R('QUIT', 'extra');
H1('RESET');

group('CLIENT: no keys');
R('CLIENT', 'GETNAME');
R('CLIENT', 'GETREDIR');
R('CLIENT', 'HELP');
R('CLIENT', 'ID');
R('CLIENT', 'INFO');
R('CLIENT', 'KILL', 'ID', '1');
R('CLIENT', 'LIST');
R('CLIENT', 'LIST', 'TYPE', 'normal');
R('CLIENT', 'NO-EVICT', 'on');
R('CLIENT', 'REPLY', 'on');
const SETINFO = 'CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (Redis 7.2 has it, keyless; 7.0.15 does not)';
H(['CLIENT', 'SETINFO', 'lib-name', 'x'], NO_KEYS, SETINFO);
H(['CLIENT', 'SETINFO', 'lib-ver', '1.0'], NO_KEYS, SETINFO);
R('CLIENT', 'SETNAME', 'n');
R('CLIENT', 'TRACKINGINFO');
R('CLIENT', 'UNBLOCK', '1');
R('CLIENT', 'NOSUCH');

group('ACL: no keys');
R('ACL', 'CAT');
R('ACL', 'CAT', 'string');
R('ACL', 'DELUSER', 'u');
R('ACL', 'DRYRUN', 'u', 'GET', 'k').note = 'the inner command\'s key is not ACL\'s';
R('ACL', 'GENPASS');
R('ACL', 'GETUSER', 'u');
R('ACL', 'HELP');
R('ACL', 'LIST');
R('ACL', 'LOAD');
R('ACL', 'LOG');
R('ACL', 'LOG', 'RESET');
R('ACL', 'SAVE');
R('ACL', 'SETUSER', 'u', 'on', '~k*');
R('ACL', 'USERS');
R('ACL', 'WHOAMI');

group('COMMAND: no keys');
H1('COMMAND');
R('COMMAND', 'COUNT');
R('COMMAND', 'DOCS', 'get');
R('COMMAND', 'GETKEYS', 'GET', 'k').note = 'the inner command\'s key is not COMMAND\'s';
R('COMMAND', 'GETKEYSANDFLAGS', 'SET', 'k', 'v');
R('COMMAND', 'HELP');
R('COMMAND', 'INFO', 'get');
R('COMMAND', 'LIST');
R('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'string');

group('Server: INFO, CONFIG, DEBUG, TIME, SHUTDOWN, SLOWLOG, LATENCY');
H1('INFO');
R('INFO', 'memory');
R('INFO', 'server', 'clients');
R('CONFIG', 'GET', 'maxmemory');
R('CONFIG', 'GET', 'maxmemory', 'port');
R('CONFIG', 'SET', 'maxmemory', '100mb');
R('CONFIG', 'RESETSTAT');
R('CONFIG', 'REWRITE');
R('CONFIG', 'HELP');
R('CONFIG', 'NOSUCH', 'x');
R('DEBUG', 'SLEEP', '0');
H1('TIME');
H1('SHUTDOWN');
R('SHUTDOWN', 'NOSAVE');
R('SLOWLOG', 'GET');
R('SLOWLOG', 'GET', '10');
R('SLOWLOG', 'HELP');
R('SLOWLOG', 'LEN');
R('SLOWLOG', 'RESET');
R('LATENCY', 'HELP');
R('LATENCY', 'HISTOGRAM');
R('LATENCY', 'HISTOGRAM', 'get', 'set');
R('LATENCY', 'HISTORY', 'command');
R('LATENCY', 'LATEST');
R('LATENCY', 'RESET');
R('LATENCY', 'RESET', 'command');

group('Cluster: no keys (CLUSTER KEYSLOT\'s argument is not a key)');
R('CLUSTER', 'SLOTS');
R('CLUSTER', 'SHARDS');
R('CLUSTER', 'NODES');
R('CLUSTER', 'INFO');
R('CLUSTER', 'MYID');
R('CLUSTER', 'KEYSLOT', 'k');
R('CLUSTER', 'HELP');
H(['CLUSTER', 'MYSHARDID'], NO_KEYS, 'CLUSTER MYSHARDID (Redis 7.2 has it, keyless; 7.0.15 does not)');
H1('READONLY');
H1('READWRITE');
H1('ASKING');
const KVCLUSTER = 'KVCLUSTER CONFIG json | GETCONFIG | MYID | HELP (kvslab\'s own, keyless)';
H(['KVCLUSTER', 'CONFIG', '{}'], NO_KEYS, KVCLUSTER);
H(['KVCLUSTER', 'GETCONFIG'], NO_KEYS, KVCLUSTER);
H(['KVCLUSTER', 'MYID'], NO_KEYS, KVCLUSTER);
H(['KVCLUSTER', 'HELP'], NO_KEYS, KVCLUSTER);

group('Unknown commands');
R('NOSUCHCOMMAND', 'k');

// ---------------------------------------------------------------------------
// Asking the servers

const kv = new Redis({ port: KVSLAB_PORT, lazyConnect: true, maxRetriesPerRequest: 0 });
const rd = new Redis({ port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 0 });
await kv.connect();
await rd.connect();

const redisVersion = /redis_version:(\S+)/.exec(await rd.info('server'))?.[1];
if (redisVersion !== '7.0.15') fail(`port ${REDIS_PORT} is Redis ${redisVersion}, not 7.0.15`);
const [kvLen] = await kv.call('COMMAND', 'INFO', 'kv.len');
if (!kvLen) fail(`port ${KVSLAB_PORT} does not look like kvslab (no KV.LEN)`);

function fail(msg) {
  console.error(`gen-key-specs: ${msg}`);
  process.exit(1);
}

/** GETKEYSANDFLAGS as [[name, flags], ...] or { error }. */
async function getKeysAndFlags(conn, argv) {
  try {
    const r = await conn.call('COMMAND', 'GETKEYSANDFLAGS', ...argv);
    return r.map(([name, flags]) => [String(name), flags.map(String)]);
  } catch (e) {
    return { error: e.message };
  }
}

/** Key names mapped back to argv positions by walking argv in order. */
function toPositions(argv, reply, repeat) {
  if (!Array.isArray(reply)) return { error: reply.error };
  const keys = [];
  let from = 1;
  for (const [name, flags] of reply) {
    let i = argv.indexOf(name, from);
    if (i < 0) throw new Error(`${argv.join(' ')}: key ${name} not found in argv after ${from}`);
    const count = argv.slice(1).filter((a) => a === name).length;
    if (count > 1 && !repeat) throw new Error(`${argv.join(' ')}: key ${name} occurs ${count} times; use R.rep`);
    keys.push({ pos: i, flags });
    from = i + 1;
  }
  return { keys };
}

/** Key positions of a one-word argv, from COMMAND INFO: none if first key is 0 and no key specs. */
async function oneWordHasKeys(conn, name) {
  const [info] = await conn.call('COMMAND', 'INFO', name);
  if (!info) return null;
  return info[3] !== 0 || (info[8] ?? []).length > 0 || info[2].includes('movablekeys');
}

/**
 * kvslab's reply against an expectation, compared as key names (argv[pos]) and
 * flags, so that a key named like another argument cannot confuse the mapping.
 */
function kvslabDiffers(argv, expect, reply) {
  const want = expect.error !== undefined ? expect : expect.keys.map((k) => [argv[k.pos], k.flags]);
  return JSON.stringify(want) !== JSON.stringify(reply);
}
const show = (x) => (x.error ? x.error : x.keys.map((k) => `${k.pos}:${k.flags.join(',')}`).join(' ') || '(no keys)');
const showReply = (x) => (x.error ? x.error : x.map(([n, f]) => `${n}:${f.join(',')}`).join(' ') || '(no keys)');

const differences = [];
const handProblems = [];

for (const g of groups) {
  for (const c of g.cases) {
    if (c.kind === 'redis') {
      c.expect = toPositions(c.argv, await getKeysAndFlags(rd, c.argv), c.repeat);
      const got = await getKeysAndFlags(kv, c.argv);
      if (kvslabDiffers(c.argv, c.expect, got)) differences.push(`${c.argv.join(' ')}\n    redis:  ${show(c.expect)}\n    kvslab: ${showReply(got)}`);
    } else {
      c.expect = c.want;
      if (c.argv.length === 1) {
        // GETKEYSANDFLAGS needs two words: check the command has no keys at all.
        if (!c.want.error) throw new Error(`${c.argv[0]}: one-word hand cases must be keyless`);
        const k = await oneWordHasKeys(kv, c.argv[0]);
        const r = await oneWordHasKeys(rd, c.argv[0]);
        if (k !== false) handProblems.push(`${c.argv[0]}: kvslab COMMAND INFO says keys=${k}`);
        if (r !== false) handProblems.push(`${c.argv[0]}: Redis COMMAND INFO says keys=${r}`);
      } else {
        const got = await getKeysAndFlags(kv, c.argv);
        if (kvslabDiffers(c.argv, c.want, got)) handProblems.push(`${c.argv.join(' ')}\n    hand:   ${show(c.want)}\n    kvslab: ${showReply(got)}`);
      }
    }
  }
}

// Every command and subcommand of kvslab must have a case (a container such as
// CONFIG counts as covered through its subcommands).
const covered = new Set();
for (const g of groups) {
  for (const c of g.cases) {
    const top = c.argv[0].toLowerCase();
    covered.add(top);
    if (c.argv.length > 1) covered.add(`${top}|${c.argv[1].toLowerCase()}`);
  }
}
const kvslabCommands = (await kv.call('COMMAND', 'LIST')).map(String).sort();
const uncovered = kvslabCommands.filter((n) => !covered.has(n));

kv.disconnect();
rd.disconnect();

// ---------------------------------------------------------------------------
// Writing the table

const q = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const arr = (xs) => `[${xs.map(q).join(', ')}]`;

function line(c) {
  const parts = [`argv: ${arr(c.argv)}`];
  if (c.expect.error !== undefined) parts.push(`error: ${q(c.expect.error)}`);
  else parts.push(`keys: [${c.expect.keys.map((k) => `{ pos: ${k.pos}, flags: ${arr(k.flags)} }`).join(', ')}]`);
  parts.push(`source: ${c.kind === 'redis' ? "'redis-7.0.15'" : "'hand'"}`);
  const note = c.kind === 'hand' ? `checked by hand${c.note ? `; ${c.note}` : ''}` : c.note;
  return `  { ${parts.join(', ')} },${note ? ` // ${note}` : ''}`;
}

const total = groups.reduce((n, g) => n + g.cases.length, 0);
const out = [
  '// Expected key extraction (COMMAND GETKEYSANDFLAGS) for every command and',
  '// subcommand of kvslab, for the unit test of the key-spec model.',
  '//',
  '// Generated by test/unit/gen-key-specs.mjs (see its header to regenerate; it',
  '// needs a kvslab and a redis-server 7.0.15 running). Do not edit by hand.',
  '//',
  "// argv[0] is the command name; keys[].pos indexes argv. source 'redis-7.0.15':",
  "// Redis 7.0.15's own answer. source 'hand': a command Redis 7.0.15 lacks (KV.*,",
  '// CLIENT SETINFO), or a one-word argv GETKEYSANDFLAGS cannot be asked about;',
  '// checked by hand against the documented syntax quoted in the line\'s comment.',
  '',
  'export interface KeysCase {',
  '  argv: string[];',
  '  keys?: { pos: number; flags: string[] }[];',
  '  error?: string;',
  "  source: 'redis-7.0.15' | 'hand';",
  '}',
  '',
  `// ${total} cases.`,
  'export const KEYS_CASES: KeysCase[] = [',
];
for (const g of groups) {
  out.push(`  // ${g.title}`);
  let syntax = '';
  for (const c of g.cases) {
    if (c.kind === 'hand' && c.syntax && c.syntax !== syntax) out.push(`  // ${c.syntax}: checked by hand against this syntax.`);
    syntax = c.kind === 'hand' ? c.syntax : '';
    out.push(line(c));
  }
}
out.push('];', '');

if (!CHECK_ONLY) writeFileSync(OUT, out.join('\n'));

console.log(`${total} cases (${groups.reduce((n, g) => n + g.cases.filter((c) => c.kind === 'hand').length, 0)} by hand)${CHECK_ONLY ? '' : `, written to ${OUT}`}`);
console.log(`\nkvslab differs from Redis 7.0.15 in ${differences.length} case(s):`);
for (const d of differences) console.log(`  ${d}`);
console.log(`\nhand-checked cases where kvslab disagrees: ${handProblems.length}`);
for (const d of handProblems) console.log(`  ${d}`);
if (uncovered.length) fail(`kvslab commands without a case: ${uncovered.join(', ')}`);
console.log(`\nall ${kvslabCommands.length} kvslab commands and subcommands have a case`);
