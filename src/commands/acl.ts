// ACL and its subcommands: users (SETUSER, DELUSER, GETUSER, LIST, USERS,
// WHOAMI), categories (CAT), checks without running (DRYRUN), the ACL file
// (LOAD, SAVE), the log of denials (LOG) and GENPASS. Replies and error
// texts are Redis 7.0's; the rules themselves live in src/acl/.

import { randomBytes } from 'node:crypto';
import type { CommandContext, Handler } from './context.js';
import { ACL_OK, checkCommand, DENIED_CMD } from '../acl/check.js';
import { describeCommandRules } from '../acl/describe.js';
import { hasSpaces, mergeSelectorArgs } from '../acl/rules.js';
import type { Selector } from '../acl/selector.js';
import { argIs, cText, intOrReply, subcommandSyntaxError } from './args.js';
import { replyHelp } from './help.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_CATEGORY_NAMES, categoryBit, CMD_ADMIN, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';

const latin1 = (b: Buffer) => b.toString('latin1');
const bulk = (c: CommandContext, s: string) => c.addBulk(Buffer.from(s, 'latin1'));

function aclSetUser(c: CommandContext, argv: Buffer[]): void {
  const name = latin1(argv[2]);
  if (hasSpaces(name)) return c.addError("ERR Usernames can't contain spaces or null characters");
  const merged = mergeSelectorArgs(argv.slice(3).map(latin1));
  if ('unmatchedAt' in merged) {
    return c.addError(`ERR Unmatched parenthesis in acl selector starting at '${cText(argv[3 + merged.unmatchedAt])}'.`);
  }
  const err = c.server.acl.setUser(name, merged.rules);
  if (err !== null) return c.addError(err);
  c.addOk();
}

function aclDelUser(c: CommandContext, argv: Buffer[]): void {
  for (let i = 2; i < argv.length; i++) {
    if (latin1(argv[i]) === 'default') return c.addError("ERR The 'default' user cannot be removed");
  }
  const acl = c.server.acl;
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) if (acl.deleteUser(latin1(argv[i]), c)) deleted++;
  c.addInt(deleted);
}

/** commands, keys, channels of one selector (ACL GETUSER). */
function addSelectorFields(c: CommandContext, s: Selector): void {
  c.addBulkString('commands');
  c.addBulkString(describeCommandRules(s));
  c.addBulkString('keys');
  bulk(c, s.describeKeys());
  c.addBulkString('channels');
  bulk(c, s.describeChannels());
}

function aclGetUser(c: CommandContext, argv: Buffer[]): void {
  const u = c.server.acl.getUser(latin1(argv[2]));
  if (!u) return c.addNull();
  c.addMapLen(6);
  c.addBulkString('flags');
  const flags = u.flagNames();
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulkString(f);
  c.addBulkString('passwords');
  c.addArrayLen(u.passwords.length);
  for (const p of u.passwords) c.addBulkString(p);
  addSelectorFields(c, u.root);
  c.addBulkString('selectors');
  c.addArrayLen(u.selectors.length - 1);
  for (let i = 1; i < u.selectors.length; i++) {
    c.addMapLen(3);
    addSelectorFields(c, u.selectors[i]);
  }
}

function aclList(c: CommandContext): void {
  const users = c.server.acl.allUsers();
  c.addArrayLen(users.length);
  for (const u of users) bulk(c, `user ${u.name} ${u.describe()}`);
}

function aclUsers(c: CommandContext): void {
  const users = c.server.acl.allUsers();
  c.addArrayLen(users.length);
  for (const u of users) bulk(c, u.name);
}

function aclWhoami(c: CommandContext): void {
  bulk(c, c.user.name);
}

const NO_ACL_FILE = 'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

function aclLoad(c: CommandContext): void {
  const acl = c.server.acl;
  if (acl.fileName === '') return c.addError(NO_ACL_FILE);
  const errors = acl.loadFile(c);
  if (errors !== null) return c.addError(`ERR ${errors}`);
  c.addOk();
}

function aclSave(c: CommandContext): void {
  const acl = c.server.acl;
  if (acl.fileName === '') return c.addError(NO_ACL_FILE);
  if (!acl.saveFile()) return c.addError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  c.addOk();
}

function aclCat(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  if (argv.length === 2) {
    c.addArrayLen(ACL_CATEGORY_NAMES.length);
    for (const cat of ACL_CATEGORY_NAMES) c.addBulkString(cat);
    return;
  }
  const mask = categoryBit(latin1(argv[2]));
  if (mask === 0) return c.addError(`ERR Unknown category '${cText(argv[2], 128)}'`);
  const { index } = c.server.acl;
  const names: string[] = [];
  for (const id of index.topLevel) {
    if (index.categories(id) & mask) names.push(index.specs[id].name);
    for (const sub of index.subs[id]) if (index.categories(sub) & mask) names.push(index.specs[sub].name);
  }
  c.addArrayLen(names.length);
  for (const n of names) c.addBulkString(n);
}

const GENPASS_MAX_BITS = 4096;

function aclGenpass(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  let bits = 256;
  if (argv.length === 3) {
    const n = intOrReply(c, argv[2]);
    if (n === null) return;
    bits = n;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    return c.addError(`ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`);
  }
  const chars = Math.floor((bits + 3) / 4);
  c.addBulkString(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

function aclLog(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  const { log } = c.server.acl;
  let count = 10;
  if (argv.length === 3) {
    if (argIs(argv[2], 'reset')) {
      log.reset();
      return c.addOk();
    }
    const n = intOrReply(c, argv[2]);
    if (n === null) return;
    count = Math.max(0, n);
  }
  const entries = log.entries.slice(0, count);
  const now = Date.now();
  c.addArrayLen(entries.length);
  for (const e of entries) {
    c.addMapLen(10);
    c.addBulkString('count'); c.addInt(e.count);
    c.addBulkString('reason'); c.addBulkString(e.reason);
    c.addBulkString('context'); c.addBulkString(e.context);
    c.addBulkString('object'); bulk(c, e.object);
    c.addBulkString('username'); bulk(c, e.username);
    c.addBulkString('age-seconds'); c.addDouble((now - e.updatedAt) / 1000);
    c.addBulkString('client-info'); bulk(c, e.clientInfo);
    // The three fields Redis 7.2 added, so that entries can be told apart and followed.
    c.addBulkString('entry-id'); c.addInt(e.entryId);
    c.addBulkString('timestamp-created'); c.addInt(e.createdAt);
    c.addBulkString('timestamp-last-updated'); c.addInt(e.updatedAt);
  }
}

function aclDryrun(c: CommandContext, argv: Buffer[]): void {
  const acl = c.server.acl;
  const user = acl.getUser(latin1(argv[2]));
  if (!user) return c.addError(`ERR User '${cText(argv[2])}' not found`);
  const args = argv.slice(3);
  const cmd = c.server.commands.lookupArgv(args);
  if (!cmd) return c.addError(`ERR Command '${cText(args[0])}' not found`);
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    return c.addError(`ERR wrong number of arguments for '${cmd.name}' command`);
  }
  const v = checkCommand(user, cmd, args);
  if (v.result === ACL_OK) return c.addOk();
  if (v.result === DENIED_CMD) return c.addBulkString(`This user has no permissions to run the '${cmd.name}' command`);
  bulk(c, `This user has no permissions to access the '${latin1(args[v.pos])}' key`);
}

function aclHelp(c: CommandContext): void {
  replyHelp(c, 'ACL', ACL_HELP);
}

const ACL_HELP = [
    'CAT [<category>]',
    '    List all commands that belong to <category>, or all command categories',
    '    when no category is specified.',
    'DELUSER <username> [<username> ...]',
    '    Delete a list of users.',
    'DRYRUN <username> <command> [<arg> ...]',
    '    Returns whether the user can execute the given command without executing the command.',
    'GETUSER <username>',
    "    Get the user's details.",
    'GENPASS [<bits>]',
    '    Generate a secure 256-bit user password. The optional `bits` argument can',
    '    be used to specify a different size.',
    'LIST',
    '    Show users details in config file format.',
    'LOAD',
    '    Reload users from the ACL file.',
    'LOG [<count> | RESET]',
    '    Show the ACL log entries.',
    'SAVE',
    '    Save the current config to the ACL file.',
    'SETUSER <username> <attribute> [<attribute> ...]',
    '    Create or modify a user with the specified attributes.',
    'USERS',
    '    List all the registered usernames.',
    'WHOAMI',
    '    Return the current connection username.',
];

const group = 'server';
const own = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;
const adm = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;
export const aclCommands: CommandDef<Handler>[] = [
  {
    name: 'acl', arity: -2, 
    docs: { summary: 'Manages the users, their permissions and the log of denied commands.', since: '6.0.0', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'acl|cat', arity: -2, flags: own, handler: aclCat,
        docs: { summary: 'Lists the ACL categories, or the commands of one category.', since: '6.0.0', group, complexity: 'O(1) since the categories and commands are a fixed set.', syntax: '[categoryname]' },
      },
      {
        name: 'acl|deluser', arity: -3, flags: adm, handler: aclDelUser,
        docs: { summary: 'Deletes users, closing their connections.', since: '6.0.0', group, complexity: 'O(1) amortized time considering the typical user.', syntax: 'username [username ...]' },
      },
      {
        name: 'acl|dryrun', arity: -4, flags: adm, handler: aclDryrun,
        docs: { summary: 'Tells whether a user could run a command, without running it.', since: '7.0.0', group, complexity: 'O(1).', syntax: 'username command [arg [arg ...]]' },
      },
      {
        name: 'acl|genpass', arity: -2, flags: own, handler: aclGenpass,
        docs: { summary: 'Generates a random password (256 bits, or the bits asked for), in hex.', since: '6.0.0', group, complexity: 'O(1)', syntax: '[bits]' },
      },
      {
        name: 'acl|getuser', arity: 3, flags: adm, handler: aclGetUser,
        docs: { summary: "Returns a user's flags, password hashes and rules.", since: '6.0.0', group, complexity: 'O(N). Where N is the number of password, command and pattern rules that the user has.', syntax: 'username' },
      },
      {
        name: 'acl|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: aclHelp,
        docs: { summary: 'Explains the ACL subcommands.', since: '6.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'acl|list', arity: 2, flags: adm, handler: aclList,
        docs: { summary: 'Lists every user as a rule line, in ACL file format.', since: '6.0.0', group, complexity: 'O(N). Where N is the number of configured users.' },
      },
      {
        name: 'acl|load', arity: 2, flags: adm, handler: aclLoad,
        docs: { summary: 'Reloads the users from the ACL file.', since: '6.0.0', group, complexity: 'O(N). Where N is the number of configured users.' },
      },
      {
        name: 'acl|log', arity: -2, flags: adm, handler: aclLog,
        docs: { summary: 'Lists the latest denied commands, keys and logins, or clears the list.', since: '6.0.0', group, complexity: 'O(N) with N being the number of entries shown.', syntax: '[count | RESET]' },
      },
      {
        name: 'acl|save', arity: 2, flags: adm, handler: aclSave,
        docs: { summary: 'Writes the users to the ACL file.', since: '6.0.0', group, complexity: 'O(N). Where N is the number of configured users.' },
      },
      {
        name: 'acl|setuser', arity: -3, flags: adm, handler: aclSetUser,
        docs: { summary: "Creates a user or changes a user's rules.", since: '6.0.0', group, complexity: 'O(N). Where N is the number of rules provided.', syntax: 'username [rule [rule ...]]' },
      },
      {
        name: 'acl|users', arity: 2, flags: adm, handler: aclUsers,
        docs: { summary: 'Lists the user names.', since: '6.0.0', group, complexity: 'O(N). Where N is the number of configured users.' },
      },
      {
        name: 'acl|whoami', arity: 2, flags: own, handler: aclWhoami,
        docs: { summary: 'Returns the user of this connection.', since: '6.0.0', group, complexity: 'O(1)' },
      },
    ],
  },
];
