// Expiry commands: EXPIRE family, TTL family, PERSIST.

import type { CommandSpec } from './table.js';

export const expireCommands: CommandSpec[] = [];
