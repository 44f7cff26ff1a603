// The object a suite's run(ctx) receives: rounds that alternate the suite's
// servers, figure bookkeeping (samples per round, errors kept per cell), and
// the measuring helpers suites share.

import { SERVER_IDS, serverLabel, startServer, withBaseline } from './servers.mjs';
import { runBenchmark } from './redis-benchmark.mjs';
import { median, ratioTo } from './format.mjs';
import { cpuSnapshot, otherLoad, waitQuiet } from './machine.mjs';

/** @typedef {import('./format.mjs').Figure} Figure */
/** @typedef {import('./servers.mjs').RunningServer} RunningServer */
/** @typedef {import('./servers.mjs').ServerId} ServerId */

export { SERVER_IDS };

/** Servers still running, stopped on Ctrl-C or a crash of the harness. */
export const live = new Set();

export class BenchContext {
  /**
   * @param {{ suite: string, rounds: number, quick: boolean, log: (s: string) => void, quietWaitMs?: number,
   *           servers?: ServerId[], options?: Record<string, string> }} o
   *   `quietWaitMs`: how long each server's run may wait for the machine to be idle;
   *   `servers`: the servers this suite runs, in round order (default kvslab and Redis);
   *   `options`: the suite's own command-line options (`--policies ...`), as given.
   */
  constructor({ suite, rounds, quick, log, quietWaitMs = 0, servers = ['kvslab', 'redis'], options = {} }) {
    this.suite = suite;
    /** @type {ServerId[]} */
    this.servers = SERVER_IDS.filter((id) => servers.includes(id));
    this.options = options;
    this.quietWaitMs = quietWaitMs;
    this.rounds = rounds;
    this.quick = quick;
    this.log = log;
    /** @type {Map<string, Figure>} */
    this.figures = new Map();
    /** Free-form facts about the run a suite wants kept (keyspace, request counts...). */
    this.settings = /** @type {Record<string, unknown>} */ ({});
    /** One entry per server per round: how long it took and how busy the rest of the machine was. */
    this.roundLog = /** @type {Array<{ series: string, round: number, server: string, seconds: number, otherLoadCores: number|null }>} */ ([]);
  }

  /**
   * Declares a figure (idempotent); table order is declaration order.
   * `servers`: the servers it is measured on (default: all of the suite's);
   * the others show '–' in its row, and measure() skips them. Naming kvslab
   * names kvslab-base too (the baseline build measures what kvslab does).
   * `noRatio`: a figure whose kvslab/other ratio means nothing (a difference).
   * @param {string} key
   * @param {{ label: string, unit: string, better: 'higher'|'lower', params?: Record<string, string|number>,
   *           servers?: ServerId[], noRatio?: boolean }} meta
   */
  figure(key, meta) {
    if (!this.figures.has(key)) {
      const on = this.servers.filter((id) => withBaseline(meta.servers ?? this.servers).includes(id));
      this.figures.set(key, {
        key, label: meta.label, unit: meta.unit, better: meta.better, params: meta.params ?? {},
        results: Object.fromEntries(on.map((id) => [id, { samples: [], median: null, errors: [] }])),
        ratio: null,
        ...(meta.noRatio ? { noRatio: true } : {}),
      });
    }
    return key;
  }

  /** Whether figure `key` is measured on server `id`. @param {string} key @param {string} id */
  runsOn(key, id) {
    return Boolean(this.#get(key).results[id]);
  }

  /** @param {string} key @param {ServerId} server @param {number} value */
  sample(key, server, value) {
    this.#side(key, server).samples.push(value);
  }

  /** @param {string} key @param {ServerId} server @param {unknown} err */
  error(key, server, err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
    this.#side(key, server).errors.push(msg || 'failed');
  }

  #side(key, server) {
    const side = this.#get(key).results[server];
    if (!side) throw new Error(`figure ${key} is not measured on ${server}`);
    return side;
  }

  #get(key) {
    const f = this.figures.get(key);
    if (!f) throw new Error(`figure ${key} used before ctx.figure() declared it`);
    return f;
  }

  /**
   * Runs `body` for each round on a fresh server of each of the suite's kinds
   * in turn (kvslab, Redis, ..., kvslab, Redis, ...). A server that fails to
   * start, or a body that throws, fails that round's still-missing figures of
   * that server.
   * @param {(srv: RunningServer, round: number) => Promise<void>} body
   * @param {{ extra?: string[], args?: Partial<Record<ServerId, string[]>>, servers?: ServerId[], figures?: string[], tag?: string }} [opts]
   *   `extra`: Redis-style options given to kvslab and Redis alike; `args`: options for one
   *   kind only (kvslab's go to kvslab-base too, unless it has its own); `servers`: run only
   *   these of the suite's servers (kvslab: with kvslab-base); `figures`: keys the body
   *   will fill, so a failed start still shows up in their cells; `tag` names this series
   *   of rounds in the progress lines.
   */
  async eachRound(body, opts = {}) {
    const servers = this.servers.filter((id) => !opts.servers || withBaseline(opts.servers).includes(id));
    for (let round = 1; round <= this.rounds; round++) {
      const parts = [];
      for (const id of servers) {
        if (this.quietWaitMs > 0) await waitQuiet(this.quietWaitMs);
        const t0 = Date.now();
        const cpu0 = cpuSnapshot();
        const before = this.#counts(id);
        let srv = null;
        try {
          const args = opts.args?.[id] ?? (id === 'kvslab-base' ? opts.args?.kvslab : undefined);
          srv = await startServer(id, { extra: opts.extra, args });
          live.add(srv);
          await body(srv, round);
        } catch (e) {
          const msg = srv ? `round failed: ${e instanceof Error ? e.message : e}` : `did not start: ${e instanceof Error ? e.message : e}`;
          for (const key of opts.figures ?? [...this.figures.keys()]) {
            const f = this.figures.get(key);
            const side = f?.results[id];
            if (side && side.samples.length + side.errors.length < round) this.error(key, id, msg);
          }
        } finally {
          if (srv) {
            await srv.stop();
            live.delete(srv);
          }
        }
        const after = this.#counts(id);
        const errs = after.errors - before.errors;
        const seconds = (Date.now() - t0) / 1000;
        const other = otherLoad(cpu0, cpuSnapshot());
        this.roundLog.push({ series: opts.tag ?? '', round, server: id, seconds, otherLoadCores: other === null ? null : Math.round(other * 100) / 100 });
        const busy = other !== null && other >= 0.1 ? `, other processes busy ${other.toFixed(1)} cores` : '';
        parts.push(`${serverLabel(id)} ${seconds.toFixed(1)} s, ${after.samples - before.samples} ok${errs ? `, ${errs} failed` : ''}${busy}`);
      }
      this.log(`[${this.suite}${opts.tag ? ` ${opts.tag}` : ''}] round ${round}/${this.rounds}: ${parts.join(' · ')}`);
    }
  }

  #counts(id) {
    let samples = 0;
    let errors = 0;
    for (const f of this.figures.values()) {
      samples += f.results[id]?.samples.length ?? 0;
      errors += f.results[id]?.errors.length ?? 0;
    }
    return { samples, errors };
  }

  /**
   * Runs `fn` and records each returned value under its figure; if it throws,
   * every one of those figures gets the error for this round. Figures not
   * measured on this server are left out, and `fn` is not run at all when
   * none of `keys` is; a value of null or undefined means "not available"
   * (the cell shows '–' unless another round has it).
   * @param {RunningServer} srv
   * @param {string[]} keys
   * @param {() => Promise<Array<number|null|undefined>>} fn
   */
  async measure(srv, keys, fn) {
    const mine = keys.map((k) => this.runsOn(k, srv.id));
    if (!mine.some(Boolean)) return;
    try {
      if (!srv.alive()) throw new Error(`server is gone: ${srv.output().trim().split('\n').slice(-1)[0] ?? ''}`);
      const values = await fn();
      keys.forEach((k, i) => {
        const v = values[i];
        if (mine[i] && v !== null && v !== undefined) this.sample(k, srv.id, v);
      });
    } catch (e) {
      let err = e;
      if (!srv.alive()) err = new Error(`server died: ${e instanceof Error ? e.message : e}`);
      keys.forEach((k, i) => { if (mine[i]) this.error(k, srv.id, err); });
    }
  }

  /**
   * Declares the figures of a redis-benchmark test (see benchmark()).
   * `servers`: the servers it runs on (default: all of the suite's).
   * @param {{ key: string, label: string, params?: Record<string, string|number>, latencies?: boolean, servers?: ServerId[] }} t
   * @returns {string[]}
   */
  benchmarkFigures(t) {
    const { servers } = t;
    const keys = [this.figure(`${t.key}.rps`, { label: t.label, unit: 'req/s', better: 'higher', params: { ...t.params, metric: 'rps' }, servers })];
    if (t.latencies === false) return keys;
    for (const m of ['p50', 'p99']) {
      keys.push(this.figure(`${t.key}.${m}`, { label: `${t.label}, ${m} latency`, unit: 'ms', better: 'lower', params: { ...t.params, metric: m }, servers }));
    }
    return keys;
  }

  /**
   * One redis-benchmark test recorded as three figures: requests/s, p50 and
   * p99 latency (only requests/s with `latencies: false`). A short warm-up
   * run (which also warms kvslab's JIT) sizes the measured run to about
   * `seconds` long; only the measured run is recorded. Nothing runs on a
   * server the test's figures leave out (`servers`).
   * @param {RunningServer} srv
   * @param {{ key: string, label: string, params?: Record<string, string|number>, seconds: number, servers?: ServerId[],
   *           clients?: number, pipeline?: number, size?: number, keyspace?: number,
   *           tests?: string, command?: string[], maxRequests?: number, latencies?: boolean }} t
   */
  async benchmark(srv, t) {
    const keys = this.benchmarkFigures(t);
    await this.measure(srv, keys, async () => {
      const clients = t.clients ?? 50;
      const pipeline = t.pipeline ?? 1;
      const inFlight = clients * pipeline;
      const { tests, command, size, keyspace } = t;
      const warm = await runBenchmark(srv.port, {
        clients, pipeline, tests, command, size, keyspace, requests: Math.max(10_000, inFlight * 10), timeoutMs: 60_000,
      });
      const requests = Math.round(Math.min(t.maxRequests ?? 20_000_000, Math.max(inFlight * 20, warm.rps * t.seconds)));
      const row = await runBenchmark(srv.port, {
        clients, pipeline, tests, command, size, keyspace, requests, timeoutMs: (t.seconds * 10 + 60) * 1000,
      });
      return [row.rps, row.p50, row.p99].slice(0, keys.length);
    });
  }

  /** Medians and ratios (kvslab over each other server, kvslab-base included), once every round has run. */
  finish() {
    for (const f of this.figures.values()) {
      for (const side of Object.values(f.results)) if (side) side.median = median(side.samples);
      f.ratios = {};
      for (const id of this.servers) if (id !== 'kvslab') f.ratios[id] = ratioTo(f, id);
      f.ratio = ratioTo(f, 'redis');
    }
    return [...this.figures.values()];
  }
}
