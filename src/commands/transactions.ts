// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

import type { CommandSpec } from './table.js';

export const transactionCommands: CommandSpec[] = [];
