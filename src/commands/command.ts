// COMMAND and its subcommands, generated from the command table: COMMAND INFO
// entries (flags, ACL categories, key specs), COMMAND DOCS (arguments parsed
// from each spec's syntax string), COMMAND LIST filters and COMMAND GETKEYS.
// redis-cli's hints and the key extraction of cluster clients read these.

import type { Client } from '../server/client.js';
import { matchString } from '../util/glob.js';
import { keyword, ERR_SYNTAX } from './args.js';
import {
  aclCategories, keyPositions, lookupSubcommand, CommandFlag, CommandSpec, CommandTable,
} from './table.js';

/** Kept as a short name for the command families' declarations. */
export type Spec = CommandSpec;

/** The order Redis lists command flags in. */
const FLAG_ORDER: CommandFlag[] = [
  'write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'may_replicate', 'no_mandatory_keys',
  'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy',
];

/** ACL categories in Redis's bit order, which is the order COMMAND INFO lists them in. */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
  // kvslab's own, after Redis's.
  'kvtensor',
];

export function commandFlags(spec: CommandSpec): string[] {
  const set = new Set<string>(spec.flags);
  if (spec.getKeys) set.add('movablekeys');
  return FLAG_ORDER.filter((f) => set.has(f));
}

export function sortedCategories(spec: CommandSpec): string[] {
  const cats = aclCategories(spec);
  const rank = (c: string) => {
    const i = ACL_CATEGORIES.indexOf(c);
    return i < 0 ? ACL_CATEGORIES.length : i;
  };
  return [...new Set(cats)].sort((a, b) => rank(a) - rank(b));
}

/** Key-spec flags: declared, or derived from whether the command reads or writes. */
export function keySpecFlags(spec: Spec): string[] {
  if (spec.keySpecFlags) return spec.keySpecFlags;
  if (spec.flags.includes('write')) return ['RW', 'update'];
  if (spec.flags.includes('readonly')) return ['RO', 'access'];
  return ['RO'];
}

interface KeySpec {
  notes?: string;
  flags: string[];
  /** begin_search: index N, or unknown. */
  index: number | null;
  /** find_keys range (lastkey relative to begin, keystep, limit), or unknown. */
  range: [number, number, number] | null;
}

/**
 * Key specs derived from the legacy key positions: one index+range spec, and
 * an "unknown" one for commands whose keys move (the getKeys function knows them).
 */
function keySpecs(spec: Spec): KeySpec[] {
  if (spec.keySpecs) {
    return spec.keySpecs.map((k) => ({ notes: k.notes, flags: k.flags, index: k.index, range: [k.lastkey, k.keystep, k.limit] }));
  }
  const out: KeySpec[] = [];
  const flags = keySpecFlags(spec);
  if (spec.keys && spec.keys[0] > 0) {
    const [first, last, step] = spec.keys;
    out.push({ notes: spec.keySpecNotes, flags, index: first, range: [last < 0 ? last : last - first, step, 0] });
  }
  if (spec.getKeys) out.push({ flags, index: null, range: null });
  return out;
}

function hasKeys(spec: CommandSpec): boolean {
  return !!spec.getKeys || (!!spec.keys && spec.keys[0] > 0);
}

function addStrings(c: Client, items: string[], status: boolean, asSet: boolean): void {
  if (asSet) c.addSetLen(items.length);
  else c.addArrayLen(items.length);
  for (const s of items) {
    if (status) c.addStatus(s);
    else c.addBulkString(s);
  }
}

function addKeySpec(c: Client, ks: KeySpec): void {
  c.addMapLen(ks.notes ? 4 : 3);
  if (ks.notes) {
    c.addBulkString('notes');
    c.addBulkString(ks.notes);
  }
  c.addBulkString('flags');
  addStrings(c, ks.flags, true, true);
  c.addBulkString('begin_search');
  c.addMapLen(2);
  if (ks.index === null) {
    c.addBulkString('type'); c.addBulkString('unknown');
    c.addBulkString('spec'); c.addMapLen(0);
  } else {
    c.addBulkString('type'); c.addBulkString('index');
    c.addBulkString('spec'); c.addMapLen(1);
    c.addBulkString('index'); c.addInt(ks.index);
  }
  c.addBulkString('find_keys');
  c.addMapLen(2);
  if (ks.range === null) {
    c.addBulkString('type'); c.addBulkString('unknown');
    c.addBulkString('spec'); c.addMapLen(0);
  } else {
    c.addBulkString('type'); c.addBulkString('range');
    c.addBulkString('spec'); c.addMapLen(3);
    c.addBulkString('lastkey'); c.addInt(ks.range[0]);
    c.addBulkString('keystep'); c.addInt(ks.range[1]);
    c.addBulkString('limit'); c.addInt(ks.range[2]);
  }
}

/** One COMMAND INFO entry: the 10 fields of Redis 7. */
function addCommandInfo(c: Client, spec: Spec): void {
  c.addArrayLen(10);
  c.addBulkString(spec.name);
  c.addInt(spec.arity);
  addStrings(c, commandFlags(spec), true, true);
  const [first, last, step] = spec.keys ?? [0, 0, 0];
  c.addInt(first);
  c.addInt(last);
  c.addInt(step);
  addStrings(c, sortedCategories(spec).map((a) => `@${a}`), true, true);
  addStrings(c, spec.tips ?? [], false, true);
  // Key specs and subcommands are sets in RESP3, as Redis sends them.
  const specs = keySpecs(spec);
  c.addSetLen(specs.length);
  for (const ks of specs) addKeySpec(c, ks);
  const subs = spec.subcommands ?? [];
  c.addSetLen(subs.length);
  for (const s of subs) addCommandInfo(c, s);
}

/** Finds a command by name, "parent|sub" included (COMMAND INFO / DOCS). */
function lookupByName(table: CommandTable, name: string): Spec | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return table.get(name);
  const parent = table.get(name.slice(0, bar));
  if (!parent || name.indexOf('|', bar + 1) >= 0) return undefined;
  return lookupSubcommand(parent, Buffer.from(name.slice(bar + 1)));
}

// ---------------------------------------------------------------------------
// COMMAND DOCS: the syntax string ("key [NX | XX] [EX seconds]") becomes
// Redis's argument structure (name, type, token, flags, nested arguments).

export interface DocArg {
  name: string;
  type: string;
  token?: string;
  flags: string[];
  arguments?: DocArg[];
}

type Node =
  | { kind: 'word'; text: string }
  | { kind: 'ellipsis' }
  | { kind: 'group'; optional: boolean; alts: Node[][] };

function tokenize(syntax: string): string[] {
  const out: string[] = [];
  const re = /\.\.\.|[[\]<>()|]|[^\s[\]<>()|]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(syntax)) !== null) {
    // "x..." written without a space still means repetition.
    if (m[0].endsWith('...') && m[0] !== '...') out.push(m[0].slice(0, -3), '...');
    else out.push(m[0]);
  }
  return out;
}

/** Parses alternatives separated by '|' until `close` (or the end). */
function parseAlts(toks: string[], pos: { i: number }, close: string | null): Node[][] {
  const alts: Node[][] = [[]];
  while (pos.i < toks.length) {
    const t = toks[pos.i++];
    if (t === close) return alts;
    if (t === '|') alts.push([]);
    else if (t === '...') alts[alts.length - 1].push({ kind: 'ellipsis' });
    else if (t === '[' || t === '<' || t === '(') {
      const end = t === '[' ? ']' : t === '<' ? '>' : ')';
      alts[alts.length - 1].push({ kind: 'group', optional: t === '[', alts: parseAlts(toks, pos, end) });
    } else if (t === ']' || t === '>' || t === ')') {
      // A stray closer: ignore it rather than fail the whole document.
    } else {
      alts[alts.length - 1].push({ kind: 'word', text: t });
    }
  }
  return alts;
}

const isToken = (w: string) => /^[A-Z][A-Z0-9_-]*$/.test(w);

/** Argument type from its name, following the names Redis's docs use. */
function typeFor(name: string): string {
  const n = name.toLowerCase();
  if (/(^|-)(key|newkey|destkey|srckey|destination|source)$/.test(n)) return 'key';
  if (n.startsWith('unix-time')) return 'unix-time';
  if (n === 'pattern') return 'pattern';
  if (/^(count|numkeys|offset|start|end|index|seconds|milliseconds|timeout|db|port|client-id|id|decrement|samples|length|cursor|limit|numreplicas|delay|bit|integer|maxage)$/.test(n) || n.endsWith('-db') || n.endsWith('-index')) return 'integer';
  if (/(^|-)(float|score|double)$/.test(n)) return 'double';
  return 'string';
}

function nameOf(args: DocArg[]): string {
  return args.map((a) => a.name).join('_');
}

/** Converts one sequence of nodes into arguments. */
function convertSeq(nodes: Node[]): DocArg[] {
  const out: DocArg[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.kind === 'ellipsis') {
      const last = out[out.length - 1];
      if (last && !last.flags.includes('multiple')) last.flags.push('multiple');
      continue;
    }
    if (n.kind === 'word') {
      if (isToken(n.text)) {
        const next = nodes[i + 1];
        if (next && next.kind === 'word' && !isToken(next.text)) {
          out.push({ name: next.text, type: typeFor(next.text), token: n.text, flags: [] });
          i++;
        } else if (next && next.kind === 'group' && !next.optional) {
          const inner = convertGroup(next);
          if (inner.length === 1 && inner[0].token === undefined) {
            inner[0].token = n.text;
            out.push(inner[0]);
          } else {
            out.push({ name: n.text.toLowerCase(), type: 'block', token: n.text, flags: [], arguments: inner });
          }
          i++;
        } else {
          out.push({ name: n.text.toLowerCase(), type: 'pure-token', token: n.text, flags: [] });
        }
      } else {
        out.push({ name: n.text, type: typeFor(n.text), flags: [] });
      }
      continue;
    }
    // An optional group ending in '...' repeats what precedes it: "key [key ...]".
    const body = n.alts.length === 1 ? n.alts[0] : null;
    if (n.optional && body && body.length > 1 && body[body.length - 1].kind === 'ellipsis') {
      const repeated = convertSeq(body.slice(0, -1));
      const m = repeated.length;
      if (m > 0 && out.length >= m) {
        if (m === 1) {
          const last = out[out.length - 1];
          if (!last.flags.includes('multiple')) last.flags.push('multiple');
          if (repeated[0].token !== undefined && last.token !== undefined) last.flags.push('multiple_token');
        } else {
          const items = out.splice(out.length - m, m);
          out.push({ name: nameOf(items), type: 'block', flags: ['multiple'], arguments: items });
        }
        continue;
      }
    }
    const inner = convertGroup(n);
    if (inner.length === 0) continue;
    if (inner.length === 1) {
      if (n.optional) inner[0].flags.unshift('optional');
      out.push(inner[0]);
    } else {
      out.push({ name: nameOf(inner), type: 'block', flags: n.optional ? ['optional'] : [], arguments: inner });
    }
  }
  return out;
}

/** A group as arguments: one oneof for alternatives; a block with a token for "TOKEN a b". */
function convertGroup(g: Extract<Node, { kind: 'group' }>): DocArg[] {
  if (g.alts.length > 1) {
    const choices = g.alts.map((alt) => {
      const a = convertAlt(alt);
      return a.length === 1 ? a[0] : { name: nameOf(a), type: 'block', flags: [], arguments: a };
    });
    return [{ name: nameOf(choices), type: 'oneof', flags: [], arguments: choices }];
  }
  return convertAlt(g.alts[0]);
}

function convertAlt(nodes: Node[]): DocArg[] {
  const first = nodes[0];
  if (first && first.kind === 'word' && isToken(first.text) && nodes.length > 2) {
    const rest = convertSeq(nodes.slice(1));
    if (rest.length > 1) return [{ name: first.text.toLowerCase(), type: 'block', token: first.text, flags: [], arguments: rest }];
  }
  return convertSeq(nodes);
}

/** Parses a docs syntax string into COMMAND DOCS arguments. */
export function parseSyntax(syntax: string): DocArg[] {
  const toks = tokenize(syntax);
  const alts = parseAlts(toks, { i: 0 }, null);
  if (alts.length > 1) return convertGroup({ kind: 'group', optional: false, alts });
  return convertSeq(alts[0]);
}

function addDocArg(c: Client, a: DocArg, keyIndex: number): void {
  const fields = 2 + (a.type === 'key' ? 1 : 0) + (a.token !== undefined ? 1 : 0) + (a.flags.length ? 1 : 0) + (a.arguments ? 1 : 0);
  c.addMapLen(fields);
  c.addBulkString('name'); c.addBulkString(a.name);
  c.addBulkString('type'); c.addBulkString(a.type);
  if (a.type === 'key') { c.addBulkString('key_spec_index'); c.addInt(keyIndex); }
  if (a.token !== undefined) { c.addBulkString('token'); c.addBulkString(a.token); }
  if (a.flags.length) { c.addBulkString('flags'); addStrings(c, a.flags, true, true); }
  if (a.arguments) {
    c.addBulkString('arguments');
    c.addArrayLen(a.arguments.length);
    for (const x of a.arguments) addDocArg(c, x, keyIndex);
  }
}

function addCommandDocs(c: Client, spec: Spec): void {
  const d = spec.docs;
  const args = d.syntax ? parseSyntax(d.syntax) : [];
  const subs = spec.subcommands ?? [];
  c.addMapLen(4 + (args.length ? 1 : 0) + (subs.length ? 1 : 0));
  c.addBulkString('summary'); c.addBulkString(d.summary);
  c.addBulkString('since'); c.addBulkString(d.since);
  c.addBulkString('group'); c.addBulkString(d.group);
  c.addBulkString('complexity'); c.addBulkString(d.complexity);
  if (args.length) {
    c.addBulkString('arguments');
    c.addArrayLen(args.length);
    for (const a of args) addDocArg(c, a, 0);
  }
  if (subs.length) {
    c.addBulkString('subcommands');
    c.addMapLen(subs.length);
    for (const s of subs) {
      c.addBulkString(s.name);
      addCommandDocs(c, s);
    }
  }
}

// ---------------------------------------------------------------------------
// HELP replies, shared by the families of this area.

/** A HELP reply in Redis's shape: a header line, then each subcommand and its description. */
export function replyHelp(c: Client, command: string, lines: string[]): void {
  const all = [
    `${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ];
  c.addArrayLen(all.length);
  for (const l of all) c.addStatus(l);
}

// ---------------------------------------------------------------------------
// Handlers

function commandBare(c: Client): void {
  const all = c.server.commands.all;
  c.addArrayLen(all.length);
  for (const s of all) addCommandInfo(c, s);
}

function commandInfo(c: Client, argv: Buffer[]): void {
  if (argv.length === 2) return commandBare(c);
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const spec = lookupByName(c.server.commands, argv[i].toString('latin1'));
    if (spec) addCommandInfo(c, spec);
    else c.addNull();
  }
}

function commandCount(c: Client): void {
  c.addInt(c.server.commands.all.length);
}

function commandDocs(c: Client, argv: Buffer[]): void {
  const found: Spec[] = [];
  if (argv.length === 2) found.push(...c.server.commands.all);
  for (let i = 2; i < argv.length; i++) {
    const spec = lookupByName(c.server.commands, argv[i].toString('latin1'));
    if (spec) found.push(spec);
  }
  c.addMapLen(found.length);
  for (const s of found) {
    c.addBulkString(s.name);
    addCommandDocs(c, s);
  }
}

function commandList(c: Client, argv: Buffer[]): void {
  let filter: (s: CommandSpec) => boolean = () => true;
  if (argv.length === 5 && keyword(argv[2]) === 'filterby') {
    const kind = keyword(argv[3]);
    const value = argv[4].toString('latin1');
    if (kind === 'module') filter = () => false;
    else if (kind === 'aclcat') {
      const cat = value.toLowerCase();
      filter = (s) => aclCategories(s).includes(cat);
    } else if (kind === 'pattern') filter = (s) => matchString(value, s.name);
    else return c.addError(ERR_SYNTAX);
  } else if (argv.length !== 2) {
    return c.addError(ERR_SYNTAX);
  }
  const names: string[] = [];
  for (const s of c.server.commands.all) {
    if (filter(s)) names.push(s.name);
    for (const sub of s.subcommands ?? []) if (filter(sub)) names.push(sub.name);
  }
  c.addArrayLen(names.length);
  for (const n of names) c.addBulkString(n);
}

/** The command argv[2..] would run, with its argument vector; errors as Redis's GETKEYS. */
function resolveForKeys(c: Client, argv: Buffer[]): { spec: Spec; args: Buffer[] } | null {
  const args = argv.slice(2);
  let spec: Spec | undefined = c.server.commands.lookup(args[0]);
  if (spec && spec.subcommands && args.length >= 2) spec = lookupSubcommand(spec, args[1]);
  if (!spec) {
    c.addError('ERR Invalid command specified');
    return null;
  }
  if (!hasKeys(spec)) {
    c.addError('ERR The command has no key arguments');
    return null;
  }
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) {
    c.addError('ERR Invalid number of arguments specified for command');
    return null;
  }
  return { spec, args };
}

/** Key positions, or an error when a command that must name keys names none. */
function positionsOrReply(c: Client, spec: Spec, args: Buffer[]): number[] | null {
  const pos = keyPositions(spec, args);
  if (pos.length === 0 && !spec.flags.includes('no_mandatory_keys')) {
    c.addError('ERR Invalid arguments specified for command');
    return null;
  }
  return pos;
}

function commandGetKeys(c: Client, argv: Buffer[]): void {
  const r = resolveForKeys(c, argv);
  if (!r) return;
  const pos = positionsOrReply(c, r.spec, r.args);
  if (!pos) return;
  c.addArrayLen(pos.length);
  for (const p of pos) c.addBulk(r.args[p]);
}

function commandGetKeysAndFlags(c: Client, argv: Buffer[]): void {
  const r = resolveForKeys(c, argv);
  if (!r) return;
  const pos = positionsOrReply(c, r.spec, r.args);
  if (!pos) return;
  const flags = keySpecFlags(r.spec);
  c.addArrayLen(pos.length);
  for (const p of pos) {
    c.addArrayLen(2);
    c.addBulk(r.args[p]);
    addStrings(c, flags, true, true);
  }
}

function commandHelp(c: Client): void {
  replyHelp(c, 'COMMAND', [
    '(no subcommand)',
    '    Describe every command, as COMMAND INFO does.',
    'COUNT',
    '    Number of commands this server has.',
    'DOCS [<command-name> ...]',
    '    Documentation of the named commands, or of every command.',
    'GETKEYS <full-command>',
    '    Key names that the given command line would touch.',
    'GETKEYSANDFLAGS <full-command>',
    '    Key names that the given command line would touch, with how each is used.',
    'INFO [<command-name> ...]',
    '    Name, arity, flags, key positions, ACL categories and subcommands of the named',
    '    commands, or of every command.',
    'LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]',
    '    Names of the commands, optionally only those matching the filter.',
  ]);
}

const group = 'server';
const flags: CommandFlag[] = ['loading', 'stale'];
const acl = ['connection'];
export const commandCommands: Spec[] = [
  {
    name: 'command', arity: -1, flags, acl, handler: commandBare, tips: ['nondeterministic_output_order'],
    docs: { summary: 'Describes every command of the server.', since: '2.8.13', group, complexity: 'O(N) where N is the total number of commands' },
    subcommands: [
      {
        name: 'command|count', arity: 2, flags, acl, handler: commandCount,
        docs: { summary: 'Counts the commands of the server.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'command|docs', arity: -2, flags, acl, handler: commandDocs, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Returns the documentation of commands.', since: '7.0.0', group, complexity: 'O(N) where N is the number of commands to look up', syntax: '[command-name [command-name ...]]' },
      },
      {
        name: 'command|getkeys', arity: -4, flags, acl, handler: commandGetKeys,
        docs: { summary: 'Extracts the key names from a full command line.', since: '2.8.13', group, complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      },
      {
        name: 'command|getkeysandflags', arity: -4, flags, acl, handler: commandGetKeysAndFlags,
        docs: { summary: 'Extracts the key names and their access flags from a full command line.', since: '7.0.0', group, complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      },
      {
        name: 'command|help', arity: 2, flags, acl, handler: commandHelp,
        docs: { summary: 'Explains the COMMAND subcommands.', since: '5.0.0', group, complexity: 'O(1)' },
      },
      {
        name: 'command|info', arity: -2, flags, acl, handler: commandInfo, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Describes the named commands, or every command.', since: '2.8.13', group, complexity: 'O(N) where N is the number of commands to look up', syntax: '[command-name [command-name ...]]' },
      },
      {
        name: 'command|list', arity: -2, flags, acl, handler: commandList, tips: ['nondeterministic_output_order'],
        docs: { summary: 'Lists command names, optionally filtered.', since: '7.0.0', group, complexity: 'O(N) where N is the total number of commands', syntax: '[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]' },
      },
    ],
  },
];
