// The ACL's view of the command table: every command and subcommand has an
// id (its bit in a selector's bitmap: the table's order, parents before
// their subcommands), its categories as a bit mask, and the lookups the rule
// syntax needs ("get", "config|get"). The table's order is also the order
// ACL CAT and the single-command part of a rule description list commands
// in (Redis uses its dict's order).

import type { Command, CommandTable } from '../commands/model/command-table.js';

export class AclCommandIndex {
  /** id -> command; parents come before their subcommands. */
  readonly specs: readonly Command<unknown>[];
  /** id -> ids of its subcommands (empty for most). */
  readonly subs: number[][] = [];
  /** id -> id of the parent, -1 for a top-level command. */
  readonly parent: number[] = [];
  /** Top-level commands' ids, in table order. */
  readonly topLevel: number[];

  constructor(private readonly table: CommandTable<unknown>) {
    this.specs = table.byId;
    for (const cmd of table.byId) {
      this.subs.push(cmd.subcommands.map((s) => s.id));
      this.parent.push(cmd.parent === null ? -1 : cmd.parent.id);
    }
    this.topLevel = table.all.map((c) => c.id);
  }

  /** Number of ids; a selector's bitmap has one more bit, for "future commands" (+@all). */
  get size(): number { return this.specs.length; }

  /** id -> its categories, bit i for ACL_CATEGORY_NAMES[i]. */
  categories(id: number): number {
    return this.specs[id].categories;
  }

  /**
   * Redis's lookupCommandBySdsLogic: "name" or "name|sub" (one level), any
   * case; "name|x" where name has no subcommands is no command at all. -1
   * when there is no such command.
   */
  lookup(fullName: string): number {
    return this.table.get(fullName)?.id ?? -1;
  }
}
