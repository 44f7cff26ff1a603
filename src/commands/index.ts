// Builds the command table from every family's declarations. A command's code
// lives in the file of its family: strings.ts for GET, keys.ts for DEL, ...

import { CommandTable } from './table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';
import { bitCommands } from './bits.js';
import { keyCommands } from './keys.js';
import { expireCommands } from './expire.js';
import { serverCommands } from './server.js';
import { commandCommands } from './command.js';
import { clientCommands } from './client.js';
import { transactionCommands } from './transactions.js';
import { tensorCommands } from './tensor.js';
import { slowlogCommands } from './slowlog.js';
import { latencyCommands } from './latency.js';
import { aclCommands } from './acl.js';

export function buildCommandTable(): CommandTable {
  const t = new CommandTable();
  const families = [
    connectionCommands, stringCommands, bitCommands, keyCommands, expireCommands,
    serverCommands, commandCommands, clientCommands, transactionCommands, tensorCommands,
  ];
  families.push(slowlogCommands, latencyCommands);
  families.push(aclCommands);
  for (const family of families) for (const spec of family) t.add(spec);
  return t;
}
