// Server commands: INFO, CONFIG, TIME, DEBUG, MEMORY, OBJECT, SHUTDOWN.

import type { CommandSpec } from './table.js';

export const serverCommands: CommandSpec[] = [];
