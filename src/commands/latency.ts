// LATENCY: Redis's latency monitor (events sampled when they take at least
// latency-monitor-threshold ms: LATEST, HISTORY, RESET) and the per-command
// latency histograms (LATENCY HISTOGRAM), whose bucket counters dispatch
// keeps for every call (recordLatency). DOCTOR and GRAPH are not implemented.

import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { replyHelp, type Spec } from './command.js';
import { lookupSubcommand, type CommandFlag, type CommandSpec } from './table.js';

declare module './table.js' {
  interface CommandStats {
    /** Calls by latency bucket (see BUCKET_US), made on the command's first call. */
    hist?: Float64Array;
  }
}

// ---------------------------------------------------------------------------
// Per-command histograms

/**
 * Upper bounds (µs, inclusive) of the buckets, as LATENCY HISTOGRAM labels
 * them. Redis keeps an hdr_histogram of ns (2 significant figures) and
 * reports it at powers of two from 1024 ns: the label of step k is the
 * highest value equivalent to 2^(10+k) ns, in whole µs. A call of d µs falls
 * in the first step whose label is >= d, so counting calls per step is the
 * same histogram, kept as 21 counters.
 */
export const BUCKET_US: Int32Array = (() => {
  const b = new Int32Array(21);
  for (let k = 0; k < b.length; k++) b[k] = Math.floor((2 ** (10 + k) + 2 ** (k + 3) - 1) / 1000);
  return b;
})();
const LAST_BUCKET = BUCKET_US.length - 1;

/** Counts one call of `us` microseconds in `hist`. */
export function recordLatency(hist: Float64Array, us: number): void {
  const d = us | 0;
  // 2^m <= d < 2^(m+1): the bucket is m or m+1 (labels run about 4% over 2^k).
  let k = 31 - Math.clz32(d | 1);
  if (d > BUCKET_US[k]) k++;
  hist[k > LAST_BUCKET ? LAST_BUCKET : k]++;
}

export function newHistogram(): Float64Array {
  return new Float64Array(BUCKET_US.length);
}

/** calls + histogram_usec (cumulative, only where the count grows), as Redis's fillCommandCDF. */
function addHistogram(c: Client, hist: Float64Array): void {
  let total = 0;
  let steps = 0;
  for (let k = 0; k < hist.length; k++) {
    total += hist[k];
    if (hist[k] > 0) steps++;
  }
  c.addMapLen(2);
  c.addBulkString('calls');
  c.addInt(total);
  c.addBulkString('histogram_usec');
  c.addMapLen(steps);
  let cumulative = 0;
  for (let k = 0; k < hist.length; k++) {
    if (hist[k] === 0) continue;
    cumulative += hist[k];
    c.addInt(BUCKET_US[k]);
    c.addInt(cumulative);
  }
}

/** The command and those of its subcommands that have a histogram (a container is never called itself). */
function withHistograms(spec: CommandSpec, out: CommandSpec[]): void {
  for (const s of [spec, ...(spec.subcommands ?? [])]) if (s.stats?.hist) out.push(s);
}

function latencyHistogram(c: Client, argv: Buffer[]): void {
  const table = c.server.commands;
  const out: CommandSpec[] = [];
  if (argv.length === 2) {
    for (const spec of table.all) withHistograms(spec, out);
  } else {
    for (let j = 2; j < argv.length; j++) {
      // "config|get" names a subcommand; a container names itself and its subcommands.
      const parts = argv[j].toString('latin1').split('|');
      if (parts.length > 2) continue;
      const [name, sub] = parts;
      const spec = table.get(name);
      if (spec === undefined) continue;
      if (sub === undefined) {
        withHistograms(spec, out);
      } else {
        const s = lookupSubcommand(spec, Buffer.from(sub, 'latin1'));
        if (s?.stats?.hist) out.push(s);
      }
    }
  }
  c.addMapLen(out.length);
  for (const s of out) {
    c.addBulkString(s.name);
    addHistogram(c, s.stats?.hist as Float64Array);
  }
}

// ---------------------------------------------------------------------------
// Latency events

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
const SAMPLES = 160;

/** One event's time series: at most one sample per second, the worst of that second. */
interface Series {
  time: Float64Array;
  latency: Float64Array;
  idx: number;
  max: number;
}

const events = new WeakMap<Server, Map<string, Series>>();

function eventsOf(server: Server): Map<string, Series> {
  let m = events.get(server);
  if (!m) {
    m = new Map();
    events.set(server, m);
  }
  return m;
}

/** Records `ms` for `event` if latency-monitor-threshold is on and reached (Redis's latencyAddSampleIfNeeded). */
export function latencyAddSampleIfNeeded(server: Server, event: string, ms: number): void {
  const threshold = server.config.int('latency-monitor-threshold');
  if (threshold > 0 && ms >= threshold) latencyAddSample(server, event, ms);
}

function latencyAddSample(server: Server, event: string, ms: number): void {
  const m = eventsOf(server);
  let ts = m.get(event);
  if (!ts) {
    ts = { time: new Float64Array(SAMPLES), latency: new Float64Array(SAMPLES), idx: 0, max: 0 };
    m.set(event, ts);
  }
  const now = Math.floor(Date.now() / 1000);
  if (ms > ts.max) ts.max = ms;
  const prev = (ts.idx + SAMPLES - 1) % SAMPLES;
  if (ts.time[prev] === now) {
    if (ms > ts.latency[prev]) ts.latency[prev] = ms;
    return;
  }
  ts.time[ts.idx] = now;
  ts.latency[ts.idx] = ms;
  ts.idx = (ts.idx + 1) % SAMPLES;
}

/** The events with samples and their latest and highest values (for /metrics too). */
export function latencyEvents(server: Server): { event: string; time: number; latest: number; max: number }[] {
  const out = [];
  for (const [event, ts] of eventsOf(server)) {
    const last = (ts.idx + SAMPLES - 1) % SAMPLES;
    out.push({ event, time: ts.time[last], latest: ts.latency[last], max: ts.max });
  }
  return out;
}

function latencyLatest(c: Client): void {
  const all = latencyEvents(c.server);
  c.addArrayLen(all.length);
  for (const e of all) {
    c.addArrayLen(4);
    c.addBulkString(e.event);
    c.addInt(e.time);
    c.addInt(e.latest);
    c.addInt(e.max);
  }
}

function latencyHistory(c: Client, argv: Buffer[]): void {
  const ts = eventsOf(c.server).get(argv[2].toString('latin1'));
  if (!ts) return c.addEmptyArray();
  let n = 0;
  for (let j = 0; j < SAMPLES; j++) if (ts.time[j] !== 0) n++;
  c.addArrayLen(n);
  // Oldest first: the ring starts at the slot to be written next.
  for (let j = 0; j < SAMPLES; j++) {
    const i = (ts.idx + j) % SAMPLES;
    if (ts.time[i] === 0) continue;
    c.addArrayLen(2);
    c.addInt(ts.time[i]);
    c.addInt(ts.latency[i]);
  }
}

function latencyReset(c: Client, argv: Buffer[]): void {
  const m = eventsOf(c.server);
  if (argv.length === 2) {
    const n = m.size;
    m.clear();
    return c.addInt(n);
  }
  let n = 0;
  for (let j = 2; j < argv.length; j++) if (m.delete(argv[j].toString('latin1'))) n++;
  c.addInt(n);
}

const HELP = [
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

function latencyHelp(c: Client): void {
  replyHelp(c, 'LATENCY', HELP);
}

// ---------------------------------------------------------------------------

const admin: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const special = ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'];
const group = 'server';

export const latencyCommands: Spec[] = [
  {
    name: 'latency', arity: -2, flags: [], acl: [],
    docs: { summary: 'A container for latency diagnostics commands.', since: '2.8.13', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'latency|help', arity: 2, flags: ['loading', 'stale'], acl: [], handler: latencyHelp,
        docs: { summary: 'Returns helpful text about the different subcommands.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'latency|histogram', arity: -2, flags: admin, acl: [], tips: special, handler: latencyHistogram,
        docs: { summary: 'Returns the cumulative distribution of latencies of a subset or all commands.', since: '7.0.0', group, complexity: 'O(N) where N is the number of commands with latency information being retrieved.', syntax: '[command [command ...]]' },
      },
      {
        name: 'latency|history', arity: 3, flags: admin, acl: [], tips: special, handler: latencyHistory,
        docs: { summary: 'Returns timestamp-latency samples for an event.', since: '2.8.13', group, complexity: 'O(1)', syntax: 'event' },
      },
      {
        name: 'latency|latest', arity: 2, flags: admin, acl: [], tips: special, handler: latencyLatest,
        docs: { summary: 'Returns the latest latency samples for all events.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'latency|reset', arity: -2, flags: admin, acl: [], tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], handler: latencyReset,
        docs: { summary: 'Resets the latency data for one or more events.', since: '2.8.13', group, complexity: 'O(1)', syntax: '[event [event ...]]' },
      },
    ],
  },
];
