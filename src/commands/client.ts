// CLIENT and its subcommands: identity (ID, SETNAME, GETNAME, SETINFO),
// listing (LIST, INFO), killing connections (KILL), and per-connection modes
// (NO-EVICT, REPLY).

import { REPLY_OFF, REPLY_SKIP_NEXT, type CommandContext, type Handler } from './context.js';
import { argIs, parseInt64, bytesText, ERR_SYNTAX } from './args.js';
import { replyHelp } from './help.js';
import { validClientName, ERR_CLIENT_NAME } from './connection.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_CONNECTION, CMD_ADMIN, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';

/** Client types CLIENT LIST/KILL accept; every kvslab connection is "normal". */
const CLIENT_TYPES = ['normal', 'master', 'replica', 'slave', 'pubsub'];

/** The client type an argument names, or null. */
function clientType(b: Buffer): string | null {
  return CLIENT_TYPES.find((t) => argIs(b, t)) ?? null;
}

function clientId(c: CommandContext): void {
  c.addInt(c.id);
}

function clientSetName(c: CommandContext, argv: Buffer[]): void {
  if (!validClientName(argv[2])) return c.addError(ERR_CLIENT_NAME);
  c.name = argv[2].toString('latin1');
  c.addOk();
}

function clientGetName(c: CommandContext): void {
  if (c.name === '') return c.addNull();
  c.addBulkString(c.name);
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2): shown in CLIENT LIST as lib-name / lib-ver. */
function clientSetInfo(c: CommandContext, argv: Buffer[]): void {
  const isName = argIs(argv[2], 'lib-name');
  if (!isName && !argIs(argv[2], 'lib-ver')) {
    return c.addError(`ERR Unrecognized option '${bytesText(argv[2])}'`);
  }
  if (!validClientName(argv[3])) {
    return c.addError(`ERR ${bytesText(argv[2])} cannot contain spaces, newlines or special characters.`);
  }
  const v = argv[3].toString('latin1');
  if (isName) c.libName = v;
  else c.libVer = v;
  c.addOk();
}

function clientList(c: CommandContext, argv: Buffer[]): void {
  const now = Date.now();
  let lines: string[] = [];
  if (argv.length === 4 && argIs(argv[2], 'type')) {
    const type = clientType(argv[3]);
    if (type === null) return c.addError(`ERR Unknown client type '${bytesText(argv[3])}'`);
    if (type === 'normal') for (const cl of c.server.clients.values()) lines.push(cl.describe(now));
  } else if (argv.length > 3 && argIs(argv[2], 'id')) {
    for (let i = 3; i < argv.length; i++) {
      const id = parseInt64(argv[i]);
      if (id === null) return c.addError('ERR Invalid client ID');
      const cl = c.server.clients.get(id);
      if (cl) lines.push(cl.describe(now));
    }
  } else if (argv.length !== 2) {
    return c.addError(ERR_SYNTAX);
  } else {
    lines = [...c.server.clients.values()].map((cl) => cl.describe(now));
  }
  c.addVerbatim(lines.map((l) => `${l}\n`).join(''));
}

function clientInfo(c: CommandContext): void {
  c.addVerbatim(`${c.describe()}\n`);
}

interface KillFilter {
  id?: number;
  addr?: string;
  laddr?: string;
  type?: string;
  user?: string;
  maxAge?: number;
  skipMe: boolean;
}

function matches(f: KillFilter, c: CommandContext, now: number): boolean {
  if (f.id !== undefined && c.id !== f.id) return false;
  if (f.addr !== undefined && c.addr !== f.addr) return false;
  if (f.laddr !== undefined && c.laddr !== f.laddr) return false;
  if (f.type !== undefined && f.type !== 'normal') return false;
  if (f.user !== undefined && c.user.name !== f.user) return false;
  if (f.maxAge !== undefined && (now - c.createdAt) / 1000 < f.maxAge) return false;
  return true;
}

/** Closes a connection: at once for another client, after this reply for the caller. */
function kill(c: CommandContext, victim: CommandContext): void {
  if (victim === c) c.closing = true;
  else victim.close();
}

function clientKill(c: CommandContext, argv: Buffer[]): void {
  // Old form: CLIENT KILL ip:port.
  if (argv.length === 3) {
    const addr = argv[2].toString('latin1');
    for (const cl of c.server.clients.values()) {
      if (cl.addr === addr) {
        c.addOk();
        kill(c, cl);
        return;
      }
    }
    return c.addError('ERR No such client');
  }
  if ((argv.length - 2) % 2 !== 0) return c.addError(ERR_SYNTAX);
  const f: KillFilter = { skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i];
    const val = argv[i + 1];
    if (argIs(opt, 'id')) {
      const id = parseInt64(val);
      if (id === null || id <= 0) return c.addError('ERR client-id should be greater than 0');
      f.id = id;
    } else if (argIs(opt, 'type')) {
      const t = clientType(val);
      if (t === null) return c.addError(`ERR Unknown client type '${bytesText(val)}'`);
      f.type = t;
    } else if (argIs(opt, 'addr')) {
      f.addr = val.toString('latin1');
    } else if (argIs(opt, 'laddr')) {
      f.laddr = val.toString('latin1');
    } else if (argIs(opt, 'user')) {
      const u = val.toString('latin1');
      if (!c.server.acl.getUser(u)) return c.addError(`ERR No such user '${u}'`);
      f.user = u;
    } else if (argIs(opt, 'skipme')) {
      if (argIs(val, 'yes')) f.skipMe = true;
      else if (argIs(val, 'no')) f.skipMe = false;
      else return c.addError(ERR_SYNTAX);
    } else if (argIs(opt, 'maxage')) {
      const n = parseInt64(val);
      if (n === null) return c.addError('ERR value is not an integer or out of range');
      f.maxAge = n;
    } else {
      return c.addError(ERR_SYNTAX);
    }
  }
  const now = Date.now();
  const victims = [...c.server.clients.values()].filter((cl) => matches(f, cl, now) && !(f.skipMe && cl === c));
  c.addInt(victims.length);
  for (const v of victims) kill(c, v);
}

function clientNoEvict(c: CommandContext, argv: Buffer[]): void {
  if (argIs(argv[2], 'on')) c.noEvict = true;
  else if (argIs(argv[2], 'off')) c.noEvict = false;
  else return c.addError(ERR_SYNTAX);
  c.addOk();
}

function clientReply(c: CommandContext, argv: Buffer[]): void {
  if (argIs(argv[2], 'on')) {
    c.replyFlags = 0;
    return c.addOk();
  }
  // OFF and SKIP send no reply themselves; SKIP also silences the next command.
  if (argIs(argv[2], 'off')) c.replyFlags |= REPLY_OFF;
  else if (argIs(argv[2], 'skip')) c.replyFlags |= REPLY_SKIP_NEXT;
  else c.addError(ERR_SYNTAX);
}

function clientGetRedir(c: CommandContext): void {
  c.addInt(-1);
}

function clientTrackingInfo(c: CommandContext): void {
  c.addMapLen(3);
  c.addBulkString('flags');
  c.addSetLen(1);
  c.addBulkString('off');
  c.addBulkString('redirect');
  c.addInt(-1);
  c.addBulkString('prefixes');
  c.addArrayLen(0);
}

function clientUnblock(c: CommandContext, argv: Buffer[]): void {
  const id = parseInt64(argv[2]);
  if (id === null) return c.addError('ERR value is not an integer or out of range');
  if (argv.length === 4) {
    if (!argIs(argv[3], 'timeout') && !argIs(argv[3], 'error')) return c.addError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  // No command blocks in kvslab, so there is never a client to unblock.
  c.addInt(0);
}

function clientHelp(c: CommandContext): void {
  replyHelp(c, 'CLIENT', [
    'GETNAME',
    '    The name of this connection.',
    'GETREDIR',
    '    Client ID that tracking notifications are redirected to (-1: none).',
    'ID',
    '    The ID of this connection.',
    'INFO',
    '    A CLIENT LIST line about this connection.',
    'KILL <ip:port>',
    '    Close the connection coming from <ip:port>.',
    'KILL <option> <value> [<option> <value> [...]]',
    '    Close every connection matching all the filters:',
    '    * ID <client-id>',
    '    * ADDR <ip:port>        (remote address)',
    '    * LADDR <ip:port>       (local address)',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '    * USER <username>',
    '    * MAXAGE <seconds>      (connections at least that old)',
    '    * SKIPME (YES|NO)       (whether to spare this connection; default yes)',
    'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> [<client-id> ...]]',
    '    One line of facts per connection.',
    'NO-EVICT (ON|OFF)',
    '    Exempt this connection from client eviction, or not.',
    'REPLY (ON|OFF|SKIP)',
    '    Turn the replies to this connection on or off, or skip the next one.',
    'SETINFO <LIB-NAME|LIB-VER> <value>',
    '    Record the client library name or version, shown by CLIENT LIST.',
    'SETNAME <name>',
    '    Name this connection.',
    'TRACKINGINFO',
    '    Client-side caching state of this connection.',
    'UNBLOCK <clientid> [TIMEOUT|ERROR]',
    '    Wake a client blocked in a blocking command.',
  ]);
}

const group = 'connection';
const acl = ACL_CONNECTION;
const own = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;
const adm = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;
export const clientCommands: CommandDef<Handler>[] = [
  {
    name: 'client', arity: -2, 
    docs: { summary: 'Inspects and controls client connections.', since: '2.4.0', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'client|getname', arity: 2, flags: own, acl, handler: clientGetName,
        docs: { summary: 'Returns the name of this connection.', since: '2.6.9', group, complexity: 'O(1)' },
      },
      {
        name: 'client|getredir', arity: 2, flags: own, acl, handler: clientGetRedir,
        docs: { summary: 'Returns where tracking notifications are redirected (-1: nowhere).', since: '6.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'client|help', arity: 2, flags: CMD_LOADING | CMD_STALE, acl, handler: clientHelp,
        docs: { summary: 'Explains the CLIENT subcommands.', since: '5.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'client|id', arity: 2, flags: own, acl, handler: clientId,
        docs: { summary: 'Returns the unique ID of this connection.', since: '5.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'client|info', arity: 2, flags: own, acl, handler: clientInfo, tips: ['nondeterministic_output'],
        docs: { summary: 'Describes this connection in CLIENT LIST format.', since: '6.2.0', group, complexity: 'O(1)' },
      },
      {
        name: 'client|kill', arity: -3, flags: adm, acl, handler: clientKill,
        docs: { summary: 'Closes the connections matching the filters.', since: '2.4.0', group, complexity: 'O(N) where N is the number of client connections', syntax: '<ip:port | [ID client-id] [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME <YES | NO>] [MAXAGE maxage]>' },
      },
      {
        name: 'client|list', arity: -2, flags: adm, acl, handler: clientList, tips: ['nondeterministic_output'],
        docs: { summary: 'Describes every connection, one line each.', since: '2.4.0', group, complexity: 'O(N) where N is the number of client connections', syntax: '[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]' },
      },
      {
        name: 'client|no-evict', arity: 3, flags: adm, acl, handler: clientNoEvict,
        docs: { summary: 'Exempts this connection from client eviction, or not.', since: '7.0.0', group, complexity: 'O(1)', syntax: '<ON | OFF>' },
      },
      {
        name: 'client|reply', arity: 3, flags: own, acl, handler: clientReply,
        docs: { summary: 'Turns the replies to this connection on or off, or skips the next one.', since: '3.2.0', group, complexity: 'O(1)', syntax: '<ON | OFF | SKIP>' },
      },
      {
        name: 'client|setinfo', arity: 4, flags: own, acl, handler: clientSetInfo, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        docs: { summary: 'Records the client library name or version for this connection.', since: '7.2.0', group, complexity: 'O(1)', syntax: '<LIB-NAME libname | LIB-VER libver>' },
      },
      {
        name: 'client|setname', arity: 3, flags: own, acl, handler: clientSetName,
        docs: { summary: 'Names this connection.', since: '2.6.9', group, complexity: 'O(1)', syntax: 'connection-name' },
      },
      {
        name: 'client|trackinginfo', arity: 2, flags: own, acl, handler: clientTrackingInfo,
        docs: { summary: 'Reports the client-side caching state of this connection.', since: '6.2.0', group, complexity: 'O(1)' },
      },
      {
        name: 'client|unblock', arity: -3, flags: adm, acl, handler: clientUnblock,
        docs: { summary: 'Wakes a client blocked in a blocking command.', since: '5.0.0', group, complexity: 'O(log N) where N is the number of client connections', syntax: 'client-id [TIMEOUT | ERROR]' },
      },
    ],
  },
];
