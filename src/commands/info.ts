// INFO and TIME: what the server tells of itself.

import type { CommandContext, Handler } from './context.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_DANGEROUS, CMD_FAST, CMD_LOADING, CMD_STALE } from './model/flags.js';

function info(c: CommandContext, argv: Buffer[]): void {
  c.addVerbatim(c.server.info(argv.slice(1).map((a) => a.toString('latin1'))));
}

function time(c: CommandContext): void {
  // Wall clock in microseconds, with sub-millisecond precision from the monotonic clock.
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.addArrayLen(2);
  c.addBulkString(String(Math.floor(us / 1e6)));
  c.addBulkString(String(us % 1e6));
}

const allShards = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'];

export const infoCommands: CommandDef<Handler>[] = [
  {
    name: 'info', arity: -1, flags: CMD_LOADING | CMD_STALE, acl: ACL_DANGEROUS, handler: info, tips: allShards,
    docs: { summary: 'Reports information and statistics about the server, by section.', since: '1.0.0', group: 'server', complexity: 'O(1)', syntax: '[section [section ...]]' },
  },
  {
    name: 'time', arity: 1, flags: CMD_LOADING | CMD_STALE | CMD_FAST, handler: time, tips: ['nondeterministic_output'],
    docs: { summary: 'Returns the server clock as seconds and microseconds.', since: '2.6.0', group: 'server', complexity: 'O(1)' },
  },
];
