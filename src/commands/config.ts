// CONFIG: GET, SET, RESETSTAT, REWRITE (the directives and their rules are
// src/config's).

import type { CommandContext, Handler } from './context.js';
import { ERR_SYNTAX } from './args.js';
import { replyHelp } from './help.js';
import type { CommandDef } from './model/command-table.js';
import { CMD_ADMIN, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';

/** enable-debug-command / enable-protected-configs: no, yes or local (loopback and unix-socket clients). */
export function allowProtected(c: CommandContext, directive: string): boolean {
  const v = c.server.config.str(directive);
  return v === 'yes' || (v === 'local' && c.local);
}

function configGet(c: CommandContext, argv: Buffer[]): void {
  const pairs = c.server.config.getMatching(argv.slice(2).map((a) => a.toString()));
  c.addMapLen(pairs.length);
  for (const [k, v] of pairs) {
    c.addBulkString(k);
    c.addBulkString(v);
  }
}

function configSet(c: CommandContext, argv: Buffer[]): void {
  if ((argv.length - 2) % 2 !== 0) return c.addError(ERR_SYNTAX);
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i].toString(), argv[i + 1].toString()]);
  // Through the listeners: the TLS setup is read once, after every pair (Redis's apply step).
  const err = c.server.configSet(pairs, allowProtected(c, 'enable-protected-configs'));
  if (err) return c.addError(err);
  c.addOk();
}

function configResetStat(c: CommandContext): void {
  c.server.resetStats();
  c.addOk();
}

function configRewrite(c: CommandContext): void {
  const err = c.server.config.rewrite();
  if (err) {
    c.server.log('warning', `CONFIG REWRITE failed: ${err.replace(/^ERR /, '')}`);
    return c.addError(err);
  }
  c.server.log('notice', 'CONFIG REWRITE executed with success.');
  c.addOk();
}

function configHelp(c: CommandContext): void {
  replyHelp(c, 'CONFIG', [
    'GET <pattern>',
    '    Values of the directives whose names match the glob-style <pattern>.',
    'SET <directive> <value>',
    '    Change <directive> to <value>; several pairs may be given and apply together.',
    'RESETSTAT',
    '    Zero the statistics INFO reports.',
    'REWRITE',
    '    Write the running configuration back into the config file.',
  ]);
}

/** The flags of the server's administrative commands. */
const ADMIN = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;

export const configCommands: CommandDef<Handler>[] = [
  {
    name: 'config', arity: -2, 
    docs: { summary: 'Reads and changes the server configuration.', since: '2.0.0', group: 'server', complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'config|get', arity: -3, flags: ADMIN, handler: configGet,
        docs: { summary: 'Returns the values of the directives matching the patterns.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', syntax: 'parameter [parameter ...]' },
      },
      {
        name: 'config|set', arity: -4, flags: ADMIN, handler: configSet, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        docs: { summary: 'Changes one or more directives at run time, all or none.', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', syntax: 'parameter value [parameter value ...]' },
      },
      {
        name: 'config|resetstat', arity: 2, flags: ADMIN, handler: configResetStat,
        docs: { summary: 'Zeroes the statistics reported by INFO.', since: '2.0.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'config|rewrite', arity: 2, flags: ADMIN, handler: configRewrite,
        docs: { summary: 'Writes the running configuration back to the config file.', since: '2.8.0', group: 'server', complexity: 'O(1)' },
      },
      {
        name: 'config|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: configHelp,
        docs: { summary: 'Explains the CONFIG subcommands.', since: '5.0.0', group: 'server', complexity: 'O(1)' },
      },
    ],
  },
];
