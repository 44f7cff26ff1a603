#!/usr/bin/env node
// kvslab vs Redis 7, side by side.
//
//   node bench/run.mjs [suite ...] [--rounds N] [--quick] [--no-report]
//
// Each suite (bench/suites/<name>.mjs) drives a fresh kvslab and a fresh
// redis-server with the same load, alternating them over N rounds, and the
// median of each figure is reported. Tables go to stdout, JSON to
// bench/results/, and bench/RESULTS.md plus the charts are regenerated.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH, ROOT, PINNING, pinSelf, machineInfo } from './lib/machine.mjs';
import { BenchContext, live } from './lib/context.mjs';
import { redisVersion, COMMON_ARGS } from './lib/servers.mjs';
import { textTable } from './lib/format.mjs';
import { renderReport } from './report.mjs';

const USAGE = `usage: node bench/run.mjs [suite ...] [--rounds N] [--quick] [--quiet-wait S] [--no-report] [--list]

  suite           one or more of the suites in bench/suites (default: all)
  --rounds N      rounds per suite, each running kvslab then Redis (default 3)
  --quick         1 round and smaller loads, for a fast check
  --quiet-wait S  before each server's run, wait up to S seconds for other
                  processes to go idle (default 5, quick 2; 0: don't wait)
  --no-report     skip regenerating bench/RESULTS.md and the charts
  --list          list the suites and exit`;

function parseArgs(argv) {
  const o = { suites: /** @type {string[]} */ ([]), rounds: /** @type {number|null} */ (null), quietWait: /** @type {number|null} */ (null), quick: false, report: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-report') o.report = false;
    else if (a === '--list') o.list = true;
    else if (a === '--rounds' || a.startsWith('--rounds=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds needs a positive integer, got '${v ?? ''}'`);
      o.rounds = n;
    } else if (a === '--quiet-wait' || a.startsWith('--quiet-wait=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--quiet-wait needs a number of seconds, got '${v ?? ''}'`);
      o.quietWait = n;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.suites.push(a);
  }
  return o;
}

/** @returns {Promise<Map<string, { name: string, description: string, run: (ctx: BenchContext) => Promise<void> }>>} */
async function loadSuites() {
  const dir = join(BENCH, 'suites');
  const suites = new Map();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
    const mod = await import(pathToFileURL(join(dir, file)).href);
    const s = mod.default ?? mod;
    if (!s || typeof s.name !== 'string' || typeof s.run !== 'function') {
      throw new Error(`bench/suites/${file} must export { name, description, run(ctx) }`);
    }
    suites.set(s.name, s);
  }
  return suites;
}

function requireTools() {
  const missing = [];
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) missing.push('kvslab is not built (run `make build`)');
  for (const tool of ['redis-server', 'redis-benchmark']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      missing.push(`${tool} not found (\`make system-deps\` installs Redis)`);
    }
  }
  if (missing.length) throw new Error(missing.join('\n'));
}

const stamp = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const suites = await loadSuites();
  if (opts.list) {
    for (const s of suites.values()) console.log(`${s.name.padEnd(18)} ${s.description ?? ''}`);
    return;
  }
  // Default order: the headline numbers first, the memory-hungry suite last.
  const preferred = ['throughput', 'pipeline-scaling', 'memory'];
  const rank = (n) => (preferred.includes(n) ? preferred.indexOf(n) : preferred.length);
  const chosen = opts.suites.length ? opts.suites : [...suites.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const unknown = chosen.filter((n) => !suites.has(n));
  if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')}; available: ${[...suites.keys()].join(', ')}`);
  requireTools();

  const rounds = opts.rounds ?? (opts.quick ? 1 : 3);
  const quietWait = opts.quietWait ?? (opts.quick ? 2 : 5);
  const pinned = pinSelf();
  const machine = await machineInfo(redisVersion());
  console.log(`kvslab ${machine.kvslab} vs Redis ${machine.redis}: ${chosen.join(', ')}; ${rounds} round(s)${opts.quick ? ', quick' : ''}`);
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${(Number(machine.memoryBytes) / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}; pinning: ${PINNING && pinned ? machine.pinning : 'none'}`);
  if (!(PINNING && pinned)) machine.pinning = 'none';
  machine.serverOptions = COMMON_ARGS.join(' ');

  const resultsDir = join(BENCH, 'results');
  mkdirSync(join(resultsDir, 'latest'), { recursive: true });
  const t0 = Date.now();
  for (const name of chosen) {
    const suite = suites.get(name);
    console.log(`\n== ${name}: ${suite.description ?? ''}`);
    const started = new Date();
    const ctx = new BenchContext({ suite: name, rounds, quick: opts.quick, log: (s) => console.log(s), quietWaitMs: quietWait * 1000 });
    let suiteError = null;
    try {
      await suite.run(ctx);
    } catch (e) {
      // A suite bug should not lose the figures the other suites produce.
      suiteError = e instanceof Error ? e.message : String(e);
      console.log(`[${name}] suite failed: ${suiteError}`);
    }
    const figures = ctx.finish();
    const finished = new Date();
    const result = {
      suite: name,
      description: suite.description ?? '',
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
      rounds,
      quick: opts.quick,
      machine,
      settings: ctx.settings,
      suiteError,
      roundLog: ctx.roundLog,
      figures,
    };
    console.log(`\n${name} (median of ${rounds} round${rounds > 1 ? 's' : ''}, ${result.durationSeconds} s)\n${textTable(figures)}`);
    const json = `${JSON.stringify(result, null, 2)}\n`;
    const file = join(resultsDir, `${name}-${stamp(started)}.json`);
    writeFileSync(file, json);
    writeFileSync(join(resultsDir, 'latest', `${name}.json`), json);
    console.log(`results: ${file.slice(ROOT.length + 1)}`);
  }
  console.log(`\nall suites done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (opts.report) {
    const out = await renderReport();
    console.log(`report: ${out.markdown.slice(ROOT.length + 1)}${out.charts.length ? `, charts: ${out.charts.map((c) => c.slice(ROOT.length + 1)).join(', ')}` : ''}`);
  }
}

async function stopAll() {
  await Promise.allSettled([...live].map((s) => s.stop()));
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping servers`);
    stopAll().finally(() => process.exit(130));
  });
}

main().catch(async (e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  await stopAll();
  process.exit(1);
});
