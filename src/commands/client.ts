// CLIENT and its subcommands.

import type { CommandSpec } from './table.js';

export const clientCommands: CommandSpec[] = [];
