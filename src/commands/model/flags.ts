// Command flags and ACL categories as bits, with the names COMMAND INFO and
// ACL CAT give them, in Redis's order (the order they are listed in).

// Flags Redis shows in COMMAND INFO.
export const CMD_WRITE = 1 << 0;
export const CMD_READONLY = 1 << 1;
export const CMD_DENYOOM = 1 << 2;
export const CMD_ADMIN = 1 << 3;
export const CMD_PUBSUB = 1 << 4;
export const CMD_NOSCRIPT = 1 << 5;
export const CMD_BLOCKING = 1 << 6;
export const CMD_LOADING = 1 << 7;
export const CMD_STALE = 1 << 8;
export const CMD_SKIP_MONITOR = 1 << 9;
export const CMD_SKIP_SLOWLOG = 1 << 10;
export const CMD_ASKING = 1 << 11;
export const CMD_FAST = 1 << 12;
export const CMD_NO_AUTH = 1 << 13;
export const CMD_MAY_REPLICATE = 1 << 14;
export const CMD_NO_MANDATORY_KEYS = 1 << 15;
export const CMD_NO_ASYNC_LOADING = 1 << 16;
export const CMD_NO_MULTI = 1 << 17;
/** Set by the command table from the key specs, as Redis does (populateCommandLegacyRangeSpec). */
export const CMD_MOVABLE_KEYS = 1 << 18;
export const CMD_ALLOW_BUSY = 1 << 19;

// kvslab's own, not shown: what Redis's processCommand recognises by the handler.
/** Runs at once inside MULTI instead of being queued (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET). */
export const CMD_TX_CONTROL = 1 << 24;
/** Not refused for memory inside MULTI, where every other command counts as growing it (EXEC, DISCARD, QUIT, RESET). */
export const CMD_TX_OOM_EXEMPT = 1 << 25;
/** Runs the queued commands (EXEC): refused for memory when one of them grows it, and ACL or OOM refusals abort the transaction. */
export const CMD_EXEC = 1 << 26;

/** The flags COMMAND INFO lists, in Redis's order. */
export const FLAG_NAMES: readonly [number, string][] = [
  [CMD_WRITE, 'write'], [CMD_READONLY, 'readonly'], [CMD_DENYOOM, 'denyoom'], [CMD_ADMIN, 'admin'],
  [CMD_PUBSUB, 'pubsub'], [CMD_NOSCRIPT, 'noscript'], [CMD_BLOCKING, 'blocking'], [CMD_LOADING, 'loading'],
  [CMD_STALE, 'stale'], [CMD_SKIP_MONITOR, 'skip_monitor'], [CMD_SKIP_SLOWLOG, 'skip_slowlog'], [CMD_ASKING, 'asking'],
  [CMD_FAST, 'fast'], [CMD_NO_AUTH, 'no_auth'], [CMD_MAY_REPLICATE, 'may_replicate'],
  [CMD_NO_MANDATORY_KEYS, 'no_mandatory_keys'], [CMD_NO_ASYNC_LOADING, 'no_async_loading'], [CMD_NO_MULTI, 'no_multi'],
  [CMD_MOVABLE_KEYS, 'movablekeys'], [CMD_ALLOW_BUSY, 'allow_busy'],
];

/** ACL categories in Redis's bit order, which is the order ACL CAT and COMMAND INFO list them in. */
export const ACL_CATEGORY_NAMES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
  // kvslab's own, after Redis's.
  'kvtensor',
];

export const ACL_KEYSPACE = 1 << 0;
export const ACL_READ = 1 << 1;
export const ACL_WRITE = 1 << 2;
export const ACL_SET = 1 << 3;
export const ACL_SORTEDSET = 1 << 4;
export const ACL_LIST = 1 << 5;
export const ACL_HASH = 1 << 6;
export const ACL_STRING = 1 << 7;
export const ACL_BITMAP = 1 << 8;
export const ACL_HYPERLOGLOG = 1 << 9;
export const ACL_GEO = 1 << 10;
export const ACL_STREAM = 1 << 11;
export const ACL_PUBSUB = 1 << 12;
export const ACL_ADMIN = 1 << 13;
export const ACL_FAST = 1 << 14;
export const ACL_SLOW = 1 << 15;
export const ACL_BLOCKING = 1 << 16;
export const ACL_DANGEROUS = 1 << 17;
export const ACL_CONNECTION = 1 << 18;
export const ACL_TRANSACTION = 1 << 19;
export const ACL_SCRIPTING = 1 << 20;
export const ACL_KVTENSOR = 1 << 21;

/** A category's bit by name (any case), 0 when there is no such category. */
export function categoryBit(name: string): number {
  const i = ACL_CATEGORY_NAMES.indexOf(name.toLowerCase());
  return i < 0 ? 0 : 1 << i;
}

/** The declared categories plus those Redis implies from the flags (setImplicitACLCategories). */
export function withImpliedCategories(flags: number, declared: number): number {
  let acl = declared;
  if (flags & CMD_WRITE) acl |= ACL_WRITE;
  // Scripting commands are not @read even when read-only.
  if (flags & CMD_READONLY && !(acl & ACL_SCRIPTING)) acl |= ACL_READ;
  if (flags & CMD_ADMIN) acl |= ACL_ADMIN | ACL_DANGEROUS;
  if (flags & CMD_PUBSUB) acl |= ACL_PUBSUB;
  if (flags & CMD_FAST) acl |= ACL_FAST;
  if (flags & CMD_BLOCKING) acl |= ACL_BLOCKING;
  // Not @fast is @slow, in this binary world.
  if (!(acl & ACL_FAST)) acl |= ACL_SLOW;
  return acl;
}

/** Names of the bits set in `mask`, in the order of `names` (bit i is names[i]). */
export function categoryNames(mask: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < ACL_CATEGORY_NAMES.length; i++) if (mask & (1 << i)) out.push(ACL_CATEGORY_NAMES[i]);
  return out;
}

export function flagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out.push(name);
  return out;
}
