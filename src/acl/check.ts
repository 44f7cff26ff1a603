// Whether a user may run a command with its arguments: the command (or the
// subcommand) must be allowed, and every key argument must match a pattern
// that grants the access the command's key spec asks for (ACCESS needs read;
// INSERT, DELETE, UPDATE need write; a bare RO/RW needs either). Any one
// selector allowing all of it is enough (Redis's ACLCheckAllUserCommandPerm).

import { keySpecFlags } from '../commands/command.js';
import { keyPositions, type CommandSpec, F_NO_AUTH } from '../commands/table.js';
import type { AclUser } from './user.js';
import { KEY_READ, KEY_WRITE, Selector } from './selector.js';

/** Results in Redis's order: when selectors disagree, the highest is reported. */
export const ACL_OK = 0;
export const DENIED_CMD = 1;
export const DENIED_KEY = 2;
export const DENIED_AUTH = 3;

export interface AclVerdict {
  result: number;
  /** Position in argv of the key that was refused. */
  pos: number;
}

/** A key argument and the access it needs. */
interface KeyRef { pos: number; need: number }

function accessOf(flags: readonly string[]): number {
  let need = 0;
  for (const f of flags) {
    if (f === 'access') need |= KEY_READ;
    else if (f === 'insert' || f === 'delete' || f === 'update') need |= KEY_WRITE;
  }
  return need;
}

/** Key arguments with their access, per key spec where a command declares several (RENAME: source, destination). */
export function keyRefs(spec: CommandSpec, argv: Buffer[]): KeyRef[] {
  const out: KeyRef[] = [];
  if (spec.keySpecs) {
    for (const ks of spec.keySpecs) {
      const need = accessOf(ks.flags);
      const last = ks.lastkey >= 0 ? ks.index + ks.lastkey : argv.length + ks.lastkey;
      for (let i = ks.index; i <= last && i < argv.length; i += ks.keystep) out.push({ pos: i, need });
    }
    return out;
  }
  const positions = keyPositions(spec, argv);
  if (positions.length === 0) return out;
  const need = accessOf(keySpecFlags(spec));
  for (const pos of positions) out.push({ pos, need });
  return out;
}

function checkSelector(sel: Selector, id: number, spec: CommandSpec, argv: Buffer[], keys: () => KeyRef[]): AclVerdict {
  const noAuth = ((spec.bits as number) & F_NO_AUTH) !== 0;
  if (!noAuth && !sel.commandAllowed(id, argv)) return { result: DENIED_CMD, pos: 0 };
  if (!sel.allKeys) {
    for (const k of keys()) {
      if (!sel.keyAllowed(argv[k.pos], k.need)) return { result: DENIED_KEY, pos: k.pos };
    }
  }
  return { result: ACL_OK, pos: 0 };
}

/** The verdict for `user` running `spec` (command id `id`) with `argv`. */
export function checkCommand(user: AclUser, id: number, spec: CommandSpec, argv: Buffer[]): AclVerdict {
  let cached: KeyRef[] | null = null;
  const keys = () => (cached ??= keyRefs(spec, argv));
  let worst: AclVerdict = { result: DENIED_CMD, pos: 0 };
  for (const sel of user.selectors) {
    const v = id < 0 ? { result: DENIED_CMD, pos: 0 } : checkSelector(sel, id, spec, argv, keys);
    if (v.result === ACL_OK) return v;
    if (v.result > worst.result || (v.result === worst.result && v.pos > worst.pos)) worst = v;
  }
  return worst;
}
