// An ACL user: flags (on/off, nopass, payload sanitizing), password digests,
// and selectors (the root one first). Rules are applied one at a time as
// Redis 7.0's ACLSetUser does; a connection authenticated as a user keeps a
// reference to it, so changes apply to it at once.

import type { AclCommandIndex } from './command-index.js';
import { describeSelector } from './describe.js';
import { hashPassword, validHash } from './password.js';
import { RuleError } from './rules.js';
import { Selector } from './selector.js';

const ON = 1;
const OFF = 2;
const NOPASS = 4;
const SKIP_SANITIZE = 8;
const SANITIZE = 16;

/** Flag names in the order ACL LIST and ACL GETUSER show them. */
const FLAG_NAMES: [number, string][] = [
  [ON, 'on'], [OFF, 'off'], [NOPASS, 'nopass'], [SKIP_SANITIZE, 'skip-sanitize-payload'], [SANITIZE, 'sanitize-payload'],
];

export class AclUser {
  /** A new user is off, has no password, no keys, no commands. */
  private flags = OFF;
  passwords: string[] = [];
  selectors: Selector[];
  /**
   * Every command on every key is allowed (the default user): dispatch then
   * skips the ACL check entirely. Kept up to date after each change.
   */
  unrestricted = false;

  constructor(readonly name: string, readonly index: AclCommandIndex) {
    this.selectors = [new Selector(index)];
  }

  get root(): Selector { return this.selectors[0]; }
  get enabled(): boolean { return (this.flags & OFF) === 0; }
  get nopass(): boolean { return (this.flags & NOPASS) !== 0; }

  /** Recomputes `unrestricted`; call after changing rules. */
  refresh(): void {
    this.unrestricted = this.root.allCommands && this.root.allKeys;
  }

  /** Takes the rules of `other` (ACLCopyUser): the name stays. */
  copyFrom(other: AclUser): void {
    this.flags = other.flags;
    this.passwords = [...other.passwords];
    this.selectors = other.selectors.map((s) => s.copy());
    this.refresh();
  }

  /** Applies one rule; the error it fails with, or null. Call refresh() when done. */
  apply(op: string): RuleError | null {
    if (op === '') return null;
    const lower = op.toLowerCase();
    if (lower === 'on') {
      this.flags = (this.flags | ON) & ~OFF;
    } else if (lower === 'off') {
      this.flags = (this.flags | OFF) & ~ON;
    } else if (lower === 'skip-sanitize-payload') {
      this.flags = (this.flags | SKIP_SANITIZE) & ~SANITIZE;
    } else if (lower === 'sanitize-payload') {
      this.flags = (this.flags | SANITIZE) & ~SKIP_SANITIZE;
    } else if (lower === 'nopass') {
      this.flags |= NOPASS;
      this.passwords = [];
    } else if (lower === 'resetpass') {
      this.flags &= ~NOPASS;
      this.passwords = [];
    } else if (op[0] === '>' || op[0] === '#') {
      let hash: string;
      if (op[0] === '>') {
        hash = hashPassword(op.slice(1));
      } else {
        hash = op.slice(1);
        if (!validHash(hash)) return RuleError.BadHash;
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.flags &= ~NOPASS;
    } else if (op[0] === '<' || op[0] === '!') {
      let hash: string;
      if (op[0] === '<') {
        hash = hashPassword(op.slice(1));
      } else {
        hash = op.slice(1);
        if (!validHash(hash)) return RuleError.BadHash;
      }
      const i = this.passwords.indexOf(hash);
      if (i < 0) return RuleError.NoSuchPassword;
      this.passwords.splice(i, 1);
    } else if (op[0] === '(' && op.endsWith(')')) {
      const sel = new Selector(this.index);
      const inner = op.slice(1, -1).split(/\s+/).filter(Boolean);
      for (const rule of inner) {
        const err = sel.apply(rule);
        if (err !== null) return err;
      }
      this.selectors.push(sel);
    } else if (lower === 'clearselectors') {
      this.selectors = [this.root];
    } else if (lower === 'reset') {
      this.apply('resetpass');
      this.apply('resetkeys');
      this.apply('resetchannels');
      this.apply('off');
      this.apply('sanitize-payload');
      this.apply('clearselectors');
      this.apply('-@all');
    } else {
      return this.root.apply(op);
    }
    return null;
  }

  /** The user's rules in ACL LIST / ACL file form (without "user <name>"). */
  describe(): string {
    const parts: string[] = [];
    for (const [bit, name] of FLAG_NAMES) if (this.flags & bit) parts.push(name);
    for (const p of this.passwords) parts.push(`#${p}`);
    let out = [...parts, describeSelector(this.root)].join(' ');
    for (let i = 1; i < this.selectors.length; i++) out += ` (${describeSelector(this.selectors[i])})`;
    return out;
  }

  /** Flag names, for ACL GETUSER. */
  flagNames(): string[] {
    return FLAG_NAMES.filter(([bit]) => this.flags & bit).map(([, name]) => name);
  }
}
