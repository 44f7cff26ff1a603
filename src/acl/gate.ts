// What dispatch asks before running a command for a user who may not run
// everything (the default user never gets here): the NOPERM error to send,
// or null. Every denial goes to the ACL log. The texts are Redis 7.0's.

import type { CommandSpec } from '../commands/table.js';
import type { Client } from '../server/client.js';
import { aclOf } from './acl.js';
import { ACL_OK, AclVerdict, checkCommand, DENIED_CMD } from './check.js';

function verdict(c: Client, spec: CommandSpec, argv: Buffer[]): AclVerdict {
  const acl = aclOf(c.server);
  return checkCommand(c.user, acl.index.idOf(spec), spec, argv);
}

function logDenial(c: Client, v: AclVerdict, spec: CommandSpec, argv: Buffer[], inMulti: boolean): void {
  const object = v.result === DENIED_CMD ? spec.name : argv[v.pos].toString('latin1');
  aclOf(c.server).addLog(c, v.result === DENIED_CMD ? 'command' : 'key', inMulti ? 'multi' : 'toplevel', object);
}

/** Checked before a command runs or is queued in MULTI (processCommand's ACLCheckAllPerm). */
export function commandDenied(c: Client, spec: CommandSpec, argv: Buffer[]): string | null {
  const v = verdict(c, spec, argv);
  if (v.result === ACL_OK) return null;
  // The log's client info names the refused command, as Redis's does.
  c.lastCommand = spec.name;
  logDenial(c, v, spec, argv, c.multi !== null);
  return v.result === DENIED_CMD
    ? `NOPERM this user has no permissions to run the '${spec.name}' command`
    : 'NOPERM this user has no permissions to access one of the keys used as arguments';
}

/** Checked again for each queued command when EXEC runs it: the rules may have changed meanwhile. */
export function queuedCommandDenied(c: Client, spec: CommandSpec, argv: Buffer[]): string | null {
  const v = verdict(c, spec, argv);
  if (v.result === ACL_OK) return null;
  logDenial(c, v, spec, argv, true);
  const reason = v.result === DENIED_CMD ? 'no permission to execute the command or subcommand' : 'no permission to touch the specified keys';
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
}
