// HELP replies in Redis's shape (addReplyHelp): a header line, then each
// subcommand and its description, then HELP itself.

import type { CommandContext } from './context.js';

export function replyHelp(c: CommandContext, command: string, lines: string[]): void {
  const all = [
    `${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ];
  c.addArrayLen(all.length);
  for (const l of all) c.addStatus(l);
}
