// Runtime configuration: loading a redis.conf-style file plus command-line
// overrides, CONFIG GET/SET, and CONFIG REWRITE back into the file.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { splitInlineArgs } from '../protocol/inline.js';
import {
  ConfigValue, Directive, DIRECTIVES, findDirective, formatDirectiveValue, parseDirectiveValue,
} from './directives.js';

export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }

  /** The report printed before exiting, shaped like Redis's. */
  report(): string {
    return [
      '',
      '*** FATAL CONFIG FILE ERROR (kvslab) ***',
      `Reading the configuration file ${this.file}, at line ${this.line}`,
      `>>> '${this.text}'`,
      this.reason,
    ].join('\n');
  }
}

export type ChangeListener = (name: string, value: ConfigValue) => void;

export class Config {
  private readonly values = new Map<string, ConfigValue>();
  /** Absolute path of the config file, '' when started without one. */
  file = '';
  private readonly listeners: ChangeListener[] = [];

  constructor() {
    for (const d of DIRECTIVES) this.values.set(d.name, d.default);
  }

  get(name: string): ConfigValue {
    return this.values.get(name) as ConfigValue;
  }
  int(name: string): number { return this.get(name) as number; }
  str(name: string): string { return this.get(name) as string; }
  bool(name: string): boolean { return this.get(name) as boolean; }

  onChange(l: ChangeListener): void { this.listeners.push(l); }

  /**
   * Loads config text (a file's contents followed by command-line directives,
   * as Redis does). Throws ConfigFileError on the first bad line.
   */
  load(text: string, source: string): void {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i].replace(/\r$/, '');
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const fail = (reason: string): never => { throw new ConfigFileError(source, i + 1, line, reason); };
      const buf = Buffer.from(line);
      const args = splitInlineArgs(buf, 0, buf.length);
      if (args === null) fail('Unbalanced quotes in configuration line');
      const argv = (args as Buffer[]).map((a) => a.toString());
      if (argv.length === 0) continue;
      const name = argv[0].toLowerCase();
      if (name === 'include') {
        if (argv.length !== 2) fail('Bad directive or wrong number of arguments');
        let included: string;
        try {
          included = readFileSync(argv[1], 'utf8');
        } catch (e) {
          fail(`Fatal error, can't open config file '${argv[1]}': ${(e as Error).message}`);
        }
        this.load(included!, argv[1]);
        continue;
      }
      const d = findDirective(name);
      if (!d || argv.length < 2) fail('Bad directive or wrong number of arguments');
      try {
        this.values.set(d!.name, parseDirectiveValue(d!, argv.slice(1)));
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
      throw new ConfigFileError(path, 0, '', `Fatal error, can't open config file '${path}': ${(e as Error).message}`);
    }
    this.file = path;
    this.load(text, path);
    if (extra) this.load(extra, 'command line');
  }

  /** CONFIG GET: pairs of name and value for names matching the glob patterns. */
  getMatching(patterns: string[], match: (pattern: string, name: string) => boolean): [string, string][] {
    const out: [string, string][] = [];
    const seen = new Set<string>();
    for (const p of patterns) {
      const lp = p.toLowerCase();
      for (const d of DIRECTIVES) {
        const names = [d.name, ...(d.alias ?? [])];
        for (const n of names) {
          if (seen.has(n) || !match(lp, n)) continue;
          seen.add(n);
          out.push([n, formatDirectiveValue(d, this.get(d.name))]);
        }
      }
    }
    return out;
  }

  /**
   * CONFIG SET with several pairs: all are validated before any applies, and a
   * failing listener rolls every change back. Returns an error text or null.
   */
  setMany(pairs: [string, string][]): string | null {
    const parsed: [Directive, ConfigValue][] = [];
    const seen = new Set<string>();
    for (const [name, value] of pairs) {
      const d = findDirective(name);
      if (!d) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      const fail = (why: string) => `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;
      if (seen.has(d.name)) return fail('duplicate parameter');
      seen.add(d.name);
      if (!d.mutable) return fail("can't set immutable config");
      try {
        const args = d.type === 'special' || d.name === 'save' || d.name === 'bind' ? value.split(/\s+/).filter(Boolean) : [value];
        parsed.push([d, parseDirectiveValue(d, args.length ? args : [''])]);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    const old = parsed.map(([d]) => [d, this.get(d.name)] as const);
    try {
      for (const [d, v] of parsed) {
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
      return `ERR CONFIG SET failed (possibly related to argument '${parsed[0][0].name}') - ${(e as Error).message}`;
    }
    return null;
  }

  /**
   * CONFIG REWRITE: keeps the file's comments and order, rewrites the lines of
   * directives whose value differs, appends the ones not in the file.
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
    for (const raw of lines) {
      const t = raw.trim();
      const name = t.split(/\s+/)[0]?.toLowerCase() ?? '';
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
    if (extra.length) {
      out.push('# Generated by CONFIG REWRITE');
      for (const d of extra) out.push(this.renderLine(d));
    }
    try {
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, `${out.join('\n')}\n`);
      renameSync(tmp, this.file);
    } catch (e) {
      return `ERR Rewriting config file: ${(e as Error).message}`;
    }
    return null;
  }

  private renderLine(d: Directive): string {
    const v = formatDirectiveValue(d, this.get(d.name));
    if (d.type === 'special' || d.name === 'save' || d.name === 'bind') return `${d.name} ${v === '' ? '""' : v}`;
    return `${d.name} ${quoteIfNeeded(v)}`;
  }
}

function quoteIfNeeded(v: string): string {
  if (v !== '' && /^[\x21-\x7e]+$/.test(v) && !/["'\\]/.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
