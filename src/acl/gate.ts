// What dispatch asks before running a command for a user who may not run
// everything (the default user never gets here): the NOPERM error to send,
// or null. Every denial goes to the ACL log. The texts are Redis 7.0's.

import type { Command } from '../commands/model/command-table.js';
import type { Acl, AclSession } from './access-control.js';
import { ACL_OK, type AclVerdict, checkCommand, DENIED_CMD } from './check.js';

function logDenial(acl: Acl, c: AclSession, v: AclVerdict, cmd: Command<unknown>, argv: Buffer[], inMulti: boolean): void {
  const object = v.result === DENIED_CMD ? cmd.name : argv[v.pos].toString('latin1');
  acl.addLog(c, v.result === DENIED_CMD ? 'command' : 'key', inMulti ? 'multi' : 'toplevel', object);
}

/** Checked before a command runs or is queued in MULTI (processCommand's ACLCheckAllPerm). */
export function commandDenied(acl: Acl, c: AclSession, cmd: Command<unknown>, argv: Buffer[]): string | null {
  const v = checkCommand(c.user, cmd, argv);
  if (v.result === ACL_OK) return null;
  // The log's client info names the refused command, as Redis's does.
  c.lastCommand = cmd.name;
  logDenial(acl, c, v, cmd, argv, c.multi !== null);
  return v.result === DENIED_CMD
    ? `NOPERM this user has no permissions to run the '${cmd.name}' command`
    : 'NOPERM this user has no permissions to access one of the keys used as arguments';
}

/** Checked again for each queued command when EXEC runs it: the rules may have changed meanwhile. */
export function queuedCommandDenied(acl: Acl, c: AclSession, cmd: Command<unknown>, argv: Buffer[]): string | null {
  const v = checkCommand(c.user, cmd, argv);
  if (v.result === ACL_OK) return null;
  logDenial(acl, c, v, cmd, argv, true);
  const reason = v.result === DENIED_CMD ? 'no permission to execute the command or subcommand' : 'no permission to touch the specified keys';
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
}
