// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET.

import type { CommandContext, Handler } from './context.js';
import { REDIS_VERSION } from '../version.js';
import { argIs, intOrReply, bytesText, ERR_SYNTAX } from './args.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_CONNECTION, CMD_ALLOW_BUSY, CMD_FAST, CMD_LOADING, CMD_NO_AUTH, CMD_NOSCRIPT, CMD_STALE, CMD_TX_CONTROL, CMD_TX_OOM_EXEMPT } from './model/flags.js';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

const DEFAULT_USER = Buffer.from('default');

/** Client names are printable ASCII without spaces (CLIENT SETNAME, HELLO SETNAME). */
export function validClientName(name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if (name[i] < 0x21 || name[i] > 0x7e) return false;
  return true;
}
export const ERR_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

function ping(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2) return c.addError("ERR wrong number of arguments for 'ping' command");
  if (argv.length === 2) c.addBulk(argv[1]);
  else c.addPong();
}

function echo(c: CommandContext, argv: Buffer[]): void {
  c.addBulk(argv[1]);
}

function auth(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) return c.addError(ERR_SYNTAX);
  const acl = c.server.acl;
  if (argv.length === 2 && acl.defaultUser.nopass) {
    return c.addError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const user = argv.length === 3 ? argv[1] : DEFAULT_USER;
  if (!acl.authenticate(c, user, argv[argv.length - 1], argv[0])) return c.addError(WRONGPASS);
  c.addOk();
}

function hello(c: CommandContext, argv: Buffer[]): void {
  let ver = c.resp as number;
  let i = 1;
  if (argv.length >= 2) {
    const v = intOrReply(c, argv[1], 'ERR Protocol version is not an integer or out of range');
    if (v === null) return;
    if (v < 2 || v > 3) return c.addError('NOPROTO unsupported protocol version');
    ver = v;
    i = 2;
  }
  let authUser: Buffer | null = null;
  let authPass: Buffer | null = null;
  let setName: Buffer | null = null;
  for (; i < argv.length; i++) {
    const more = argv.length - i - 1;
    if (argIs(argv[i], 'auth') && more >= 2) {
      authUser = argv[++i];
      authPass = argv[++i];
    } else if (argIs(argv[i], 'setname') && more >= 1) {
      setName = argv[++i];
      if (!validClientName(setName)) return c.addError(ERR_CLIENT_NAME);
    } else {
      return c.addError(`ERR Syntax error in HELLO option '${bytesText(argv[i])}'`);
    }
  }
  if (authUser && authPass) {
    if (!c.server.acl.authenticate(c, authUser, authPass, argv[0])) return c.addError(WRONGPASS);
  }
  if (!c.authenticated) {
    return c.addError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  }
  if (setName) c.name = setName.toString();
  c.resp = ver as 2 | 3;
  c.addMapLen(7);
  c.addBulkString('server'); c.addBulkString('redis');
  c.addBulkString('version'); c.addBulkString(REDIS_VERSION);
  c.addBulkString('proto'); c.addInt(ver);
  c.addBulkString('id'); c.addInt(c.id);
  c.addBulkString('mode'); c.addBulkString('standalone');
  c.addBulkString('role'); c.addBulkString('master');
  c.addBulkString('modules'); c.addEmptyArray();
}

function select(c: CommandContext, argv: Buffer[]): void {
  const n = intOrReply(c, argv[1]);
  if (n === null) return;
  // A cluster has database 0 only, as in Redis.
  if (c.server.cluster !== null && n !== 0) return c.addError('ERR SELECT is not allowed in cluster mode');
  if (n < 0 || n >= c.server.store.dbs.length) return c.addError('ERR DB index is out of range');
  c.db = c.server.store.dbs[n];
  c.addOk();
}

function quit(c: CommandContext): void {
  c.addOk();
  c.closing = true;
}

/** RESET: back to a fresh connection's state, keeping the socket. */
function reset(c: CommandContext): void {
  c.discardTransaction();
  c.db = c.server.store.dbs[0];
  c.resp = 2;
  c.name = '';
  c.noEvict = false;
  c.importStream = false;
  c.server.acl.resetSession(c);
  c.addStatus('RESET');
}

const group = 'connection';
export const connectionCommands: CommandDef<Handler>[] = [
  {
    name: 'ping', arity: -1, flags: CMD_FAST, acl: ACL_CONNECTION, handler: ping,
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    docs: { summary: 'Checks that the server answers; returns PONG or the message.', since: '1.0.0', group, complexity: 'O(1)', syntax: '[message]' },
  },
  {
    name: 'echo', arity: 2, flags: CMD_LOADING | CMD_STALE | CMD_FAST, acl: ACL_CONNECTION, handler: echo,
    docs: { summary: 'Returns the message it was given.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'message' },
  },
  {
    name: 'auth', arity: -2, flags: CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, acl: ACL_CONNECTION, handler: auth,
    docs: { summary: 'Authenticates the connection.', since: '1.0.0', group, complexity: 'O(N) where N is the number of passwords defined for the user', syntax: '[username] password' },
  },
  {
    name: 'hello', arity: -1, flags: CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, acl: ACL_CONNECTION, handler: hello,
    docs: { summary: 'Switches the protocol version, optionally authenticating and naming the connection.', since: '6.0.0', group, complexity: 'O(1)', syntax: '[protover [AUTH username password] [SETNAME clientname]]' },
  },
  {
    name: 'select', arity: 2, flags: CMD_LOADING | CMD_STALE | CMD_FAST, acl: ACL_CONNECTION, handler: select,
    docs: { summary: 'Changes the selected database of the connection.', since: '1.0.0', group, complexity: 'O(1)', syntax: 'index' },
  },
  {
    name: 'quit', arity: -1, flags: CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY | CMD_TX_CONTROL | CMD_TX_OOM_EXEMPT, acl: ACL_CONNECTION, handler: quit,
    docs: { summary: 'Closes the connection after replying OK.', since: '1.0.0', group, complexity: 'O(1)' },
  },
  {
    name: 'reset', arity: 1, flags: CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY | CMD_TX_CONTROL | CMD_TX_OOM_EXEMPT, acl: ACL_CONNECTION, handler: reset,
    docs: { summary: 'Resets the connection to its initial state.', since: '6.2.0', group, complexity: 'O(1)' },
  },
];
