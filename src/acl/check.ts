// Whether a user may run a command with its arguments: the command (or the
// subcommand) must be allowed, and every key argument must match a pattern
// that grants the access its key spec asks for (ACCESS needs read; INSERT,
// DELETE, UPDATE need write; a bare RO/RW needs either). Any one selector
// allowing all of it is enough (Redis's ACLCheckAllUserCommandPerm).

import { commandKeys, type Command } from '../commands/model/command-table.js';
import { CMD_NO_AUTH } from '../commands/model/flags.js';
import { KS_ACCESS, KS_DELETE, KS_INSERT, KS_UPDATE, type KeyRef } from '../commands/model/key-specs.js';
import type { AclUser } from './user.js';
import { KEY_READ, KEY_WRITE, type Selector } from './selector.js';

/** Results in Redis's order: when selectors disagree, the highest is reported. */
export const ACL_OK = 0;
export const DENIED_CMD = 1;
export const DENIED_KEY = 2;

export interface AclVerdict {
  result: number;
  /** Position in argv of the key that was refused. */
  pos: number;
}

/** The pattern permissions a key's use needs (ACLSelectorCheckKey). */
function accessOf(flags: number): number {
  let need = 0;
  if (flags & KS_ACCESS) need |= KEY_READ;
  if (flags & (KS_INSERT | KS_DELETE | KS_UPDATE)) need |= KEY_WRITE;
  return need;
}

function checkSelector(sel: Selector, cmd: Command<unknown>, argv: Buffer[], keys: () => KeyRef[]): AclVerdict {
  const noAuth = (cmd.flags & CMD_NO_AUTH) !== 0;
  if (!noAuth && !sel.commandAllowed(cmd.id, argv)) return { result: DENIED_CMD, pos: 0 };
  if (!sel.allKeys) {
    for (const k of keys()) {
      if (!sel.keyAllowed(argv[k.pos], accessOf(k.flags))) return { result: DENIED_KEY, pos: k.pos };
    }
  }
  return { result: ACL_OK, pos: 0 };
}

/** The verdict for `user` running `cmd` with `argv`. */
export function checkCommand(user: AclUser, cmd: Command<unknown>, argv: Buffer[]): AclVerdict {
  let cached: KeyRef[] | null = null;
  // The keys are found once, and only if a selector gets as far as them.
  const keys = () => (cached ??= commandKeys(cmd, argv));
  let worst: AclVerdict = { result: DENIED_CMD, pos: 0 };
  for (const sel of user.selectors) {
    const v = checkSelector(sel, cmd, argv, keys);
    if (v.result === ACL_OK) return v;
    if (v.result > worst.result || (v.result === worst.result && v.pos > worst.pos)) worst = v;
  }
  return worst;
}
