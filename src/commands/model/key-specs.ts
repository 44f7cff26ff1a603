// Key specs, as Redis 7 declares where a command's keys are: a begin search
// (the first key's index, or the argument after a keyword) and a find-keys
// rule (a range from there, or a count read from an argument), with flags
// saying how the command uses the keys. They are the only place key positions
// are declared: COMMAND INFO, COMMAND GETKEYS, the ACL key check (and, with
// cluster mode, slot routing) all read them through keysBySpecs.

import { argIs } from '../../util/bytes.js';
import { parseInt64 } from '../../util/int64.js';

// Key spec flags, in the order Redis lists them.
export const KS_RO = 1 << 0;
export const KS_RW = 1 << 1;
export const KS_OW = 1 << 2;
export const KS_RM = 1 << 3;
export const KS_ACCESS = 1 << 4;
export const KS_UPDATE = 1 << 5;
export const KS_INSERT = 1 << 6;
export const KS_DELETE = 1 << 7;
export const KS_NOT_KEY = 1 << 8;
export const KS_INCOMPLETE = 1 << 9;
export const KS_VARIABLE_FLAGS = 1 << 10;

const KS_NAMES: readonly [number, string][] = [
  [KS_RO, 'RO'], [KS_RW, 'RW'], [KS_OW, 'OW'], [KS_RM, 'RM'], [KS_ACCESS, 'access'], [KS_UPDATE, 'update'],
  [KS_INSERT, 'insert'], [KS_DELETE, 'delete'], [KS_NOT_KEY, 'not_key'], [KS_INCOMPLETE, 'incomplete'],
  [KS_VARIABLE_FLAGS, 'variable_flags'],
];

export function keySpecFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of KS_NAMES) if (flags & bit) out.push(name);
  return out;
}

/**
 * Where the search for the first key starts: a fixed index, or after a
 * keyword (lower case) searched from an index (negative: from the end, backwards).
 */
export type BeginSearch = { index: number } | { keyword: string; startFrom: number };

/**
 * From the first key: a range (lastkey relative to it, negative counting from
 * the end; keystep; limit, which with lastkey -1 takes only 1/limit of what
 * is left), or a count of keys read from the argument keynumIdx after the
 * begin, the keys starting firstKey after it.
 */
export type FindKeys =
  | { lastkey: number; keystep: number; limit: number }
  | { keynumIdx: number; firstKey: number; keystep: number };

export interface KeySpec {
  flags: number;
  notes?: string;
  begin: BeginSearch;
  find: FindKeys;
}

/** A key argument: its position in argv and the key spec flags of its use. */
export interface KeyRef {
  pos: number;
  flags: number;
}

// The common shapes.

/** One key at argv[index]. */
export function keyAt(index: number, flags: number, notes?: string): KeySpec {
  return { flags, notes, begin: { index }, find: { lastkey: 0, keystep: 1, limit: 0 } };
}

/** Keys from argv[index] to the last argument, every `keystep` (DEL, MSET). */
export function keysFrom(index: number, flags: number, keystep = 1): KeySpec {
  return { flags, begin: { index }, find: { lastkey: -1, keystep, limit: 0 } };
}

/**
 * Appends to `out` the keys the specs find in `argv` (Redis's
 * getKeysUsingKeySpecs): false when a spec cannot be applied to these
 * arguments (a key count that is not a number), and then `out` is left as
 * it was; so does a spec flagged incomplete that applies (its keyword is there).
 * Positions past the arguments are skipped, as Redis does for
 * commands of variable arity (the handler reports the error).
 */
export function keysBySpecs(specs: readonly KeySpec[], argv: readonly Buffer[], out: KeyRef[]): boolean {
  const argc = argv.length;
  const start = out.length;
  for (const spec of specs) {
    let first = 0;
    const b = spec.begin;
    if ('index' in b) {
      first = b.index;
    } else {
      const from = b.startFrom > 0 ? b.startFrom : argc + b.startFrom;
      const to = b.startFrom > 0 ? argc - 1 : 0;
      for (let i = from; i !== to; i = from <= to ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (argIs(argv[i], b.keyword)) {
          first = i + 1;
          break;
        }
      }
      // The keyword is not there: this spec names no key.
      if (first === 0) continue;
    }
    let last: number;
    let step: number;
    const f = spec.find;
    if ('lastkey' in f) {
      step = f.keystep;
      if (f.lastkey >= 0) last = first + f.lastkey;
      else if (f.limit === 0) last = argc + f.lastkey;
      else last = first + (Math.floor((argc - first) / f.limit) + f.lastkey);
    } else {
      step = f.keystep;
      if (f.keynumIdx >= argc - first) {
        out.length = start;
        return false;
      }
      const n = parseInt64(argv[first + f.keynumIdx]);
      if (n === null || n < 0) {
        out.length = start;
        return false;
      }
      first += f.firstKey;
      last = first + n - 1;
    }
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) continue;
      out.push({ pos: i, flags: spec.flags });
    }
    // A spec that may miss keys (MIGRATE's KEYS) leaves the answer to the command's own finder.
    if (spec.flags & KS_INCOMPLETE) {
      out.length = start;
      return false;
    }
  }
  return true;
}

/** Whether the specs' flags ask for the command's own key finder (Redis's getkeys_proc): SET's flags depend on GET. */
export function hasVariableFlags(specs: readonly KeySpec[]): boolean {
  for (const s of specs) if (s.flags & KS_VARIABLE_FLAGS) return true;
  return false;
}

/**
 * The legacy first/last/step triple COMMAND INFO shows, and whether the keys
 * "move" (cannot be found from it), derived from the key specs as Redis's
 * populateCommandLegacyRangeSpec does.
 */
export function legacyRange(specs: readonly KeySpec[]): { range: [number, number, number]; movable: boolean } {
  if (specs.length === 0) return { range: [0, 0, 0], movable: false };
  const plain = (s: KeySpec) => 'index' in s.begin && 'lastkey' in s.find;
  if (specs.length === 1 && plain(specs[0])) {
    const s = specs[0];
    const b = s.begin as { index: number };
    const f = s.find as { lastkey: number; keystep: number };
    // In the spec lastkey is relative to the first key; in the triple it is absolute (negative: from the end).
    return { range: [b.index, f.lastkey < 0 ? f.lastkey : b.index + f.lastkey, f.keystep], movable: (s.flags & KS_INCOMPLETE) !== 0 };
  }
  let movable = false;
  let firstkey = Infinity;
  // Compared unsigned, as Redis does: a negative (from the end) lastkey wins over any index.
  let lastkey = 0;
  let prevLast = 0;
  for (const s of specs) {
    if (!plain(s)) {
      movable = true;
      continue;
    }
    const b = s.begin as { index: number };
    const f = s.find as { lastkey: number; keystep: number };
    if (f.keystep !== 1 || (prevLast !== 0 && prevLast !== b.index - 1)) {
      movable = true;
      continue;
    }
    if (s.flags & KS_INCOMPLETE) movable = true;
    firstkey = Math.min(firstkey, b.index);
    const abs = f.lastkey >= 0 ? f.lastkey + b.index : f.lastkey;
    if ((abs >>> 0) > (lastkey >>> 0)) lastkey = abs;
    prevLast = lastkey;
  }
  if (firstkey === Infinity) return { range: [0, 0, 0], movable: true };
  return { range: [firstkey, lastkey, 1], movable };
}
