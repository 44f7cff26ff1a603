// SAVE and LASTSAVE: the dataset to the dump file (src/persistence), and when
// that last worked. BGSAVE (a save that keeps serving commands) comes with the
// fork-free snapshot.

import type { CommandContext, Handler } from './context.js';
import type { CommandDef } from './model/command-table.js';
import {
  ACL_ADMIN, ACL_DANGEROUS, CMD_ADMIN, CMD_FAST, CMD_LOADING, CMD_NO_ASYNC_LOADING, CMD_NO_MULTI, CMD_NOSCRIPT, CMD_STALE,
} from './model/flags.js';

function save(c: CommandContext): void {
  // Redis answers a bare -ERR when the save failed (the log says why).
  if (!c.server.persistence.save()) return c.addError('ERR');
  c.addOk();
}

function lastsave(c: CommandContext): void {
  c.addInt(c.server.persistence.lastSave);
}

const group = 'server';
export const saveCommands: CommandDef<Handler>[] = [
  {
    name: 'save', arity: 1, flags: CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, handler: save,
    docs: { summary: 'Writes the dataset to the dump file, blocking until it is on disk.', since: '1.0.0', group, complexity: 'O(N) where N is the total number of keys in all databases' },
  },
  {
    name: 'lastsave', arity: 1, flags: CMD_LOADING | CMD_STALE | CMD_FAST, acl: ACL_ADMIN | ACL_DANGEROUS, handler: lastsave,
    tips: ['nondeterministic_output'],
    docs: { summary: 'Returns the Unix time of the last successful save.', since: '1.0.0', group, complexity: 'O(1)' },
  },
];
