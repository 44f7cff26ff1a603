// Keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE, FLUSHDB, SWAPDB and friends.

import type { CommandSpec } from './table.js';

export const keyCommands: CommandSpec[] = [];
