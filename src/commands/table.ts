// The command table: every command is declared once, here or in its family's
// file, with the metadata that drives dispatch (arity, flags), ACL categories,
// key positions (COMMAND GETKEYS, client-side key extraction), and the docs
// served by COMMAND DOCS.

import type { Client } from '../server/client.js';

export type Handler = (c: Client, argv: Buffer[]) => void;

/** Flags as Redis names them in COMMAND INFO. */
export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'admin' | 'pubsub' | 'noscript' | 'blocking'
  | 'loading' | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'asking' | 'fast'
  | 'no_auth' | 'may_replicate' | 'no_mandatory_keys' | 'no_async_loading'
  | 'no_multi' | 'movablekeys' | 'allow_busy';

export interface CommandDocs {
  summary: string;
  since: string;
  group: string;
  complexity: string;
  /** Argument syntax as in the Redis docs, e.g. "key value [NX | XX]"; COMMAND DOCS derives arguments from it. */
  syntax?: string;
}

export interface CommandSpec {
  /** Lower-case name; subcommands are named "parent|sub". */
  name: string;
  /** Positive: exact argc including the name; negative: at least -arity. */
  arity: number;
  flags: CommandFlag[];
  /** Explicit ACL categories without '@'; the ones implied by flags are added (see aclCategories). */
  acl: string[];
  /** Key positions: first, last (negative counts from the end), step. 0,0,0 when none. */
  keys?: [number, number, number];
  /** Key positions for commands whose keys move (movablekeys). */
  getKeys?: (argv: Buffer[]) => number[];
  docs: CommandDocs;
  handler?: Handler;
  subcommands?: CommandSpec[];
  /** Command tips shown by COMMAND INFO (e.g. 'nondeterministic_output'). */
  tips?: string[];
  /** Key-spec flags when the ones derived from flags (RO access / RW update) are not Redis's. */
  keySpecFlags?: string[];
  /** The key spec's "notes" text where Redis has one. */
  keySpecNotes?: string;
  /** One key spec per key role, for commands whose keys differ in role (RENAME: source, destination). */
  keySpecs?: KeySpecDecl[];
  /** Filled in by CommandTable.add. */
  stats?: CommandStats;
  /** The flags dispatch tests on every request, as bits (see F_*); filled in by CommandTable.add. */
  bits?: number;
}

export const F_NO_AUTH = 1;
export const F_NO_MULTI = 2;
export const F_DENYOOM = 4;
export const F_FAST = 8;
/** Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
export const F_MULTI_CONTROL = 16;
/** Exempt from the OOM check that applies to everything queued in MULTI. */
export const F_MULTI_OOM_EXEMPT = 32;

const MULTI_CONTROL = ['exec', 'discard', 'multi', 'watch', 'quit', 'reset'];
const MULTI_OOM_EXEMPT = ['exec', 'discard', 'quit', 'reset'];

function flagBits(spec: CommandSpec): number {
  const f = spec.flags;
  return (f.includes('no_auth') ? F_NO_AUTH : 0) | (f.includes('no_multi') ? F_NO_MULTI : 0)
    | (f.includes('denyoom') ? F_DENYOOM : 0) | (f.includes('fast') ? F_FAST : 0)
    | (MULTI_CONTROL.includes(spec.name) ? F_MULTI_CONTROL : 0)
    | (MULTI_OOM_EXEMPT.includes(spec.name) ? F_MULTI_OOM_EXEMPT : 0);
}

/** Per-command counters for INFO commandstats. */
export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/** A key spec of the "index" + "range" kind, as COMMAND INFO shows it. */
export interface KeySpecDecl {
  notes?: string;
  flags: string[];
  index: number;
  lastkey: number;
  keystep: number;
  limit: number;
}

/** ACL categories of a command: the declared ones plus those Redis implies from flags. */
export function aclCategories(spec: CommandSpec): string[] {
  const out: string[] = [];
  const f = spec.flags;
  if (f.includes('write')) out.push('write');
  if (f.includes('readonly') && !spec.acl.includes('scripting')) out.push('read');
  for (const a of spec.acl) if (!out.includes(a)) out.push(a);
  if (f.includes('admin')) out.push('admin', 'dangerous');
  if (f.includes('pubsub')) out.push('pubsub');
  if (f.includes('fast')) out.push('fast');
  if (f.includes('blocking')) out.push('blocking');
  if (!f.includes('fast')) out.push('slow');
  return out;
}

/** Positions of the key arguments in `argv` for this command. */
export function keyPositions(spec: CommandSpec, argv: Buffer[]): number[] {
  if (spec.getKeys) return spec.getKeys(argv);
  if (!spec.keys || spec.keys[0] === 0) return [];
  const [first, lastRaw, step] = spec.keys;
  const last = lastRaw < 0 ? argv.length + lastRaw : lastRaw;
  const out: number[] = [];
  for (let i = first; i <= last && i < argv.length; i += step) out.push(i);
  return out;
}

/**
 * Name -> spec lookup that works on the request's Buffer without building a
 * string: a case-insensitive hash of the bytes picks a short bucket.
 */
export class CommandTable {
  private readonly buckets = new Map<number, CommandSpec[]>();
  private readonly byName = new Map<string, CommandSpec>();
  readonly all: CommandSpec[] = [];

  add(spec: CommandSpec): void {
    if (this.byName.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
    this.byName.set(spec.name, spec);
    this.all.push(spec);
    for (const s of [spec, ...(spec.subcommands ?? [])]) {
      s.stats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
      s.bits = flagBits(s);
    }
    const h = hashLower(Buffer.from(spec.name));
    const b = this.buckets.get(h);
    if (b) b.push(spec);
    else this.buckets.set(h, [spec]);
  }

  lookup(name: Buffer): CommandSpec | undefined {
    const b = this.buckets.get(hashLower(name));
    if (b === undefined) return undefined;
    for (let i = 0; i < b.length; i++) if (equalsLower(name, b[i].name)) return b[i];
    return undefined;
  }

  /** Lookup by a known lower-case name (COMMAND INFO, config). */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }
}

/** Finds a subcommand of `parent` by the bytes of argv[1]. */
export function lookupSubcommand(parent: CommandSpec, name: Buffer): CommandSpec | undefined {
  const subs = parent.subcommands;
  if (!subs) return undefined;
  const prefix = parent.name.length + 1;
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i].name;
    if (s.length - prefix === name.length && equalsLower(name, s, prefix)) return subs[i];
  }
  return undefined;
}

function hashLower(b: Buffer): number {
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) {
    let c = b[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 16777619);
  }
  return h >>> 0;
}

/** Case-insensitive compare of bytes with the lower-case `s` from `offset`. */
function equalsLower(b: Buffer, s: string, offset = 0): boolean {
  if (b.length !== s.length - offset) return false;
  for (let i = 0; i < b.length; i++) {
    let c = b[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== s.charCodeAt(i + offset)) return false;
  }
  return true;
}

/** Case-insensitive compare of an argument with an ASCII keyword (lower-case). */
export function isArg(b: Buffer, lower: string): boolean {
  return equalsLower(b, lower);
}
