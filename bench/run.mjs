#!/usr/bin/env node
// kvslab vs Redis 7 (and memcached, and a bare Node.js ceiling), side by side.
//
//   node bench/run.mjs [suite ...] [--rounds N] [--quick] [--servers LIST] [--baseline REF] [--no-report]
//
// Each suite (bench/suites/<name>.mjs) drives a fresh server of each kind it
// compares with the same load, alternating them over N rounds, and the
// median of each figure is reported. Tables go to stdout, JSON to
// bench/results/, and bench/RESULTS.md plus the charts are regenerated.
// With --baseline, kvslab at another git revision (built in a temporary
// worktree) runs as kvslab-base wherever kvslab does.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH, ROOT, PINNING, pinSelf, machineInfo } from './lib/machine.mjs';
import { BenchContext, live } from './lib/context.mjs';
import { redisVersion, memcachedVersion, COMMON_ARGS, SERVER_IDS, serverLabel, useBaseline, withBaseline } from './lib/servers.mjs';
import { prepareBaseline, removeBaseline, workingRevision } from './lib/baseline.mjs';
import { textTable } from './lib/format.mjs';
import { renderReport } from './report.mjs';

const USAGE = `usage: node bench/run.mjs [suite ...] [--rounds N] [--quick] [--quiet-wait S] [--servers LIST] [--baseline REF]
                                  [--no-report] [--list] [suite options]

  suite           one or more of the suites in bench/suites (default: all)
  --rounds N      rounds per suite, each running every server of the suite
                  once (default 3; a suite may set its own, eviction uses 1)
  --quick         1 round and smaller loads, for a fast check
  --quiet-wait S  before each server's run, wait up to S seconds for other
                  processes to go idle (default 5, quick 2; 0: don't wait)
  --servers LIST  run only these servers (comma-separated, of ${SERVER_IDS.join(', ')})
  --baseline REF  also run kvslab at git revision REF (HEAD~1, a branch, a hash;
                  HEAD for an A/A noise check) as kvslab-base, wherever kvslab
                  runs, with the same options: the tables get kvslab/kvslab@<sha>.
                  Built once per run in a temporary git worktree, removed at the end
  --no-report     skip regenerating bench/RESULTS.md and the charts
  --list          list the suites, their servers and their options, and exit

Suite options (see --list), e.g. --policies allkeys-lru,allkeys-sieve for eviction,
apply to the suites that declare them.`;

function parseArgs(argv) {
  const o = {
    suites: /** @type {string[]} */ ([]), rounds: /** @type {number|null} */ (null), quietWait: /** @type {number|null} */ (null),
    quick: false, report: true, list: false, servers: /** @type {string[]|null} */ (null), baseline: /** @type {string|null} */ (null),
    /** `--name value` options left for the suites that declare them. */
    suiteOptions: /** @type {Record<string, string>} */ ({}),
  };
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
    } else if (a === '--servers' || a.startsWith('--servers=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const list = (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      o.servers = list;
      const bad = list.filter((x) => !SERVER_IDS.includes(/** @type {any} */ (x)));
      if (!list.length || bad.length) throw new Error(`--servers needs a list of ${SERVER_IDS.join(', ')}; got '${v ?? ''}'`);
    } else if (a === '--baseline' || a.startsWith('--baseline=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v || v.startsWith('-')) throw new Error(`--baseline needs a git revision (HEAD~1, a branch, a commit hash), got '${v ?? ''}'`);
      o.baseline = v;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--') && a.length > 2) {
      const name = a.slice(2).split('=')[0];
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`option --${name} needs a value`);
      o.suiteOptions[name] = v;
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.suites.push(a);
  }
  if (o.servers?.includes('kvslab-base') && !o.baseline) throw new Error('--servers kvslab-base needs --baseline <git-ref>: the revision it runs');
  return o;
}

/**
 * @typedef {object} Suite
 * @property {string} name
 * @property {string} description
 * @property {import('./lib/servers.mjs').ServerId[]} [servers]  What it compares (default kvslab and Redis).
 * @property {number} [defaultRounds]  Rounds when --rounds is not given (default 3; --quick: 1).
 * @property {Record<string, string>} [options]  Its own --name value options, with their help.
 * @property {(ctx: BenchContext) => Promise<void>} run
 */

/** @returns {Promise<Map<string, Suite>>} */
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

/** @param {string} tool @param {string} flag */
function hasTool(tool, flag) {
  try {
    execFileSync(tool, [flag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** @param {Set<string>} servers  every server the chosen suites run */
function requireTools(servers) {
  const missing = [];
  if (servers.has('kvslab') && !existsSync(join(ROOT, 'dist', 'main.js'))) missing.push('kvslab is not built (run `make build`)');
  // redis-benchmark drives the throughput suites whatever they compare.
  for (const tool of ['redis-server', 'redis-benchmark']) {
    if (!hasTool(tool, '--version')) missing.push(`${tool} not found (\`make system-deps\` installs Redis)`);
  }
  if (missing.length) throw new Error(missing.join('\n'));
  // Only its own cells fail without memcached: the other servers' figures are still worth having.
  if (servers.has('memcached') && !hasTool('memcached', '-V')) {
    console.log('warning: memcached not found (`make bench-deps` installs it): its cells will show errors');
  }
}

/**
 * The servers a suite runs here: its own list, with kvslab-base next to
 * kvslab when there is a baseline, cut down to --servers (where kvslab also
 * brings kvslab-base along).
 * @param {Suite} suite
 * @param {string[]|null} only
 * @param {boolean} baseline
 */
function suiteServers(suite, only, baseline) {
  const own = suite.servers ?? ['kvslab', 'redis'];
  const all = baseline ? withBaseline(own) : own;
  const keep = only && baseline ? withBaseline(/** @type {any} */ (only)) : only;
  return all.filter((id) => !keep || keep.includes(id));
}

const stamp = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const suites = await loadSuites();
  if (opts.list) {
    for (const s of suites.values()) {
      console.log(`${s.name.padEnd(18)} ${s.description ?? ''}`);
      console.log(`${''.padEnd(18)} servers: ${(s.servers ?? ['kvslab', 'redis']).join(', ')}; ${s.defaultRounds ?? 3} round(s) by default`);
      for (const [k, help] of Object.entries(s.options ?? {})) console.log(`${''.padEnd(18)} --${k} ${help}`);
    }
    console.log('\nWith --baseline <git-ref>, every suite that runs kvslab also runs kvslab-base: kvslab at that revision, built in a temporary worktree.');
    return;
  }
  // Default order: the headline numbers first, the memory-hungry and long suites last.
  const preferred = ['throughput', 'pipeline-scaling', 'memory', 'growth', 'eviction'];
  const rank = (n) => (preferred.includes(n) ? preferred.indexOf(n) : preferred.length);
  const chosen = opts.suites.length ? opts.suites : [...suites.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const unknown = chosen.filter((n) => !suites.has(n));
  if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')}; available: ${[...suites.keys()].join(', ')}`);
  for (const name of Object.keys(opts.suiteOptions)) {
    if (!chosen.some((n) => suites.get(n)?.options?.[name])) throw new Error(`unknown option --${name} (not an option of ${chosen.join(', ')})`);
  }
  const used = new Set(chosen.flatMap((n) => suiteServers(/** @type {Suite} */ (suites.get(n)), opts.servers, Boolean(opts.baseline))));
  requireTools(used);
  if (opts.baseline && !used.has('kvslab-base')) console.log(`warning: --baseline ${opts.baseline}: none of ${chosen.join(', ')} runs kvslab here, so the baseline is not built`);
  // Built before anything is measured (and before the quiet wait of the first round).
  const base = used.has('kvslab-base') ? await prepareBaseline(/** @type {string} */ (opts.baseline), (s) => console.log(s)) : null;
  useBaseline(base);
  /** What the results say about the baseline: the revision, and what kvslab itself is. */
  const baseRecord = base && { ref: base.ref, sha: base.sha, short: base.short, subject: base.subject, version: base.version, against: workingRevision() };

  const roundsOf = (/** @type {Suite} */ s) => opts.rounds ?? (opts.quick ? 1 : s.defaultRounds ?? 3);
  const quietWait = opts.quietWait ?? (opts.quick ? 2 : 5);
  const pinned = pinSelf();
  const machine = await machineInfo({ redis: redisVersion(), memcached: used.has('memcached') ? memcachedVersion() : undefined });
  const others = [...(base ? [`${serverLabel('kvslab-base')} (${base.ref})`] : []), `Redis ${machine.redis}`, ...(used.has('memcached') ? [`memcached ${machine.memcached}`] : []), ...(used.has('ceiling') ? ['the Node.js ceiling'] : [])];
  const roundsText = [...new Set(chosen.map((n) => roundsOf(/** @type {Suite} */ (suites.get(n)))))].join('/');
  console.log(`kvslab ${machine.kvslab} vs ${others.join(', ')}: ${chosen.join(', ')}; ${roundsText} round(s)${opts.quick ? ', quick' : ''}`);
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${(Number(machine.memoryBytes) / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}; pinning: ${PINNING && pinned ? machine.pinning : 'none'}`);
  if (!(PINNING && pinned)) machine.pinning = 'none';
  machine.serverOptions = COMMON_ARGS.join(' ');

  const resultsDir = join(BENCH, 'results');
  mkdirSync(join(resultsDir, 'latest'), { recursive: true });
  const t0 = Date.now();
  for (const name of chosen) {
    const suite = /** @type {Suite} */ (suites.get(name));
    const rounds = roundsOf(suite);
    const servers = suiteServers(suite, opts.servers, Boolean(base));
    const options = Object.fromEntries(Object.entries(opts.suiteOptions).filter(([k]) => suite.options?.[k]));
    console.log(`\n== ${name}: ${suite.description ?? ''}`);
    if (!servers.length) {
      console.log(`[${name}] skipped: it runs none of --servers ${opts.servers?.join(',')}`);
      continue;
    }
    const started = new Date();
    const ctx = new BenchContext({
      suite: name, rounds, quick: opts.quick, log: (s) => console.log(s), quietWaitMs: quietWait * 1000, servers, options,
    });
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
      servers: ctx.servers,
      ...(ctx.servers.includes('kvslab-base') ? { baseline: baseRecord } : {}),
      options,
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
  if (base) {
    removeBaseline();
    console.log(`baseline: removed the worktree of kvslab@${base.short}`);
  }
  if (opts.report) {
    const out = await renderReport();
    console.log(`report: ${out.markdown.slice(ROOT.length + 1)}${out.charts.length ? `, charts: ${out.charts.map((c) => c.slice(ROOT.length + 1)).join(', ')}` : ''}`);
  }
}

async function stopAll() {
  await Promise.allSettled([...live].map((s) => s.stop()));
  removeBaseline();
}
// Whatever way the run ends, the baseline worktree goes (a no-op once removed).
process.on('exit', removeBaseline);
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
