// LATENCY: the latency monitor's events (monitor/latency-monitor.ts: LATEST,
// HISTORY, RESET) and the per-command latency histograms (LATENCY
// HISTOGRAM), whose bucket counters dispatch keeps for every call. DOCTOR and
// GRAPH are not implemented.

import type { CommandContext, Handler } from './context.js';
import { replyHelp } from './help.js';
import type { Command, CommandDef } from './model/command-table.js';
import { CMD_ADMIN, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';
import { BUCKET_US } from '../monitor/latency-histogram.js';

/** calls + histogram_usec (cumulative, only where the count grows), as Redis's fillCommandCDF. */
function addHistogram(c: CommandContext, hist: Float64Array): void {
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
function withHistograms(cmd: Command<Handler>, out: Command<Handler>[]): void {
  for (const s of [cmd, ...cmd.subcommands]) if (s.stats.hist) out.push(s);
}

function latencyHistogram(c: CommandContext, argv: Buffer[]): void {
  const table = c.server.commands;
  const out: Command<Handler>[] = [];
  if (argv.length === 2) {
    for (const cmd of table.all) withHistograms(cmd, out);
  } else {
    for (let j = 2; j < argv.length; j++) {
      // "config|get" names a subcommand; a container names itself and its subcommands.
      const name = argv[j].toString('latin1');
      const cmd = table.get(name);
      if (cmd === undefined) continue;
      if (!name.includes('|')) withHistograms(cmd, out);
      else if (cmd.stats.hist) out.push(cmd);
    }
  }
  c.addMapLen(out.length);
  for (const s of out) {
    c.addBulkString(s.name);
    addHistogram(c, s.stats.hist as Float64Array);
  }
}

function latencyLatest(c: CommandContext): void {
  const all = c.server.latency.events();
  c.addArrayLen(all.length);
  for (const e of all) {
    c.addArrayLen(4);
    c.addBulkString(e.event);
    c.addInt(e.time);
    c.addInt(e.latest);
    c.addInt(e.max);
  }
}

function latencyHistory(c: CommandContext, argv: Buffer[]): void {
  const samples = c.server.latency.history(argv[2].toString('latin1'));
  c.addArrayLen(samples.length);
  for (const [time, ms] of samples) {
    c.addArrayLen(2);
    c.addInt(time);
    c.addInt(ms);
  }
}

function latencyReset(c: CommandContext, argv: Buffer[]): void {
  const named = argv.length === 2 ? undefined : argv.slice(2).map((a) => a.toString('latin1'));
  c.addInt(c.server.latency.reset(named));
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

function latencyHelp(c: CommandContext): void {
  replyHelp(c, 'LATENCY', HELP);
}

// ---------------------------------------------------------------------------

const admin = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;
const special = ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'];
const group = 'server';

export const latencyCommands: CommandDef<Handler>[] = [
  {
    name: 'latency', arity: -2, 
    docs: { summary: 'A container for latency diagnostics commands.', since: '2.8.13', group, complexity: 'Depends on subcommand.' },
    subcommands: [
      {
        name: 'latency|help', arity: 2, flags: CMD_LOADING | CMD_STALE, handler: latencyHelp,
        docs: { summary: 'Returns helpful text about the different subcommands.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'latency|histogram', arity: -2, flags: admin, tips: special, handler: latencyHistogram,
        docs: { summary: 'Returns the cumulative distribution of latencies of a subset or all commands.', since: '7.0.0', group, complexity: 'O(N) where N is the number of commands with latency information being retrieved.', syntax: '[command [command ...]]' },
      },
      {
        name: 'latency|history', arity: 3, flags: admin, tips: special, handler: latencyHistory,
        docs: { summary: 'Returns timestamp-latency samples for an event.', since: '2.8.13', group, complexity: 'O(1)', syntax: 'event' },
      },
      {
        name: 'latency|latest', arity: 2, flags: admin, tips: special, handler: latencyLatest,
        docs: { summary: 'Returns the latest latency samples for all events.', since: '2.8.13', group, complexity: 'O(1)' },
      },
      {
        name: 'latency|reset', arity: -2, flags: admin, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], handler: latencyReset,
        docs: { summary: 'Resets the latency data for one or more events.', since: '2.8.13', group, complexity: 'O(1)', syntax: '[event [event ...]]' },
      },
    ],
  },
];
