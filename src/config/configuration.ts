// Runtime configuration: loading a redis.conf-style file plus command-line
// overrides, CONFIG GET/SET, and CONFIG REWRITE back into the file. `user`
// lines are kept as they are read (checked by the ACL through a callback, so
// that a bad one stops start-up at its line); the ACL is built from them once
// the whole configuration is read (src/main.ts).

import { readFileSync } from 'node:fs';
import { splitInlineArgs } from '../protocol/inline.js';
import { writeFileAtomic } from '../util/durable-file.js';
import { matchString } from '../util/glob.js';
import {
  ConfigValue, Directive, DIRECTIVES, findDirective, formatDirectiveValue, formatMemoryForFile, parseDirectiveValue,
} from './directives.js';

export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : reason);
  }

  /** The report printed before exiting, shaped like Redis's, naming the file and line. */
  report(): string {
    if (this.line === 0) return `\n*** FATAL CONFIG FILE ERROR (kvslab) ***\n${this.reason}`;
    return [
      '',
      '*** FATAL CONFIG FILE ERROR (kvslab) ***',
      this.file === 'command line'
        ? `Reading the command-line options, at line ${this.line}`
        : `Reading the configuration file ${this.file}, at line ${this.line}`,
      `>>> '${this.text}'`,
      this.reason,
    ].join('\n');
  }
}

export type ChangeListener = (name: string, value: ConfigValue) => void;

/**
 * Checks a `user <name> <rule>...` line as it is read, given the users read
 * before it: the user as [name, ...rules], or the reason start-up stops.
 */
export type UserLineCheck = (line: string[], earlier: string[][]) => { user: string[] } | { error: string };

/** Whether a CONFIG GET pattern has glob characters (otherwise it names one directive). */
function isGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

export class Config {
  private readonly values = new Map<string, ConfigValue>();
  /** Absolute path of the config file, '' when started without one. */
  file = '';
  private readonly listeners: ChangeListener[] = [];
  /** `user` lines (the ACL's users) as [name, ...rules], in order: the file's, then the command line's. */
  readonly users: string[][] = [];
  /** The users as `user` lines for CONFIG REWRITE, set by the server from the ACL; null from it: leave such lines alone (aclfile). */
  rewriteUsers: (() => string[] | null) | null = null;

  /** `checkUserLine` checks `user` lines as they are read; without it they are kept as they are. */
  constructor(private readonly checkUserLine: UserLineCheck = (line) => ({ user: line.slice(1) })) {
    for (const d of DIRECTIVES) this.values.set(d.name, d.default);
  }

  get(name: string): ConfigValue {
    return this.values.get(name) as ConfigValue;
  }
  int(name: string): number { return this.get(name) as number; }
  num(name: string): number { return this.get(name) as number; }
  str(name: string): string { return this.get(name) as string; }
  bool(name: string): boolean { return this.get(name) as boolean; }

  onChange(l: ChangeListener): void { this.listeners.push(l); }

  /** Sets a value without validation or listeners (start-up facts such as the absolute dir). */
  setInternal(name: string, value: ConfigValue): void {
    this.values.set(name, value);
  }

  /**
   * Loads config text (a file's contents followed by command-line directives,
   * as Redis does). Throws ConfigFileError on the first bad line.
   */
  load(text: string, source: string): void {
    const lines = text.split('\n');
    // `save` lines add up within one load, like Redis's: the first one replaces the default.
    let saveSeen = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '' || line.startsWith('#')) continue;
      const fail = (reason: string): never => { throw new ConfigFileError(source, i + 1, line, reason); };
      const buf = Buffer.from(line);
      const args = splitInlineArgs(buf, 0, buf.length);
      if (args === null) return fail('Unbalanced quotes in configuration line');
      const argv = args.map((a) => a.toString());
      if (argv.length === 0) continue;
      const name = argv[0].toLowerCase();
      if (name === 'include') {
        if (argv.length !== 2) fail('Bad directive or wrong number of arguments');
        let included = '';
        try {
          included = readFileSync(argv[1], 'utf8');
        } catch (e) {
          fail(`Fatal error, can't open config file '${argv[1]}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
        }
        this.load(included, argv[1]);
        continue;
      }
      if (name === 'user' && argv.length >= 2) {
        // Passwords and patterns are bytes: latin1 keeps them so.
        const checked = this.checkUserLine(args.map((a) => a.toString('latin1')), this.users);
        if ('error' in checked) fail(checked.error);
        else this.users.push(checked.user);
        continue;
      }
      const d = findDirective(name);
      if (!d) return fail('Bad directive or wrong number of arguments');
      if (d.multiArg ? argv.length < 2 : argv.length !== 2) fail('wrong number of arguments');
      try {
        // A quoted multi-word value ("900 1", as the command line passes it) is several arguments.
        const values = d.multiArg ? argv.slice(1).flatMap((a) => (a === '' ? [a] : a.split(/\s+/).filter(Boolean))) : argv.slice(1);
        let v = parseDirectiveValue(d, values, this.get(d.name));
        if (d.name === 'save') {
          if (saveSeen && v !== '' && this.str('save') !== '') v = `${this.str('save')} ${v}`;
          saveSeen = true;
        }
        this.values.set(d.name, v);
      } catch (e) {
        fail((e as Error).message);
      }
    }
  }

  loadFile(path: string, extra: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
      throw new ConfigFileError(path, 0, '', `Fatal error, can't open config file '${path}': ${why}`);
    }
    this.file = path;
    this.load(text, path);
    if (extra) this.load(extra, 'command line');
  }

  /**
   * CONFIG GET: pairs of name and value. A pattern without glob characters
   * names one directive and is echoed as spelled; globs match names and
   * aliases, case-insensitively. Each name appears once.
   */
  getMatching(patterns: string[]): [string, string][] {
    const out: [string, string][] = [];
    const seen = new Set<string>();
    const add = (name: string, d: Directive) => {
      const key = name.toLowerCase();
      if (seen.has(key)) return;
      seen.add(key);
      out.push([name, formatDirectiveValue(d, this.get(d.name))]);
    };
    for (const p of patterns) {
      if (!isGlob(p)) {
        const d = findDirective(p);
        if (d) add(p, d);
        continue;
      }
      for (const d of DIRECTIVES) {
        for (const n of [d.name, ...(d.alias ?? [])]) if (matchString(p, n)) add(n, d);
      }
    }
    return out;
  }

  /**
   * CONFIG SET with several pairs, in Redis's order: every name is checked
   * first (unknown, immutable, protected, duplicate: the first problem wins),
   * then every value is parsed, then all are applied; a failing listener rolls
   * every change back. Returns an error text or null.
   */
  setMany(pairs: [string, string][], allowProtected = false): string | null {
    const chosen: Directive[] = [];
    let problem: string | null = null;
    const failed = (name: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;
    for (const [name] of pairs) {
      const d = findDirective(name);
      if (!d) {
        if (problem === null) problem = `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
        continue;
      }
      if (problem !== null) continue;
      if (!d.mutable) problem = failed(name, "can't set immutable config");
      else if (d.protected && !allowProtected) problem = failed(name, "can't set protected config");
      else if (chosen.includes(d)) problem = failed(name, 'duplicate parameter');
      chosen.push(d);
    }
    if (problem !== null) return problem;

    const parsed: [Directive, ConfigValue][] = [];
    for (let i = 0; i < pairs.length; i++) {
      const d = chosen[i];
      const value = pairs[i][1];
      try {
        const args = d.multiArg ? value.split(/\s+/).filter(Boolean) : [value];
        parsed.push([d, parseDirectiveValue(d, args, this.get(d.name))]);
      } catch (e) {
        return failed(d.name, (e as Error).message);
      }
    }

    const old = parsed.map(([d]) => [d, this.get(d.name)] as const);
    let current: Directive = parsed[0][0];
    try {
      for (const [d, v] of parsed) {
        current = d;
        this.values.set(d.name, v);
        for (const l of this.listeners) l(d.name, v);
      }
    } catch (e) {
      for (const [d, v] of old) {
        this.values.set(d.name, v);
        for (const l of this.listeners) {
          try { l(d.name, v); } catch { /* restoring the old value */ }
        }
      }
      return failed(current.name, (e as Error).message);
    }
    return null;
  }

  /**
   * CONFIG REWRITE: keeps the file's comments and order, rewrites the lines of
   * directives to their current values, and appends the non-default ones the
   * file does not mention.
   */
  rewrite(): string | null {
    if (!this.file) return 'ERR The server is running without a config file';
    let lines: string[];
    try {
      lines = readFileSync(this.file, 'utf8').split('\n');
    } catch (e) {
      return `ERR Rewriting config file: ${(e as Error).message}`;
    }
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const written = new Set<string>();
    const out: string[] = [];
    // The current users replace the `user` lines, at the first one's place (as Redis rewrites them).
    const users = this.rewriteUsers?.() ?? null;
    let usersWritten = false;
    for (const raw of lines) {
      const t = raw.trim();
      const name = t.split(/\s+/)[0]?.toLowerCase() ?? '';
      if (users !== null && name === 'user') {
        if (!usersWritten) out.push(...users);
        usersWritten = true;
        continue;
      }
      const d = t && !t.startsWith('#') ? findDirective(name) : undefined;
      if (!d) {
        out.push(raw);
        continue;
      }
      if (written.has(d.name)) continue; // later duplicates are folded into the first
      written.add(d.name);
      out.push(this.renderLine(d));
    }
    const extra = DIRECTIVES.filter((d) => !written.has(d.name) && this.get(d.name) !== d.default);
    const extraUsers = users !== null && !usersWritten ? users : [];
    if (extra.length || extraUsers.length) {
      out.push('# Generated by CONFIG REWRITE');
      for (const d of extra) out.push(this.renderLine(d));
      out.push(...extraUsers);
    }
    try {
      writeFileAtomic(this.file, `${out.join('\n')}\n`);
    } catch (e) {
      return `ERR Rewriting config file: ${(e as Error).message}`;
    }
    return null;
  }

  private renderLine(d: Directive): string {
    const v = this.get(d.name);
    if (d.type === 'memory') return `${d.name} ${formatMemoryForFile(v as number)}`;
    const text = formatDirectiveValue(d, v);
    if (d.multiArg) return `${d.name} ${text === '' ? '""' : text}`;
    return `${d.name} ${quoteIfNeeded(text)}`;
  }
}

function quoteIfNeeded(v: string): string {
  if (v !== '' && /^[\x21-\x7e]+$/.test(v) && !/["'\\]/.test(v)) return v;
  // Escapes the file parser reads back (sdssplitargs rules).
  const body = v.replace(/[\\"\x00-\x1f\x7f]/g, (ch) => {
    if (ch === '\\' || ch === '"') return `\\${ch}`;
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `"${body}"`;
}
