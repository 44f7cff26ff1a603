// A selector: one set of permissions (commands, key patterns, channel
// patterns). Every user has a root selector; "(...)" rules add more, and a
// command is allowed when any selector allows it. The rules and their
// quirks are Redis 7.0's ACLSetSelector.

import { matchBytes } from '../util/glob.js';
import { categoryBit } from '../commands/model/flags.js';
import type { AclCommandIndex } from './command-index.js';
import { hasSpaces, RuleError } from './rules.js';

/** Key pattern permissions: %R~, %W~; ~ is both. */
export const KEY_READ = 1;
export const KEY_WRITE = 2;
export const KEY_ALL = KEY_READ | KEY_WRITE;

export interface KeyPattern {
  /** The pattern's bytes as a latin1 string (for descriptions) and as bytes (for matching). */
  text: string;
  bytes: Buffer;
  flags: number;
}

export class Selector {
  allKeys = false;
  allChannels = false;
  /** Every command allowed: set by +@all, cleared as soon as one bit is cleared. The fast path of checks. */
  allCommands = false;
  /** One byte per command id, plus a last one that only +@all sets: the rules allow commands added later. */
  readonly allowed: Uint8Array;
  /** Allowed first arguments of otherwise denied commands ("+select|0"), by command id. */
  firstArgs: Map<number, string[]> | null = null;
  patterns: KeyPattern[] = [];
  channels: string[] = [];

  constructor(readonly index: AclCommandIndex) {
    this.allowed = new Uint8Array(index.size + 1);
  }

  copy(): Selector {
    const s = new Selector(this.index);
    s.allKeys = this.allKeys;
    s.allChannels = this.allChannels;
    s.allCommands = this.allCommands;
    s.allowed.set(this.allowed);
    if (this.firstArgs) s.firstArgs = new Map([...this.firstArgs].map(([id, a]) => [id, [...a]]));
    s.patterns = this.patterns.map((p) => ({ ...p }));
    s.channels = [...this.channels];
    return s;
  }

  /** Whether "+@all" (or allcommands) is in effect, which lets future commands run too. */
  get futureCommands(): boolean {
    return this.allowed[this.index.size] === 1;
  }

  private setBit(id: number, on: boolean): void {
    this.allowed[id] = on ? 1 : 0;
    if (!on) this.allCommands = false;
  }

  /** Allows or denies a command, and with a container command all its subcommands (ACLChangeSelectorPerm). */
  changePerm(id: number, on: boolean): void {
    this.setBit(id, on);
    this.firstArgs?.delete(id);
    for (const sub of this.index.subs[id]) this.setBit(sub, on);
  }

  /** +@cat / -@cat: every command of the category, in table order, parents before their subcommands. */
  setCategory(mask: number, on: boolean): void {
    const { index } = this;
    for (const id of index.topLevel) {
      if (index.categories(id) & mask) this.changePerm(id, on);
      for (const sub of index.subs[id]) if (index.categories(sub) & mask) this.changePerm(sub, on);
    }
  }

  private setAll(on: boolean): void {
    this.allowed.fill(on ? 1 : 0);
    this.allCommands = on;
    this.firstArgs = null;
  }

  private addFirstArg(id: number, arg: string): void {
    if (!this.firstArgs) this.firstArgs = new Map();
    const list = this.firstArgs.get(id) ?? [];
    if (!list.some((a) => a.toLowerCase() === arg.toLowerCase())) list.push(arg);
    this.firstArgs.set(id, list);
  }

  /** Applies one selector rule; the error it fails with, or null. */
  apply(op: string): RuleError | null {
    const lower = op.toLowerCase();
    if (lower === 'allkeys' || lower === '~*') {
      this.allKeys = true;
      this.patterns = [];
    } else if (lower === 'resetkeys') {
      this.allKeys = false;
      this.patterns = [];
    } else if (lower === 'allchannels' || lower === '&*') {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === 'resetchannels') {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === 'allcommands' || lower === '+@all') {
      this.setAll(true);
    } else if (lower === 'nocommands' || lower === '-@all') {
      this.setAll(false);
    } else if (op[0] === '~' || op[0] === '%') {
      return this.addKeyPattern(op);
    } else if (op[0] === '&') {
      if (this.allChannels) return RuleError.AfterAllChannels;
      const pat = op.slice(1);
      if (hasSpaces(pat)) return RuleError.Syntax;
      if (!this.channels.includes(pat)) this.channels.push(pat);
      this.allChannels = false;
    } else if (op[0] === '+' && op[1] !== '@') {
      return this.allowCommand(op.slice(1));
    } else if (op[0] === '-' && op[1] !== '@') {
      const id = this.index.lookup(op.slice(1));
      if (id < 0) return RuleError.NoEntry;
      this.changePerm(id, false);
    } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
      const mask = categoryBit(op.slice(2));
      if (mask === 0) return RuleError.NoEntry;
      this.setCategory(mask, op[0] === '+');
    } else {
      return RuleError.Syntax;
    }
    return null;
  }

  /** "~pattern", "%R~pattern", "%W~pattern", "%RW~pattern". */
  private addKeyPattern(op: string): RuleError | null {
    if (this.allKeys) return RuleError.AfterAllKeys;
    let flags = 0;
    let offset = 1;
    if (op[0] === '%') {
      for (; offset < op.length; offset++) {
        const ch = op[offset].toUpperCase();
        if (ch === 'R' && !(flags & KEY_READ)) flags |= KEY_READ;
        else if (ch === 'W' && !(flags & KEY_WRITE)) flags |= KEY_WRITE;
        else if (op[offset] === '~') {
          offset++;
          break;
        } else return RuleError.Syntax;
      }
    } else {
      flags = KEY_ALL;
    }
    const text = op.slice(offset);
    if (hasSpaces(text)) return RuleError.Syntax;
    // "%" with no R or W would be a pattern that grants nothing (Redis panics describing it).
    if (flags === 0) return RuleError.Syntax;
    const same = this.patterns.find((p) => p.text === text);
    if (same) same.flags |= flags;
    else this.patterns.push({ text, bytes: Buffer.from(text, 'latin1'), flags });
    this.allKeys = false;
    return null;
  }

  /** "+cmd", "+cmd|sub", and "+cmd|first-arg" for a command without subcommands. */
  private allowCommand(name: string): RuleError | null {
    const bar = name.lastIndexOf('|');
    if (bar < 0) {
      const id = this.index.lookup(name);
      if (id < 0) return RuleError.NoEntry;
      this.changePerm(id, true);
      return null;
    }
    const base = name.slice(0, bar);
    const arg = name.slice(bar + 1);
    const id = this.index.lookup(base);
    if (id < 0) return RuleError.NoEntry;
    if (this.index.parent[id] !== -1) return RuleError.SubcommandFirstArg;
    if (arg === '') return RuleError.Syntax;
    if (this.index.subs[id].length > 0) {
      const sub = this.index.lookup(name);
      if (sub < 0) return RuleError.NoEntry;
      this.changePerm(sub, true);
    } else {
      this.addFirstArg(id, arg);
    }
    return null;
  }

  /** Whether the command with this id may run with these arguments (keys aside). */
  commandAllowed(id: number, argv: Buffer[]): boolean {
    if (this.allCommands || this.allowed[id] === 1) return true;
    const args = this.firstArgs?.get(id);
    if (!args || argv.length < 2) return false;
    const first = argv[this.index.parent[id] === -1 ? 1 : 2].toString('latin1').toLowerCase();
    return args.some((a) => a.toLowerCase() === first);
  }

  /** Whether the key may be used with the access `need` (KEY_READ/KEY_WRITE bits; 0: any pattern will do). */
  keyAllowed(key: Buffer, need: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.patterns) {
      if ((p.flags & need) !== need) continue;
      if (matchBytes(p.bytes, key)) return true;
    }
    return false;
  }

  /** The key patterns as rules ("~a:* %R~b"); "~*" for allkeys. */
  describeKeys(): string {
    if (this.allKeys) return '~*';
    return this.patterns.map(patternRule).join(' ');
  }

  /** The channel patterns as rules; "&*" for allchannels. */
  describeChannels(): string {
    if (this.allChannels) return '&*';
    return this.channels.map((c) => `&${c}`).join(' ');
  }
}

function patternRule(p: KeyPattern): string {
  const prefix = p.flags === KEY_ALL ? '~' : p.flags === KEY_READ ? '%R~' : '%W~';
  return prefix + p.text;
}
