#!/usr/bin/env node
// Renders bench/results/latest/*.json into SVG charts (vega-lite compiled to
// vega, rendered headless in Node) under bench/results/charts/, and rewrites
// bench/RESULTS.md with the tables and links to the charts.
//
//   node bench/report.mjs

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { BENCH } from './lib/machine.mjs';
import { markdownTable } from './lib/format.mjs';

/** @typedef {import('./lib/format.mjs').Figure} Figure */

const LATEST = join(BENCH, 'results', 'latest');
const CHARTS = join(BENCH, 'results', 'charts');
const SERVERS = [['kvslab', 'kvslab'], ['redis', 'Redis']];
const COLORS = { domain: ['kvslab', 'Redis'], range: ['#2f6fb0', '#c0392b'] };

/**
 * Median values as chart rows, one per figure and server, skipping failed cells.
 * @param {Figure[]} figures
 * @param {(f: Figure) => boolean} keep
 */
function rows(figures, keep) {
  /** @type {Array<Record<string, any>>} */
  const out = [];
  for (const f of figures.filter(keep)) {
    for (const [id, label] of SERVERS) {
      const v = f.results[id].median;
      if (v !== null && Number.isFinite(v)) out.push({ ...f.params, figure: f.label, server: label, value: v });
    }
  }
  return out;
}

/** @param {object} spec vega-lite */
async function toSvg(spec) {
  const compiled = vl.compile(/** @type {any} */ ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14 } },
    ...spec,
  })).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** @type {Record<string, (r: any) => Array<{ file: string, title: string, spec: object }>>} */
const CHART_MAKERS = {
  'pipeline-scaling': (r) => {
    const data = rows(r.figures, (f) => f.params.metric === 'rps');
    if (!data.length) return [];
    return [{
      file: 'pipeline-scaling.svg',
      title: 'Requests/s by pipeline depth',
      spec: {
        title: 'Requests/s by pipeline depth (64 B values, 50 clients)',
        data: { values: data },
        facet: { column: { field: 'op', type: 'nominal', title: null, sort: ['GET', 'SET'] } },
        spec: {
          width: 300, height: 240,
          layer: [
            { mark: { type: 'line', point: true } },
            { mark: { type: 'text', dy: -9, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.3~s' } } },
          ],
          encoding: {
            x: { field: 'pipeline', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [1, 4, 16, 64, 256] }, title: 'pipeline depth' },
            y: { field: 'value', type: 'quantitative', title: 'requests/s', axis: { format: '~s' } },
            color: { field: 'server', type: 'nominal', scale: COLORS, title: null },
          },
        },
      },
    }];
  },
  memory: (r) => {
    const data = rows(r.figures, (f) => f.params.metric === 'perKey').map((d) => ({ ...d, values: d.size === 64 ? '64 B values' : '1 KiB values' }));
    if (!data.length) return [];
    return [{
      file: 'memory.svg',
      title: 'Memory per key',
      spec: {
        title: `Memory per key (RSS growth / ${Number(r.settings?.keys ?? 0).toLocaleString('en-US')} keys)`,
        data: { values: data },
        width: 320, height: 240,
        encoding: {
          x: { field: 'values', type: 'nominal', title: null, axis: { labelAngle: 0 }, sort: ['64 B values', '1 KiB values'] },
          xOffset: { field: 'server', type: 'nominal', sort: ['kvslab', 'Redis'] },
          y: { field: 'value', type: 'quantitative', title: 'bytes per key' },
          color: { field: 'server', type: 'nominal', scale: COLORS, title: null },
        },
        layer: [
          { mark: 'bar' },
          { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.0f' } } },
        ],
      },
    }];
  },
  throughput: (r) => {
    const out = [];
    const order = r.figures.filter((f) => f.params.metric === 'rps').map((f) => f.label);
    const rps = rows(r.figures, (f) => f.params.metric === 'rps');
    const bars = (values, xTitle, fmt) => ({
      data: { values },
      width: 420,
      encoding: {
        y: { field: 'figure', type: 'nominal', title: null, sort: order, axis: { labelLimit: 320 } },
        yOffset: { field: 'server', type: 'nominal', sort: ['kvslab', 'Redis'] },
        x: { field: 'value', type: 'quantitative', title: xTitle, axis: fmt === '~s' ? { format: fmt } : {} },
        color: { field: 'server', type: 'nominal', scale: COLORS, title: null },
      },
      layer: [
        { mark: 'bar' },
        { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: fmt === '~s' ? '.3~s' : '.3f' } } },
      ],
    });
    if (rps.length) {
      out.push({ file: 'throughput.svg', title: 'Throughput (requests/s)', spec: { title: 'Requests/s (redis-benchmark, 50 clients)', ...bars(rps, 'requests/s', '~s') } });
    }
    const p99 = rows(r.figures, (f) => f.params.metric === 'p99').map((d) => ({ ...d, figure: d.figure.replace(/, p99 latency$/, '') }));
    if (p99.length) {
      out.push({ file: 'throughput-p99.svg', title: 'p99 latency (ms)', spec: { title: 'p99 latency, ms (lower is better)', ...bars(p99, 'ms', '.2f') } });
    }
    return out;
  },
};

function readLatest() {
  if (!existsSync(LATEST)) return [];
  return readdirSync(LATEST).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(LATEST, f), 'utf8')));
}

const ORDER = ['throughput', 'pipeline-scaling', 'memory'];

/**
 * Renders every chart and rewrites RESULTS.md from the latest results.
 * @returns {Promise<{ markdown: string, charts: string[] }>}
 */
export async function renderReport() {
  const results = readLatest().sort((a, b) => {
    const ia = ORDER.indexOf(a.suite);
    const ib = ORDER.indexOf(b.suite);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.suite.localeCompare(b.suite);
  });
  mkdirSync(CHARTS, { recursive: true });
  const charts = [];
  const md = [];
  md.push('# kvslab vs Redis 7: benchmark results', '');
  md.push('Generated by `make bench` (`node bench/run.mjs`, then `node bench/report.mjs`) from `bench/results/latest/*.json`; do not edit by hand.', '');
  if (!results.length) {
    md.push('No results yet: run `make bench`.');
  } else {
    const newest = results.reduce((a, b) => (a.finishedAt > b.finishedAt ? a : b));
    const m = newest.machine;
    md.push('## Machine', '');
    md.push(`- Date: ${newest.finishedAt.slice(0, 10)} (latest suite finished ${newest.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')})`);
    md.push(`- CPU: ${m.cores} cores, ${m.cpu}`);
    md.push(`- Memory: ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
    md.push(`- OS: ${m.os}`);
    md.push(`- Node ${m.node}, kvslab ${m.kvslab}`);
    md.push(`- Redis ${m.redis} (Debian package), ${m.redisBenchmark}`);
    md.push(`- Pinning: ${m.pinning}`);
    if (m.serverOptions) md.push(`- Both servers started with: \`${m.serverOptions}\` (plus port, bind 127.0.0.1, loglevel warning; Redis also \`--save '' --appendonly no\`)`);
    md.push('');
    md.push('## How to read', '');
    md.push('Every suite starts a fresh kvslab and a fresh `redis-server --save \'\' --appendonly no` per round, both on loopback, and drives them with the same load: kvslab, then Redis, in each round. Each cell is the median over the rounds; a cell that says `error:` is a figure kvslab (or Redis) could not produce, for example a command kvslab does not implement yet. The ratio is kvslab / Redis: for requests/s and keys/s below 1× means kvslab is slower; for ms, MiB and bytes above 1× means kvslab takes longer or uses more.', '');
    for (const r of results) {
      md.push(`## ${r.suite}`, '');
      md.push(`${r.description}.`, '');
      const settings = Object.entries(r.settings ?? {}).map(([k, v]) => `\`${k}=${Array.isArray(v) ? v.join('/') : v}\``).join(', ');
      md.push(`Run ${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, ${r.rounds} round${r.rounds > 1 ? 's' : ''}${r.quick ? ' (quick run: smaller loads)' : ''}, ${r.durationSeconds} s${settings ? `; settings: ${settings}` : ''}.`, '');
      if (r.machine?.kvslab !== m.kvslab || r.machine?.redis !== m.redis) {
        md.push(`(Measured with kvslab ${r.machine?.kvslab} and Redis ${r.machine?.redis}.)`, '');
      }
      const loads = (r.roundLog ?? []).map((x) => x.otherLoadCores).filter((x) => typeof x === 'number');
      if (loads.length) {
        const avg = loads.reduce((a, b) => a + b, 0) / loads.length;
        const max = Math.max(...loads);
        md.push(`Other processes on the machine kept ${avg.toFixed(2)} cores busy on average during the runs (at most ${max.toFixed(2)} in one server's run)${max >= 0.25 ? ': the figures of this suite are noisier than usual' : ''}.`, '');
      }
      if (r.suiteError) md.push(`**The suite stopped early:** ${r.suiteError}`, '');
      const maker = CHART_MAKERS[r.suite];
      for (const c of maker ? maker(r) : []) {
        try {
          const svg = await toSvg(c.spec);
          const file = join(CHARTS, c.file);
          writeFileSync(file, svg);
          charts.push(file);
          md.push(`![${c.title}](results/charts/${c.file})`, '');
        } catch (e) {
          md.push(`(chart ${c.file} could not be rendered: ${e instanceof Error ? e.message : e})`, '');
        }
      }
      md.push(markdownTable(r.figures), '');
    }
  }
  const markdown = join(BENCH, 'RESULTS.md');
  writeFileSync(markdown, `${md.join('\n').trimEnd()}\n`);
  return { markdown, charts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  renderReport().then(
    (out) => console.log(`wrote ${out.markdown}${out.charts.length ? ` and ${out.charts.length} chart(s)` : ''}`),
    (e) => {
      console.error(`report: ${e instanceof Error ? e.stack : e}`);
      process.exit(1);
    },
  );
}
