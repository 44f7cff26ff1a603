// COMMAND DOCS arguments from a command's syntax string: "key [NX | XX] [EX
// seconds]" becomes Redis's argument structure (name, type, token, flags,
// nested arguments), so that redis-cli's hints and clients' docs work from
// one line per command instead of a hand-written tree.

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
