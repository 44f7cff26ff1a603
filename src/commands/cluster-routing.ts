// The cluster slot check of dispatch (Redis's getNodeByQuery without slot
// migrations): a keyed command runs only when all its keys hash to one slot
// that this node owns. Keys come from the command table's key model: the
// legacy first/last/step range when the keys do not move (no allocation:
// the slot is computed over the argument's bytes in place), the key specs
// (commandKeys) otherwise. EXEC checks the whole queue as one request.
//
// KV.PREFIX, KV.PIN and KV.MSLICE name many chunk keys, which hash to many
// slots: they run when this node owns every one (no CROSSSLOT), and get
// MOVED for the first it does not (the command table's slotsOfThisNode);
// the cluster-aware client (src/client/kv.ts) sends each node its own keys.

import type { CommandContext, Handler } from './context.js';
import { commandKeys, type Command } from './model/command-table.js';
import { CMD_EXEC, CMD_MOVABLE_KEYS, CMD_WRITE } from './model/flags.js';
import { keyHashSlot } from '../cluster/keyslot.js';
import { ERR_CROSSSLOT, ERR_NOT_SERVED, type ClusterState } from '../cluster/cluster-state.js';

/** Fold results besides a slot: no key seen yet, keys of two slots, a first key in an unowned slot. */
const NO_KEY = -1;
const CROSS = -2;
const UNSERVED = -3;

/** The slot so far combined with one more key. */
function foldKey(cluster: ClusterState, key: Buffer, slot: number): number {
  const s = keyHashSlot(key);
  // As Redis: the first key's slot unowned is reported before any later key is looked at.
  if (slot === NO_KEY) return cluster.unowned(s) ? UNSERVED : s;
  return s === slot ? slot : CROSS;
}

/**
 * A slotsOfThisNode command's keys: the first key's slot when this node owns
 * every one (so the refusal is none), else the first slot it does not own
 * (MOVED there), UNSERVED for an unowned one.
 */
function foldOwnKeys(cluster: ClusterState, cmd: Command<Handler>, argv: readonly Buffer[]): number {
  const keys = commandKeys(cmd, argv);
  let first = NO_KEY;
  for (let i = 0; i < keys.length; i++) {
    const s = keyHashSlot(argv[keys[i].pos]);
    if (cluster.unowned(s)) return UNSERVED;
    if (!cluster.ownsSlot(s)) return s;
    if (first === NO_KEY) first = s;
  }
  return first;
}

/** The slot so far combined with every key of one command line. */
function foldCommand(cluster: ClusterState, cmd: Command<Handler>, argv: readonly Buffer[], slot: number): number {
  if (cmd.slotsOfThisNode) {
    const s = foldOwnKeys(cluster, cmd, argv);
    if (s < 0 || slot === NO_KEY) return s === NO_KEY ? slot : s;
    return s === slot ? slot : CROSS;
  }
  if ((cmd.flags & CMD_MOVABLE_KEYS) === 0) {
    const range = cmd.legacyRange;
    const first = range[0];
    if (first === 0) return slot;
    const lastkey = range[1];
    const step = range[2];
    const last = lastkey < 0 ? argv.length + lastkey : Math.min(lastkey, argv.length - 1);
    for (let i = first; i <= last && slot >= NO_KEY; i += step) slot = foldKey(cluster, argv[i], slot);
    return slot;
  }
  const keys = commandKeys(cmd, argv);
  for (let i = 0; i < keys.length && slot >= NO_KEY; i++) slot = foldKey(cluster, argv[keys[i].pos], slot);
  return slot;
}

/** Why the command cannot run on this node (MOVED, CROSSSLOT, CLUSTERDOWN), or null when it can. */
export function clusterRefusal(cluster: ClusterState, c: CommandContext, cmd: Command<Handler>, argv: readonly Buffer[]): string | null {
  let slot = NO_KEY;
  if ((cmd.flags & CMD_EXEC) === 0) slot = foldCommand(cluster, cmd, argv, slot);
  else if (c.multi !== null) for (let i = 0; i < c.multi.length && slot >= NO_KEY; i++) slot = foldCommand(cluster, c.multi[i].cmd, c.multi[i].argv, slot);
  if (slot === NO_KEY) return null;
  if (slot === CROSS) return ERR_CROSSSLOT;
  if (slot === UNSERVED) return ERR_NOT_SERVED;
  return cluster.refusal(slot, isWrite(c, cmd), c.tls);
}

/** Whether the command writes: EXEC when a queued command does. */
function isWrite(c: CommandContext, cmd: Command<Handler>): boolean {
  if ((cmd.flags & CMD_EXEC) === 0) return (cmd.flags & CMD_WRITE) !== 0;
  return c.multi !== null && c.multi.some((q) => (q.cmd.flags & CMD_WRITE) !== 0);
}
