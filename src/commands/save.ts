// SAVE, BGSAVE and LASTSAVE: the dataset to the dump file (src/persistence),
// blocking or in the background (the fork-free snapshot), and when that last
// worked.

import type { CommandContext, Handler } from './context.js';
import { argIs, ERR_SYNTAX } from './args.js';
import type { CommandDef } from './model/command-table.js';
import {
  ACL_ADMIN, ACL_DANGEROUS, CMD_ADMIN, CMD_FAST, CMD_LOADING, CMD_NO_ASYNC_LOADING, CMD_NO_MULTI, CMD_NOSCRIPT, CMD_STALE,
} from './model/flags.js';

const ERR_BGSAVE_IN_PROGRESS = 'ERR Background save already in progress';

function save(c: CommandContext): void {
  if (c.server.persistence.bgsaveInProgress) return c.addError(ERR_BGSAVE_IN_PROGRESS);
  // Redis answers a bare -ERR when the save failed (the log says why).
  if (!c.server.persistence.save()) return c.addError('ERR');
  c.addOk();
}

/** BGSAVE [SCHEDULE]: inside EXEC the save is scheduled (the cron starts it), as Redis. */
function bgsave(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2 || (argv.length === 2 && !argIs(argv[1], 'schedule'))) return c.addError(ERR_SYNTAX);
  const started = c.server.persistence.backgroundSave(c.server.inExec);
  if (started === 'in-progress') return c.addError(ERR_BGSAVE_IN_PROGRESS);
  c.addStatus(started === 'scheduled' ? 'Background saving scheduled' : 'Background saving started');
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
    name: 'bgsave', arity: -1, flags: CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, handler: bgsave,
    docs: {
      summary: 'Saves the dataset to the dump file while commands go on being served.', since: '1.0.0', group, complexity: 'O(1)',
      syntax: '[SCHEDULE]',
    },
  },
  {
    name: 'lastsave', arity: 1, flags: CMD_LOADING | CMD_STALE | CMD_FAST, acl: ACL_ADMIN | ACL_DANGEROUS, handler: lastsave,
    tips: ['nondeterministic_output'],
    docs: { summary: 'Returns the Unix time of the last successful save.', since: '1.0.0', group, complexity: 'O(1)' },
  },
];
