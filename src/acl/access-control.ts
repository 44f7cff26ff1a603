// The users of one server: the default user (every new connection starts as
// it), the others by name, authentication, the ACL log, and loading and
// saving the ACL file. The rules follow Redis 7.0's acl.c; `requirepass` is
// the default user's password, as there.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../util/durable-file.js';
import type { Config } from '../config/configuration.js';
import type { AclCommandIndex } from './command-index.js';
import { AclLog, type LogContext, type LogReason } from './acl-log.js';
import { passwordMatches } from './password.js';
import { hasSpaces, mergeSelectorArgs, RuleError, ruleErrorText } from './rules.js';
import { AclUser } from './user.js';

/** A connection as the ACL sees it (the server's client connections are). */
export interface AclSession {
  user: AclUser;
  authenticated: boolean;
  /** The command being run, for the log's client info. */
  lastCommand: string;
  /** The commands queued by MULTI, null outside a transaction. */
  readonly multi: readonly unknown[] | null;
  /** Close once the current reply is written. */
  closing: boolean;
  /** The CLIENT INFO line. */
  describe(): string;
  /** Close at once. */
  close(): void;
}

/** What the ACL needs of the server that uses it: its connections, and its log. */
export interface AclHost {
  sessions(): Iterable<AclSession>;
  log(level: string, msg: string): void;
}

export class Acl {
  /** Every user, the default one included. */
  private users = new Map<string, AclUser>();
  /** The same object for the server's whole life: ACL LOAD copies new rules into it. */
  readonly defaultUser: AclUser;
  readonly log = new AclLog();
  private host: AclHost | null = null;

  constructor(readonly index: AclCommandIndex, readonly config: Config) {
    this.defaultUser = this.createDefaultUser();
    this.users.set('default', this.defaultUser);
    this.setDefaultPassword(config.str('requirepass'));
    config.onChange((name, value) => {
      if (name === 'requirepass') this.setDefaultPassword(String(value));
    });
    // CONFIG REWRITE keeps the users as `user` lines, unless they live in the ACL file.
    config.rewriteUsers = () => (this.fileName !== '' ? null
      : this.allUsers().map((u) => Buffer.from(`user ${u.name} ${u.describe()}`, 'latin1').toString('utf8')));
  }

  /** "user default on nopass ~* &* +@all". */
  private createDefaultUser(): AclUser {
    const u = new AclUser('default', this.index);
    for (const op of ['+@all', '~*', '&*', 'on', 'nopass']) u.apply(op);
    u.refresh();
    return u;
  }

  /** The server whose connections are closed when their user goes away, and whose log tells of ACL SAVE failures. */
  attach(host: AclHost): void {
    this.host = host;
  }

  /** requirepass: the default user's only password, or nopass when empty (ACLUpdateDefaultUserPassword). */
  setDefaultPassword(password: string): void {
    const u = this.defaultUser;
    u.apply('resetpass');
    u.apply(password === '' ? 'nopass' : `>${password}`);
    u.refresh();
  }

  getUser(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** Users in byte order of their names, as Redis's radix tree lists them. */
  allUsers(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Whether a connection not yet authenticated must AUTH first (Redis's authRequired). */
  authRequired(): boolean {
    const d = this.defaultUser;
    return !d.nopass || !d.enabled;
  }

  /** A new connection (or RESET): the default user, authenticated when it needs no password. */
  resetSession(c: AclSession): void {
    c.user = this.defaultUser;
    c.authenticated = !this.authRequired();
  }

  /**
   * ACL SETUSER: the rules are tried on a copy and applied all together, or
   * none of them. Returns the error text, or null.
   */
  setUser(name: string, rules: string[]): string | null {
    const existing = this.users.get(name);
    const staged = new AclUser(name, this.index);
    if (existing) staged.copyFrom(existing);
    for (const rule of rules) {
      const err = staged.apply(rule);
      if (err !== null) return `ERR Error in ACL SETUSER modifier '${rule}': ${ruleErrorText(err)}`;
    }
    const target = existing ?? new AclUser(name, this.index);
    target.copyFrom(staged);
    if (!existing) this.users.set(name, target);
    return null;
  }

  /** ACL DELUSER of one user; its connections are closed. */
  deleteUser(name: string, current: AclSession): boolean {
    const u = this.users.get(name);
    if (!u) return false;
    this.users.delete(name);
    this.disconnectUsersOf(new Set([u]), current);
    return true;
  }

  /**
   * Closes the connections authenticated as these users (ACLFreeUserAndKillClients):
   * the current one after its reply, the others at once.
   */
  private disconnectUsersOf(gone: Set<AclUser>, current: AclSession | null): void {
    if (!this.host) return;
    for (const c of [...this.host.sessions()]) {
      if (!gone.has(c.user)) continue;
      c.user = this.defaultUser;
      c.authenticated = false;
      if (c === current) c.closing = true;
      else c.close();
    }
  }

  /** The user `name` if `password` opens it (ACLCheckUserCredentials). */
  checkCredentials(name: string, password: string): AclUser | null {
    const u = this.users.get(name);
    if (!u || !u.enabled) return null;
    if (u.nopass) return u;
    return passwordMatches(u.passwords, password) ? u : null;
  }

  /** AUTH and HELLO AUTH: on success the connection becomes that user; a failure is logged. */
  authenticate(c: AclSession, name: Buffer, password: Buffer, commandName: Buffer): boolean {
    const user = this.checkCredentials(name.toString('latin1'), password.toString('latin1'));
    if (user) {
      c.user = user;
      c.authenticated = true;
      return true;
    }
    this.addLog(c, 'auth', c.multi ? 'multi' : 'toplevel', commandName.toString('latin1'), name.toString('latin1'));
    return false;
  }

  addLog(c: AclSession, reason: LogReason, context: LogContext, object: string, username = c.user.name): void {
    this.log.add({ reason, context, object, username, clientInfo: c.describe() }, Date.now(), this.config.int('acllog-max-len'));
  }

  /**
   * Users declared by `user` lines of the config (ACLLoadConfiguredUsers):
   * each line is [name, ...rules]. Returns the error that stops start-up, or null.
   */
  loadConfigured(lines: string[][]): string | null {
    for (const [name, ...rules] of lines) {
      if (hasSpaces(name)) return 'Spaces not allowed in ACL usernames';
      let u = this.users.get(name);
      if (u) {
        u.apply('reset');
      } else {
        u = new AclUser(name, this.index);
        this.users.set(name, u);
      }
      for (const rule of rules) {
        const err = u.apply(rule);
        if (err !== null) {
          u.refresh();
          return `Error loading ACL rule '${rule}' for the user named '${name}': ${ruleErrorText(err)}`;
        }
      }
      u.refresh();
    }
    return null;
  }

  /** The aclfile directive as given (error messages quote it so), '' when unset. */
  get fileName(): string {
    return this.config.str('aclfile');
  }

  /** Where the ACL file is: relative to `dir`, as Redis (which chdirs there) resolves it. */
  private filePath(): string {
    return resolve(this.config.str('dir'), this.fileName);
  }

  /**
   * ACL LOAD (and start-up with aclfile): every line is checked first; on any
   * error nothing changes and the errors come back in one line. On success the
   * users are replaced and connections of the old users (other than the
   * default one) are closed.
   */
  loadFile(current: AclSession | null): string | null {
    const file = this.fileName;
    let text: string;
    try {
      text = readFileSync(this.filePath(), 'latin1');
    } catch (e) {
      return `Error loading ACLs, opening file '${file}': ${errnoText(e as NodeJS.ErrnoException)}`;
    }
    const users = new Map<string, AclUser>();
    let errors = '';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1;
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '') continue;
      // Split on single spaces (not quote-aware), as Redis's sdssplitlen.
      const argv = line.split(' ');
      if (argv[0] !== 'user' || argv.length < 2) {
        errors += `${file}:${n} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1];
      if (hasSpaces(name)) {
        errors += `'${file}:${n}: username '${name}' contains invalid characters. `;
        continue;
      }
      if (users.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${n}. `;
        continue;
      }
      const u = new AclUser(name, this.index);
      users.set(name, u);
      const merged = mergeSelectorArgs(argv.slice(2));
      if ('unmatchedAt' in merged) {
        errors += `${file}:${n}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      let syntaxReported = false;
      for (const raw of merged.rules) {
        const op = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, '');
        const err = u.apply(op);
        if (err === null) continue;
        if (err === RuleError.NoEntry) {
          errors += `${file}:${n}: Error in applying operation '${op}': ${ruleErrorText(err)}. `;
        } else if (!syntaxReported) {
          errors += `${file}:${n}: ${ruleErrorText(err)}. `;
          syntaxReported = true;
        }
      }
      u.refresh();
    }
    if (errors !== '') return `${errors}WARNING: ACL errors detected, no change to the previously active ACL rules was performed`;
    const old = this.users;
    this.defaultUser.copyFrom(users.get('default') ?? this.createDefaultUser());
    users.set('default', this.defaultUser);
    this.users = users;
    old.delete('default');
    this.disconnectUsersOf(new Set(old.values()), current);
    return null;
  }

  /** ACL SAVE: every user as a "user" line, written to a temporary file renamed over the ACL file. */
  saveFile(): boolean {
    const text = this.allUsers().map((u) => `user ${u.name} ${u.describe()}\n`).join('');
    const path = this.filePath();
    try {
      writeFileAtomic(path, Buffer.from(text, 'latin1'));
      return true;
    } catch (e) {
      this.host?.log('warning', `Writing ACL file for ACL SAVE: ${(e as Error).message}`);
      return false;
    }
  }
}

/** strerror()'s text for the usual errno codes. */
function errnoText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'EISDIR': return 'Is a directory';
    default: return e.message;
  }
}
