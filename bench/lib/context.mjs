// The object a suite's run(ctx) receives: rounds that alternate the two
// servers, figure bookkeeping (samples per round, errors kept per cell), and
// the measuring helpers suites share.

import { startServer } from './servers.mjs';
import { runBenchmark } from './redis-benchmark.mjs';
import { median } from './format.mjs';
import { cpuSnapshot, otherLoad, waitQuiet } from './machine.mjs';

/** @typedef {import('./format.mjs').Figure} Figure */
/** @typedef {import('./servers.mjs').RunningServer} RunningServer */

export const SERVER_IDS = /** @type {const} */ (['kvslab', 'redis']);
const LABEL = { kvslab: 'kvslab', redis: 'Redis' };

/** Servers still running, stopped on Ctrl-C or a crash of the harness. */
export const live = new Set();

export class BenchContext {
  /**
   * @param {{ suite: string, rounds: number, quick: boolean, log: (s: string) => void, quietWaitMs?: number }} o
   *   `quietWaitMs`: how long each server's run may wait for the machine to be idle.
   */
  constructor({ suite, rounds, quick, log, quietWaitMs = 0 }) {
    this.suite = suite;
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
   * @param {string} key
   * @param {{ label: string, unit: string, better: 'higher'|'lower', params?: Record<string, string|number> }} meta
   */
  figure(key, meta) {
    if (!this.figures.has(key)) {
      this.figures.set(key, {
        key, label: meta.label, unit: meta.unit, better: meta.better, params: meta.params ?? {},
        results: { kvslab: { samples: [], median: null, errors: [] }, redis: { samples: [], median: null, errors: [] } },
        ratio: null,
      });
    }
    return key;
  }

  /** @param {string} key @param {'kvslab'|'redis'} server @param {number} value */
  sample(key, server, value) {
    this.#get(key).results[server].samples.push(value);
  }

  /** @param {string} key @param {'kvslab'|'redis'} server @param {unknown} err */
  error(key, server, err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
    this.#get(key).results[server].errors.push(msg || 'failed');
  }

  #get(key) {
    const f = this.figures.get(key);
    if (!f) throw new Error(`figure ${key} used before ctx.figure() declared it`);
    return f;
  }

  /**
   * Runs `body` for each round on a fresh kvslab, then a fresh Redis (A B A B),
   * started with the same extra options. A server that fails to start, or a
   * body that throws, fails that round's still-missing figures of that server.
   * @param {(srv: RunningServer, round: number) => Promise<void>} body
   * @param {{ extra?: string[], figures?: string[], tag?: string }} [opts]  `figures`: keys
   *   the body will fill, so a failed start still shows up in their cells;
   *   `tag` names this series of rounds in the progress lines.
   */
  async eachRound(body, opts = {}) {
    for (let round = 1; round <= this.rounds; round++) {
      const parts = [];
      for (const id of SERVER_IDS) {
        if (this.quietWaitMs > 0) await waitQuiet(this.quietWaitMs);
        const t0 = Date.now();
        const cpu0 = cpuSnapshot();
        const before = this.#counts(id);
        let srv = null;
        try {
          srv = await startServer(id, opts.extra ?? []);
          live.add(srv);
          await body(srv, round);
        } catch (e) {
          const msg = srv ? `round failed: ${e instanceof Error ? e.message : e}` : `server did not start: ${e instanceof Error ? e.message : e}`;
          for (const key of opts.figures ?? [...this.figures.keys()]) {
            const f = this.figures.get(key);
            if (f && f.results[id].samples.length + f.results[id].errors.length < round) this.error(key, id, msg);
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
        parts.push(`${LABEL[id]} ${seconds.toFixed(1)} s, ${after.samples - before.samples} ok${errs ? `, ${errs} failed` : ''}${busy}`);
      }
      this.log(`[${this.suite}${opts.tag ? ` ${opts.tag}` : ''}] round ${round}/${this.rounds}: ${parts.join(' · ')}`);
    }
  }

  #counts(id) {
    let samples = 0;
    let errors = 0;
    for (const f of this.figures.values()) {
      samples += f.results[id].samples.length;
      errors += f.results[id].errors.length;
    }
    return { samples, errors };
  }

  /**
   * Runs `fn` and records each returned value under its figure; if it throws,
   * every one of those figures gets the error for this round.
   * @param {RunningServer} srv
   * @param {string[]} keys
   * @param {() => Promise<number[]>} fn
   */
  async measure(srv, keys, fn) {
    try {
      if (!srv.alive()) throw new Error(`server is gone: ${srv.output().trim().split('\n').slice(-1)[0] ?? ''}`);
      const values = await fn();
      keys.forEach((k, i) => this.sample(k, srv.id, values[i]));
    } catch (e) {
      let err = e;
      if (!srv.alive()) err = new Error(`server died: ${e instanceof Error ? e.message : e}`);
      for (const k of keys) this.error(k, srv.id, err);
    }
  }

  /**
   * Declares the figures of a redis-benchmark test (see benchmark()).
   * @param {{ key: string, label: string, params?: Record<string, string|number>, latencies?: boolean }} t
   * @returns {string[]}
   */
  benchmarkFigures(t) {
    const keys = [this.figure(`${t.key}.rps`, { label: t.label, unit: 'req/s', better: 'higher', params: { ...t.params, metric: 'rps' } })];
    if (t.latencies === false) return keys;
    for (const m of ['p50', 'p99']) {
      keys.push(this.figure(`${t.key}.${m}`, { label: `${t.label}, ${m} latency`, unit: 'ms', better: 'lower', params: { ...t.params, metric: m } }));
    }
    return keys;
  }

  /**
   * One redis-benchmark test recorded as three figures: requests/s, p50 and
   * p99 latency (only requests/s with `latencies: false`). A short warm-up
   * run (which also warms kvslab's JIT) sizes the measured run to about
   * `seconds` long; only the measured run is recorded.
   * @param {RunningServer} srv
   * @param {{ key: string, label: string, params?: Record<string, string|number>, seconds: number,
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

  /** Medians and ratios, once every round has run. */
  finish() {
    for (const f of this.figures.values()) {
      for (const id of SERVER_IDS) f.results[id].median = median(f.results[id].samples);
      const k = f.results.kvslab.median;
      const r = f.results.redis.median;
      f.ratio = k !== null && r !== null && r !== 0 ? k / r : null;
    }
    return [...this.figures.values()];
  }
}
