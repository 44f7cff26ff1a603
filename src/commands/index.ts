// Builds the command table from every family's declarations.

import { CommandTable } from './table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';

export function buildCommandTable(): CommandTable {
  const t = new CommandTable();
  for (const family of [connectionCommands, stringCommands]) {
    for (const spec of family) t.add(spec);
  }
  return t;
}
