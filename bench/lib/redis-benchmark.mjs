// Running redis-benchmark (pinned to the client core) and reading its --csv
// output: one row per test with requests/s and latency percentiles in ms.

import { spawn } from 'node:child_process';
import { pinArgs } from './machine.mjs';
import { lastLines } from './load.mjs';

/**
 * @typedef {object} BenchRow
 * @property {string} test
 * @property {number} rps
 * @property {number} avg   ms
 * @property {number} min   ms
 * @property {number} p50   ms
 * @property {number} p95   ms
 * @property {number} p99   ms
 * @property {number} max   ms
 */

/**
 * Parses redis-benchmark --csv output (header line, then quoted rows).
 * @param {string} text
 * @returns {BenchRow[]}
 */
export function parseCsv(text) {
  const rows = [];
  let header = null;
  for (const line of text.split('\n')) {
    const cells = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'));
    if (cells.length < 2) continue;
    if (cells[0] === 'test') { header = cells; continue; }
    if (!header) continue;
    const rec = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    const num = (k) => Number(rec[k]);
    rows.push({
      test: rec.test, rps: num('rps'), avg: num('avg_latency_ms'), min: num('min_latency_ms'),
      p50: num('p50_latency_ms'), p95: num('p95_latency_ms'), p99: num('p99_latency_ms'), max: num('max_latency_ms'),
    });
  }
  return rows;
}

/**
 * Runs one redis-benchmark invocation producing exactly one test row.
 * @param {number} port
 * @param {{ clients?: number, requests: number, pipeline?: number, size?: number, keyspace?: number,
 *           tests?: string, command?: string[], timeoutMs?: number, cluster?: boolean }} o
 *   Either `tests` (a -t name such as "get") or `command` (a custom command line); `cluster`: --cluster.
 * @returns {Promise<BenchRow>}
 */
export function runBenchmark(port, o) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(o.clients ?? 50), '-n', String(o.requests),
    '-P', String(o.pipeline ?? 1), '--csv'];
  if (o.size !== undefined) args.push('-d', String(o.size));
  if (o.keyspace !== undefined) args.push('-r', String(o.keyspace));
  if (o.tests) args.push('-t', o.tests);
  // A cluster: the nodes are found from this one, each key sent to its slot's owner.
  if (o.cluster) args.push('--cluster');
  if (o.command) args.push(...o.command);
  const [file, ...argv] = [...pinArgs('client'), 'redis-benchmark', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    // The CONFIG GET warning is harmless; keep the rest for error messages.
    child.stderr.on('data', (d) => { err = (err + d).slice(-20_000); });
    const timeoutMs = o.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-benchmark timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const rows = parseCsv(out);
      const noise = /^WARNING: Could not fetch server CONFIG$/;
      const problems = err.split('\n').filter((l) => l.trim() && !noise.test(l.trim())).join('\n');
      if (code !== 0 || rows.length !== 1 || !(rows[0].rps > 0)) {
        const msg = problems ? lastLines(problems, 1).replace(/^Error from server: /, '') : `redis-benchmark exited ${code} with ${rows.length} rows`;
        reject(new Error(msg));
        return;
      }
      resolve(rows[0]);
    });
  });
}
