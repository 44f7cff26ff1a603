// Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS.

import type { CommandSpec } from './table.js';

export const bitCommands: CommandSpec[] = [];
