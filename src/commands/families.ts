// Every command family, and the one command table built from them. A
// command's code lives in the file of its family, named after the command or
// its Redis group:
//
//   connection.ts    PING ECHO HELLO AUTH SELECT QUIT RESET
//   strings.ts       GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN
//                    GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT LCS
//   bits.ts          SETBIT GETBIT BITCOUNT BITPOS
//   keys.ts          DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE TOUCH
//                    DBSIZE FLUSHDB FLUSHALL SWAPDB
//   expire.ts        EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST
//   object.ts        OBJECT
//   dump.ts          DUMP RESTORE
//   migrate.ts       MIGRATE
//   transactions.ts  MULTI EXEC DISCARD WATCH UNWATCH
//   tensor.ts        KV.CREATE KV.PUT KV.APPEND KV.SLICE KV.MSLICE KV.LEN KV.INFO KV.META KV.TRUNCATE
//                    KV.PREFIX KV.PIN
//   info.ts          INFO TIME
//   config.ts        CONFIG
//   debug.ts         DEBUG
//   memory.ts        MEMORY
//   shutdown.ts      SHUTDOWN
//   save.ts          SAVE LASTSAVE
//   command.ts       COMMAND
//   client.ts        CLIENT
//   slowlog.ts       SLOWLOG
//   latency.ts       LATENCY
//   acl.ts           ACL
//   cluster.ts       CLUSTER READONLY READWRITE ASKING KVCLUSTER

import type { Handler } from './context.js';
import { CommandTable } from './model/command-table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';
import { bitCommands } from './bits.js';
import { keyCommands } from './keys.js';
import { expireCommands } from './expire.js';
import { infoCommands } from './info.js';
import { configCommands } from './config.js';
import { debugCommands } from './debug.js';
import { memoryCommands } from './memory.js';
import { objectCommands } from './object.js';
import { shutdownCommands } from './shutdown.js';
import { saveCommands } from './save.js';
import { dumpCommands } from './dump.js';
import { migrateCommands } from './migrate.js';
import { commandCommands } from './command.js';
import { clientCommands } from './client.js';
import { transactionCommands } from './transactions.js';
import { tensorCommands } from './tensor.js';
import { slowlogCommands } from './slowlog.js';
import { latencyCommands } from './latency.js';
import { aclCommands } from './acl.js';
import { clusterCommands } from './cluster.js';

/** The families in table order: COMMAND, ACL CAT and the ACL's command ids follow it. */
const FAMILIES = [
  connectionCommands, stringCommands, bitCommands, keyCommands, expireCommands,
  infoCommands, configCommands, debugCommands, memoryCommands, objectCommands, shutdownCommands, saveCommands, dumpCommands, migrateCommands,
  commandCommands, clientCommands, transactionCommands, tensorCommands,
  slowlogCommands, latencyCommands, aclCommands, clusterCommands,
];

export function buildCommandTable(): CommandTable<Handler> {
  const t = new CommandTable<Handler>();
  for (const family of FAMILIES) for (const def of family) t.add(def);
  return t;
}
