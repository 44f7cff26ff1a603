// ACL users at start-up, checked while the configuration is read so that a
// bad `user` line, a bad ACL file, or both used at once stop the server with
// a config error, as Redis stops. src/main.ts builds the command table once,
// hands checkUserLine to the config reader and setupAcl the result.

import type { Config } from '../config/configuration.js';
import { Acl } from './access-control.js';
import type { AclCommandIndex } from './command-index.js';
import { mergeSelectorArgs, RuleError, ruleErrorText } from './rules.js';
import { AclUser } from './user.js';

/**
 * One `user <name> <rule>...` line as it is read (Redis's
 * ACLAppendUserForLoading): a repeated name or a rule that cannot apply is an
 * error; an unknown command is only found once all lines are read. Returns
 * the user as [name, ...rules] or the reason to stop.
 */
export function checkUserLine(index: AclCommandIndex, line: string[], earlier: string[][]): { user: string[] } | { error: string } {
  // Redis quotes line[j] with j counted among the rules, not the line: kept, users compare texts.
  const fail = (j: number, e: RuleError) => ({ error: `Error in user declaration '${line[j]}': ${ruleErrorText(e)}` });
  const name = line[1];
  if (earlier.some((u) => u[0] === name)) return fail(1, RuleError.DuplicateUser);
  const merged = mergeSelectorArgs(line.slice(2));
  if ('unmatchedAt' in merged) return fail(merged.unmatchedAt, RuleError.Syntax);
  const probe = new AclUser(name, index);
  for (let j = 0; j < merged.rules.length; j++) {
    const err = probe.apply(merged.rules[j]);
    if (err !== null && err !== RuleError.NoEntry) return fail(j, err);
  }
  return { user: [name, ...merged.rules] };
}

/**
 * Once the configuration is read: the ACL with the users of `user` lines or
 * of the ACL file (never both), or the reason start-up must stop.
 */
export function setupAcl(index: AclCommandIndex, config: Config): Acl | { error: string } {
  const users = config.users;
  const file = config.str('aclfile');
  if (users.length > 0 && file !== '') {
    return {
      error: 'Configuring kvslab with users defined in the config file and at the same time an ACL file path is invalid. '
        + 'This setup is very likely to lead to configuration errors and security holes, please define either an ACL file '
        + 'or declare users directly in the config file, but not both.',
    };
  }
  const acl = new Acl(index, config);
  const configured = acl.loadConfigured(users);
  if (configured !== null) return { error: `${configured}\nCritical error while loading ACLs. Exiting.` };
  if (file !== '') {
    const errors = acl.loadFile(null);
    if (errors !== null) return { error: `Aborting kvslab startup because of ACL errors: ${errors}` };
  }
  return acl;
}
