// The rule grammar's shared pieces: the error a rule can fail with (Redis
// reports them through errno; the texts are ACLSetUserStringError's), the
// merging of a selector "(...)" spread over several arguments, and the
// character rule for user names and patterns.

export const enum RuleError {
  /** Unknown command or category. */
  NoEntry = 1,
  Syntax,
  /** A key pattern after allkeys. */
  AfterAllKeys,
  /** A channel pattern after allchannels. */
  AfterAllChannels,
  NoSuchPassword,
  BadHash,
  DuplicateUser,
  /** "+cmd|sub|arg": first-args of a subcommand. */
  SubcommandFirstArg,
}

export function ruleErrorText(e: RuleError): string {
  switch (e) {
    case RuleError.NoEntry: return 'Unknown command or category name in ACL';
    case RuleError.Syntax: return 'Syntax error';
    case RuleError.AfterAllKeys:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RuleError.AfterAllChannels:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    case RuleError.NoSuchPassword: return 'The password you are trying to remove from the user does not exist';
    case RuleError.BadHash: return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
    case RuleError.DuplicateUser: return 'Duplicate user found. A user can only be defined once in config files';
    case RuleError.SubcommandFirstArg: return 'Allowing first-arg of a subcommand is not supported';
    default: return 'Wrong format';
  }
}

/** C's isspace() or a NUL: not allowed in user names and patterns. */
export function hasSpaces(s: string): boolean {
  return /[\t\n\v\f\r \0]/.test(s);
}

/**
 * Joins a selector written over several arguments ("(+get", "~k)") into one
 * rule, as ACLMergeSelectorArguments does. On an unclosed "(" returns the
 * index of the argument that opened it.
 */
export function mergeSelectorArgs(args: string[]): { rules: string[] } | { unmatchedAt: number } {
  const rules: string[] = [];
  let open = -1;
  let selector = '';
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (op.startsWith('(') && !op.endsWith(')')) {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += ` ${op}`;
      if (op.endsWith(')')) {
        open = -1;
        rules.push(selector);
      }
      continue;
    }
    rules.push(op);
  }
  if (open !== -1) return { unmatchedAt: open };
  return { rules };
}
