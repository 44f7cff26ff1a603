// COMMAND and its subcommands, generated from the command table: COMMAND INFO
// entries (flags, ACL categories, key specs), COMMAND DOCS (arguments parsed
// from each command's syntax string), COMMAND LIST filters and COMMAND
// GETKEYS. redis-cli's hints and the key extraction of cluster clients read
// these.

import type { CommandContext, Handler } from './context.js';
import { matchString } from '../util/glob.js';
import { argIs, ERR_SYNTAX } from './args.js';
import { replyHelp } from './help.js';
import { commandKeys, type Command, type CommandDef } from './model/command-table.js';
import { ACL_CONNECTION, categoryBit, categoryNames, CMD_LOADING, CMD_NO_MANDATORY_KEYS, CMD_STALE, flagNames } from './model/flags.js';
import { keySpecFlagNames, type KeySpec } from './model/key-specs.js';
import { parseSyntax, type DocArg } from './model/doc-syntax.js';

/** A set of status strings (flags, categories), as COMMAND INFO sends them. */
function addStatusSet(c: CommandContext, items: readonly string[]): void {
  c.addSetLen(items.length);
  for (const s of items) c.addStatus(s);
}

/** A set of bulk strings (tips). */
function addBulkSet(c: CommandContext, items: readonly string[]): void {
  c.addSetLen(items.length);
  for (const s of items) c.addBulkString(s);
}

/** One key spec as COMMAND INFO shows it: flags, begin_search, find_keys (and notes when there are). */
function addKeySpec(c: CommandContext, ks: KeySpec): void {
  c.addMapLen(ks.notes ? 4 : 3);
  if (ks.notes) {
    c.addBulkString('notes');
    c.addBulkString(ks.notes);
  }
  c.addBulkString('flags');
  addStatusSet(c, keySpecFlagNames(ks.flags));
  c.addBulkString('begin_search');
  c.addMapLen(2);
  const b = ks.begin;
  if ('index' in b) {
    c.addBulkString('type'); c.addBulkString('index');
    c.addBulkString('spec'); c.addMapLen(1);
    c.addBulkString('index'); c.addInt(b.index);
  } else {
    c.addBulkString('type'); c.addBulkString('keyword');
    c.addBulkString('spec'); c.addMapLen(2);
    c.addBulkString('keyword'); c.addBulkString(b.keyword.toUpperCase());
    c.addBulkString('startfrom'); c.addInt(b.startFrom);
  }
  c.addBulkString('find_keys');
  c.addMapLen(2);
  const f = ks.find;
  if ('lastkey' in f) {
    c.addBulkString('type'); c.addBulkString('range');
    c.addBulkString('spec'); c.addMapLen(3);
    c.addBulkString('lastkey'); c.addInt(f.lastkey);
    c.addBulkString('keystep'); c.addInt(f.keystep);
    c.addBulkString('limit'); c.addInt(f.limit);
  } else {
    c.addBulkString('type'); c.addBulkString('keynum');
    c.addBulkString('spec'); c.addMapLen(3);
    c.addBulkString('keynumidx'); c.addInt(f.keynumIdx);
    c.addBulkString('firstkey'); c.addInt(f.firstKey);
    c.addBulkString('keystep'); c.addInt(f.keystep);
  }
}

/** One COMMAND INFO entry: the 10 fields of Redis 7. */
function addCommandInfo(c: CommandContext, cmd: Command<Handler>): void {
  c.addArrayLen(10);
  c.addBulkString(cmd.name);
  c.addInt(cmd.arity);
  addStatusSet(c, flagNames(cmd.flags));
  const [first, last, step] = cmd.legacyRange;
  c.addInt(first);
  c.addInt(last);
  c.addInt(step);
  addStatusSet(c, categoryNames(cmd.categories).map((a) => `@${a}`));
  addBulkSet(c, cmd.tips);
  // Key specs and subcommands are sets in RESP3, as Redis sends them.
  c.addSetLen(cmd.keySpecs.length);
  for (const ks of cmd.keySpecs) addKeySpec(c, ks);
  c.addSetLen(cmd.subcommands.length);
  for (const s of cmd.subcommands) addCommandInfo(c, s);
}

function addDocArg(c: CommandContext, a: DocArg, keyIndex: number): void {
  const fields = 2 + (a.type === 'key' ? 1 : 0) + (a.token !== undefined ? 1 : 0) + (a.flags.length ? 1 : 0) + (a.arguments ? 1 : 0);
  c.addMapLen(fields);
  c.addBulkString('name'); c.addBulkString(a.name);
  c.addBulkString('type'); c.addBulkString(a.type);
  if (a.type === 'key') { c.addBulkString('key_spec_index'); c.addInt(keyIndex); }
  if (a.token !== undefined) { c.addBulkString('token'); c.addBulkString(a.token); }
  if (a.flags.length) { c.addBulkString('flags'); addStatusSet(c, a.flags); }
  if (a.arguments) {
    c.addBulkString('arguments');
    c.addArrayLen(a.arguments.length);
    for (const x of a.arguments) addDocArg(c, x, keyIndex);
  }
}

function addCommandDocs(c: CommandContext, cmd: Command<Handler>): void {
  const d = cmd.docs;
  const args = d.syntax ? parseSyntax(d.syntax) : [];
  const subs = cmd.subcommands;
  c.addMapLen(4 + (args.length ? 1 : 0) + (subs.length ? 1 : 0));
  c.addBulkString('summary'); c.addBulkString(d.summary);
  c.addBulkString('since'); c.addBulkString(d.since);
  c.addBulkString('group'); c.addBulkString(d.group);
  c.addBulkString('complexity'); c.addBulkString(d.complexity);
  if (args.length) {
    c.addBulkString('arguments');
    c.addArrayLen(args.length);
    for (const a of args) addDocArg(c, a, 0);
  }
  if (subs.length) {
    c.addBulkString('subcommands');
    c.addMapLen(subs.length);
    for (const s of subs) {
      c.addBulkString(s.name);
      addCommandDocs(c, s);
    }
  }
}

// ---------------------------------------------------------------------------
// Handlers

function commandBare(c: CommandContext): void {
  const all = c.server.commands.all;
  c.addArrayLen(all.length);
  for (const s of all) addCommandInfo(c, s);
}

function commandInfo(c: CommandContext, argv: Buffer[]): void {
  if (argv.length === 2) return commandBare(c);
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const cmd = c.server.commands.get(argv[i].toString('latin1'));
    if (cmd) addCommandInfo(c, cmd);
    else c.addNull();
  }
}

function commandCount(c: CommandContext): void {
  c.addInt(c.server.commands.all.length);
}

function commandDocs(c: CommandContext, argv: Buffer[]): void {
  const found: Command<Handler>[] = [];
  if (argv.length === 2) found.push(...c.server.commands.all);
  for (let i = 2; i < argv.length; i++) {
    const cmd = c.server.commands.get(argv[i].toString('latin1'));
    if (cmd) found.push(cmd);
  }
  c.addMapLen(found.length);
  for (const s of found) {
    c.addBulkString(s.name);
    addCommandDocs(c, s);
  }
}

function commandList(c: CommandContext, argv: Buffer[]): void {
  let filter: (cmd: Command<Handler>) => boolean = () => true;
  if (argv.length === 5 && argIs(argv[2], 'filterby')) {
    const value = argv[4].toString('latin1');
    if (argIs(argv[3], 'module')) filter = () => false;
    else if (argIs(argv[3], 'aclcat')) {
      const bit = categoryBit(value);
      filter = (cmd) => (cmd.categories & bit) !== 0;
    } else if (argIs(argv[3], 'pattern')) filter = (cmd) => matchString(value, cmd.name);
    else return c.addError(ERR_SYNTAX);
  } else if (argv.length !== 2) {
    return c.addError(ERR_SYNTAX);
  }
  const names: string[] = [];
  for (const cmd of c.server.commands.all) {
    if (filter(cmd)) names.push(cmd.name);
    for (const sub of cmd.subcommands) if (filter(sub)) names.push(sub.name);
  }
  c.addArrayLen(names.length);
  for (const n of names) c.addBulkString(n);
}

/**
 * COMMAND GETKEYS and GETKEYSANDFLAGS (Redis's getKeysSubcommandImpl): the
 * keys of the command line argv[2..], with errors in Redis's order.
 */
function getKeys(c: CommandContext, argv: Buffer[], withFlags: boolean): void {
  const args = argv.slice(2);
  const cmd = c.server.commands.lookupArgv(args);
  if (!cmd) return c.addError('ERR Invalid command specified');
  if (cmd.keySpecs.length === 0) return c.addError('ERR The command has no key arguments');
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    return c.addError('ERR Invalid number of arguments specified for command');
  }
  const keys = commandKeys(cmd, args);
  if (keys.length === 0 && (cmd.flags & CMD_NO_MANDATORY_KEYS) === 0) return c.addError('ERR Invalid arguments specified for command');
  c.addArrayLen(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      c.addBulk(args[k.pos]);
      continue;
    }
    c.addArrayLen(2);
    c.addBulk(args[k.pos]);
    addStatusSet(c, keySpecFlagNames(k.flags));
  }
}

function commandGetKeys(c: CommandContext, argv: Buffer[]): void {
  getKeys(c, argv, false);
}

function commandGetKeysAndFlags(c: CommandContext, argv: Buffer[]): void {
  getKeys(c, argv, true);
}

function commandHelp(c: CommandContext): void {
  replyHelp(c, 'COMMAND', [
    '(no subcommand)',
    '    Describe every command, as COMMAND INFO does.',
    'COUNT',
    '    Number of commands this server has.',
    'DOCS [<command-name> ...]',
    '    Documentation of the named commands, or of every command.',
    'GETKEYS <full-command>',
    '    Key names that the given command line would touch.',
    'GETKEYSANDFLAGS <full-command>',
    '    Key names that the given command line would touch, with how each is used.',
    'INFO [<command-name> ...]',
    '    Name, arity, flags, key positions, ACL categories and subcommands of the named',
    '    commands, or of every command.',
    'LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]',
    '    Names of the commands, optionally only those matching the filter.',
  ]);
}

const group = 'server';
const flags = CMD_LOADING | CMD_STALE;
const acl = ACL_CONNECTION;
export const commandCommands: CommandDef<Handler>[] = [
  {
    name: 'command', arity: -1, flags, acl, handler: commandBare, tips: ['nondeterministic_output_order'],
    docs: { summary: 'Describes every command of the server.', since: '2.8.13', group, complexity: 'O(N) where N is the total number of commands' },
    subcommands: [
      {
        name: 'command|count', arity: 2, flags, acl, handler: commandCount,
        docs: { summary: 'Counts the commands of the server.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'command|docs', arity: -2, flags, acl, handler: commandDocs, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Returns the documentation of commands.', since: '7.0.0', group, complexity: 'O(N) where N is the number of commands to look up', syntax: '[command-name [command-name ...]]' },
      },
      {
        name: 'command|getkeys', arity: -4, flags, acl, handler: commandGetKeys,
        docs: { summary: 'Extracts the key names from a full command line.', since: '2.8.13', group, complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      },
      {
        name: 'command|getkeysandflags', arity: -4, flags, acl, handler: commandGetKeysAndFlags,
        docs: { summary: 'Extracts the key names and their access flags from a full command line.', since: '7.0.0', group, complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      },
      {
        name: 'command|help', arity: 2, flags, acl, handler: commandHelp,
        docs: { summary: 'Explains the COMMAND subcommands.', since: '5.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'command|info', arity: -2, flags, acl, handler: commandInfo, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Describes the named commands, or every command.', since: '2.8.13', group, complexity: 'O(N) where N is the number of commands to look up', syntax: '[command-name [command-name ...]]' },
      },
      {
        name: 'command|list', arity: -2, flags, acl, handler: commandList, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Lists command names, optionally filtered.', since: '7.0.0', group, complexity: 'O(N) where N is the total number of commands', syntax: '[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]' },
      },
    ],
  },
];
