// The ACL's view of the command table: every command and subcommand gets an
// id (its bit in a selector's bitmap), its categories as a bit mask, and the
// lookups the rule syntax needs ("get", "config|get"). Ids follow the table's
// order, which is also the order ACL CAT and the single-command part of a
// rule description list commands in (Redis uses its dict's order).

import { ACL_CATEGORIES } from '../commands/command.js';
import { aclCategories, CommandSpec, CommandTable } from '../commands/table.js';

export class AclCommandIndex {
  /** id -> spec; parents come before their subcommands. */
  readonly specs: CommandSpec[] = [];
  /** id -> categories, bit i for ACL_CATEGORIES[i]. */
  readonly categories: number[] = [];
  /** id -> ids of its subcommands (empty for most). */
  readonly subs: number[][] = [];
  /** id -> id of the parent, -1 for a top-level command. */
  readonly parent: number[] = [];
  /** Top-level commands' ids, in table order. */
  readonly topLevel: number[] = [];
  /** Full name ("get", "config|get") -> id. Names, not spec objects: any table built from the same families agrees. */
  private readonly byName = new Map<string, number>();

  constructor(table: CommandTable) {
    for (const spec of table.all) {
      const id = this.add(spec, -1);
      this.topLevel.push(id);
      for (const sub of spec.subcommands ?? []) this.subs[id].push(this.add(sub, id));
    }
  }

  private add(spec: CommandSpec, parent: number): number {
    const id = this.specs.length;
    this.specs.push(spec);
    let mask = 0;
    for (const cat of aclCategories(spec)) {
      const bit = ACL_CATEGORIES.indexOf(cat);
      if (bit >= 0) mask |= 1 << bit;
    }
    this.categories.push(mask);
    this.subs.push([]);
    this.parent.push(parent);
    this.byName.set(spec.name, id);
    return id;
  }

  /** Number of ids; a selector's bitmap has one more bit, for "future commands" (+@all). */
  get size(): number { return this.specs.length; }

  /** The id of a command being run, -1 when the table it came from has no such name. */
  idOf(spec: CommandSpec): number {
    return this.byName.get(spec.name) ?? -1;
  }

  /**
   * Redis's lookupCommandBySdsLogic: "name" or "name|sub" (one level), any
   * case; "name|x" where name has no subcommands is no command at all.
   */
  lookup(fullName: string): number {
    const parts = fullName.toLowerCase().split('|');
    if (parts.length > 2) return -1;
    const base = this.byName.get(parts[0]);
    if (base === undefined || this.parent[base] !== -1) return -1;
    if (parts.length === 1) return base;
    if (this.subs[base].length === 0) return -1;
    return this.byName.get(`${parts[0]}|${parts[1]}`) ?? -1;
  }

  /** A category's bit mask by name (any case), 0 when unknown. */
  static categoryMask(name: string): number {
    const i = ACL_CATEGORIES.indexOf(name.toLowerCase());
    return i < 0 ? 0 : 1 << i;
  }
}
