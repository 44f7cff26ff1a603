// The command model: every command is declared once, in its family's file,
// as a CommandDef (name, arity, flags, ACL categories, key specs, docs,
// handler), and the command table turns the declarations into Commands.
// Dispatch, the ACL, COMMAND (INFO, DOCS, GETKEYS, LIST) and INFO
// commandstats all read the same Command objects.
//
// The handler's type is a parameter, so that this model knows nothing of
// what handlers run on (commands/context.ts says that).

import { CMD_MOVABLE_KEYS, withImpliedCategories } from './flags.js';
import { hasVariableFlags, keysBySpecs, legacyRange, type KeyRef, type KeySpec } from './key-specs.js';

export interface CommandDocs {
  summary: string;
  since: string;
  group: string;
  complexity: string;
  /** Argument syntax as in the Redis docs, e.g. "key value [NX | XX]"; COMMAND DOCS derives arguments from it (doc-syntax.ts). */
  syntax?: string;
}

/** A command as its family declares it. */
export interface CommandDef<H> {
  /** Lower-case name; subcommands are named "parent|sub". */
  name: string;
  /** Positive: exact argc including the name; negative: at least -arity. */
  arity: number;
  /** CMD_* bits (flags.ts). */
  flags?: number;
  /** ACL_* categories besides those the flags imply. */
  acl?: number;
  keySpecs?: KeySpec[];
  /**
   * The keys and their flags worked out from the arguments, where the flags
   * depend on them (Redis's getkeys_proc; the spec says KS_VARIABLE_FLAGS).
   */
  getKeys?: (argv: readonly Buffer[]) => KeyRef[];
  /** Command tips shown by COMMAND INFO (e.g. 'nondeterministic_output'). */
  tips?: string[];
  /**
   * Cluster mode: the keys may hash to different slots; the command runs
   * when this node owns all of them and is redirected on the first it does
   * not (KV.PREFIX, KV.PIN, KV.MSLICE: a prompt's chunk keys spread over the
   * cluster, and a client asks each node for its own).
   */
  slotsOfThisNode?: boolean;
  docs: CommandDocs;
  handler?: H;
  subcommands?: CommandDef<H>[];
}

/** Per-command counters for INFO commandstats and LATENCY HISTOGRAM. */
export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  /** Calls by latency bucket (monitor/latency-histogram.ts), made on the command's first call. */
  hist: Float64Array | null;
}

/** A command of the table: the declaration with what follows from it. */
export interface Command<H> {
  readonly name: string;
  readonly arity: number;
  /** CMD_* bits, CMD_MOVABLE_KEYS derived from the key specs. */
  readonly flags: number;
  /** Every ACL category, declared and implied. */
  readonly categories: number;
  readonly keySpecs: readonly KeySpec[];
  readonly getKeys: ((argv: readonly Buffer[]) => KeyRef[]) | null;
  /** COMMAND INFO's first key, last key, step. */
  readonly legacyRange: readonly [number, number, number];
  readonly tips: readonly string[];
  /** See CommandDef. */
  readonly slotsOfThisNode: boolean;
  readonly docs: CommandDocs;
  readonly handler: H | null;
  readonly subcommands: readonly Command<H>[];
  readonly parent: Command<H> | null;
  /** Position in the table, parents before their subcommands: the ACL's bit for the command. */
  readonly id: number;
  stats: CommandStats;
}

export function freshStats(): CommandStats {
  return { calls: 0, usec: 0, rejected: 0, failed: 0, hist: null };
}

/**
 * Name -> command lookup that works on the request's Buffer without building a
 * string: a case-insensitive hash of the bytes picks a short bucket.
 */
export class CommandTable<H> {
  private readonly buckets = new Map<number, Command<H>[]>();
  private readonly byName = new Map<string, Command<H>>();
  /** Top-level commands, in declaration order. */
  readonly all: Command<H>[] = [];
  /** Every command and subcommand by id. */
  readonly byId: Command<H>[] = [];

  add(def: CommandDef<H>): void {
    if (this.byName.has(def.name)) throw new Error(`duplicate command ${def.name}`);
    const cmd = this.build(def, null);
    this.byName.set(cmd.name, cmd);
    this.all.push(cmd);
    const h = hashLower(Buffer.from(cmd.name));
    const b = this.buckets.get(h);
    if (b) b.push(cmd);
    else this.buckets.set(h, [cmd]);
  }

  private build(def: CommandDef<H>, parent: Command<H> | null): Command<H> {
    const specs = def.keySpecs ?? [];
    const { range, movable } = legacyRange(specs);
    const flags = (def.flags ?? 0) | (movable ? CMD_MOVABLE_KEYS : 0);
    const subcommands: Command<H>[] = [];
    const cmd: Command<H> = {
      name: def.name,
      arity: def.arity,
      flags,
      categories: withImpliedCategories(flags, def.acl ?? 0),
      keySpecs: specs,
      getKeys: def.getKeys ?? null,
      legacyRange: range,
      tips: def.tips ?? [],
      slotsOfThisNode: def.slotsOfThisNode ?? false,
      docs: def.docs,
      handler: def.handler ?? null,
      subcommands,
      parent,
      id: this.byId.length,
      stats: freshStats(),
    };
    this.byId.push(cmd);
    for (const sub of def.subcommands ?? []) subcommands.push(this.build(sub, cmd));
    return cmd;
  }

  /** The command named by argv[0]'s bytes, any case. */
  lookup(name: Buffer): Command<H> | undefined {
    const b = this.buckets.get(hashLower(name));
    if (b === undefined) return undefined;
    for (let i = 0; i < b.length; i++) if (equalsLower(name, b[i].name)) return b[i];
    return undefined;
  }

  /** The command argv names: its subcommand when it has subcommands and argv[1] names one. Null for an unknown command. */
  lookupArgv(argv: readonly Buffer[]): Command<H> | undefined {
    const cmd = this.lookup(argv[0]);
    if (cmd === undefined || cmd.subcommands.length === 0 || argv.length < 2) return cmd;
    return subcommandOf(cmd, argv[1]);
  }

  /** Lookup by name (any case): "get", or "config|get" for a subcommand (COMMAND INFO, ACL rules, LATENCY HISTOGRAM). */
  get(fullName: string): Command<H> | undefined {
    const lower = fullName.toLowerCase();
    const bar = lower.indexOf('|');
    if (bar < 0) return this.byName.get(lower);
    if (lower.indexOf('|', bar + 1) >= 0) return undefined;
    const parent = this.byName.get(lower.slice(0, bar));
    return parent === undefined ? undefined : subcommandOf(parent, Buffer.from(lower.slice(bar + 1), 'latin1'));
  }

  /** Every command and subcommand, parents first (INFO commandstats, metrics). */
  *everyCommand(): IterableIterator<Command<H>> {
    yield* this.byId;
  }
}

/** The subcommand of `parent` named by the bytes of `name`, any case. */
export function subcommandOf<H>(parent: Command<H>, name: Buffer): Command<H> | undefined {
  const subs = parent.subcommands;
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

/** Case-insensitive compare of all of `b` with the lower-case `s` from `offset` (a command name: binary-exact length). */
function equalsLower(b: Buffer, s: string, offset = 0): boolean {
  if (b.length !== s.length - offset) return false;
  for (let i = 0; i < b.length; i++) {
    let c = b[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== s.charCodeAt(i + offset)) return false;
  }
  return true;
}

/**
 * The keys of a command line and how it uses each (Redis's
 * getKeysFromCommandWithSpecs): from the key specs, or from the command's
 * own finder where the flags depend on the arguments (or the specs cannot
 * be applied to them). Empty when it names none.
 */
export function commandKeys<H>(cmd: Command<H>, argv: readonly Buffer[]): KeyRef[] {
  if (cmd.getKeys !== null && hasVariableFlags(cmd.keySpecs)) return cmd.getKeys(argv);
  const out: KeyRef[] = [];
  if (!keysBySpecs(cmd.keySpecs, argv, out) && cmd.getKeys !== null) return cmd.getKeys(argv);
  return out;
}
