// Rules back from permissions, as ACL LIST, ACL GETUSER and ACL SAVE show
// them. The command part is Redis 7.0's ACLDescribeSelectorCommandRules: it
// keeps only the bitmap, so it starts from +@all or -@all, picks categories
// greedily (most commands in common, fewest differences), then fixes single
// commands one by one; replaying the text gives the same bitmap.

import { ACL_CATEGORY_NAMES } from '../commands/model/flags.js';
import { Selector } from './selector.js';

/** The command rules of a selector: "+@all", "-@all +@read -get", ... */
export function describeCommandRules(sel: Selector): string {
  const index = sel.index;
  const additive = !sel.futureCommands;
  const rules: string[] = [additive ? '-@all' : '+@all'];
  // The rules emitted so far, applied: what is left to fix is where it differs from `sel`.
  const fake = new Selector(index);
  fake.apply(additive ? '-@all' : '+@all');
  // The categories not yet accounted for: each chosen one is taken out of it.
  const temp = new Selector(index);
  temp.allowed.set(sel.allowed);
  const applied = new Array<boolean>(ACL_CATEGORY_NAMES.length).fill(false);
  for (;;) {
    let best = -1;
    let minDiff = Infinity;
    let maxSame = 0;
    for (let j = 0; j < ACL_CATEGORY_NAMES.length; j++) {
      if (applied[j]) continue;
      const [on, off] = countCategory(temp, 1 << j);
      const diff = additive ? off : on;
      const same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = j;
        minDiff = diff;
        maxSame = same;
      }
    }
    if (best === -1) break;
    fake.setCategory(1 << best, additive);
    temp.setCategory(1 << best, !additive);
    rules.push(`${additive ? '+' : '-'}@${ACL_CATEGORY_NAMES[best]}`);
    applied[best] = true;
  }
  for (const id of index.topLevel) {
    fixSingle(sel, fake, id, rules);
    for (const sub of index.subs[id]) fixSingle(sel, fake, sub, rules);
    const args = sel.allowed[id] === 0 ? sel.firstArgs?.get(id) : undefined;
    for (const a of args ?? []) rules.push(`+${index.specs[id].name}|${a}`);
  }
  return rules.join(' ');
}

/** Commands of the category the selector allows (on) and denies (off), subcommands included. */
function countCategory(sel: Selector, mask: number): [number, number] {
  const { index } = sel;
  let on = 0;
  let off = 0;
  for (let id = 0; id < index.size; id++) {
    if ((index.categories(id) & mask) === 0) continue;
    if (sel.allowed[id] === 1) on++;
    else off++;
  }
  return [on, off];
}

function fixSingle(sel: Selector, fake: Selector, id: number, rules: string[]): void {
  const want = sel.allowed[id] === 1;
  if (want === (fake.allowed[id] === 1)) return;
  rules.push(`${want ? '+' : '-'}${sel.index.specs[id].name}`);
  fake.changePerm(id, want);
}

/** A selector's keys, channels and commands as one rule string ("~* &* +@all"). */
export function describeSelector(sel: Selector): string {
  const parts: string[] = [];
  if (sel.allKeys) parts.push('~*');
  else parts.push(...sel.describeKeys().split(' ').filter(Boolean));
  if (sel.allChannels) parts.push('&*');
  else parts.push('resetchannels', ...sel.describeChannels().split(' ').filter(Boolean));
  parts.push(describeCommandRules(sel));
  return parts.join(' ');
}
