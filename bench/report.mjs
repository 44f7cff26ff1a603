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
import { markdownTable, columnsOf } from './lib/format.mjs';
import { SERVERS, SERVER_IDS, serverLabel, useBaseline } from './lib/servers.mjs';

/** @typedef {import('./lib/format.mjs').Figure} Figure */

const LATEST = join(BENCH, 'results', 'latest');
const CHARTS = join(BENCH, 'results', 'charts');
/** One colour per server, the same in every chart; a new server needs one here (the baseline build: kvslab's, lighter). */
const SERVER_COLORS = { kvslab: '#2f6fb0', 'kvslab-base': '#8fb8e0', redis: '#c0392b', memcached: '#27ae60', ceiling: '#8e8e8e' };

/**
 * The colour scale for the servers that appear in `data` (so a chart of an
 * older run has no legend entries for servers it did not have). By id: the
 * baseline's label depends on the run (kvslab@<sha>).
 * @param {Array<Record<string, any>>} data
 */
function colors(data) {
  const present = new Set(data.map((d) => d.serverId));
  const ids = SERVER_IDS.filter((id) => present.has(id));
  return { domain: ids.map(serverLabel), range: ids.map((id) => SERVER_COLORS[id] ?? '#555555') };
}

/**
 * Median values as chart rows, one per figure and server, skipping failed cells.
 * @param {Figure[]} figures
 * @param {(f: Figure) => boolean} keep
 */
function rows(figures, keep) {
  /** @type {Array<Record<string, any>>} */
  const out = [];
  for (const f of figures.filter(keep)) {
    for (const id of columnsOf([f]).servers) {
      const v = f.results[id]?.median ?? null;
      if (v !== null && Number.isFinite(v)) out.push({ ...f.params, figure: f.label, server: serverLabel(id), serverId: id, value: v });
    }
  }
  return out;
}

/** Server labels present in `data`, in the usual order. @param {Array<Record<string, any>>} data */
const serverOrder = (data) => colors(data).domain;

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
            color: { field: 'server', type: 'nominal', scale: colors(data), title: null },
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
          xOffset: { field: 'server', type: 'nominal', sort: serverOrder(data) },
          y: { field: 'value', type: 'quantitative', title: 'bytes per key' },
          color: { field: 'server', type: 'nominal', scale: colors(data), title: null },
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
        yOffset: { field: 'server', type: 'nominal', sort: serverOrder(values) },
        x: { field: 'value', type: 'quantitative', title: xTitle, axis: fmt === '~s' ? { format: fmt } : {} },
        color: { field: 'server', type: 'nominal', scale: colors(values), title: null },
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
  eviction: (r) => {
    const out = [];
    /** @type {Array<Record<string, any>>} */
    const hit = rows(r.figures, (f) => f.params.metric === 'hit').map((d) => ({ ...d, line: `${d.server} ${d.policy}` }));
    if (hit.length) {
      const sizes = [...new Set(hit.map((d) => d.maxmemoryMB))].sort((a, b) => a - b);
      out.push({
        file: 'eviction.svg',
        title: 'Hit ratio by maxmemory and policy',
        spec: {
          title: `Hit ratio, Zipf(${r.settings?.zipfAlpha ?? 0.99}) over ${Number(r.settings?.keys ?? 0).toLocaleString('en-US')} keys`,
          data: { values: hit },
          width: 420, height: 280,
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: {
            x: { field: 'maxmemoryMB', type: 'quantitative', scale: { type: 'log', base: 2, domain: [sizes[0], sizes[sizes.length - 1]] }, axis: { values: sizes }, title: 'maxmemory (MB)' },
            y: { field: 'value', type: 'quantitative', title: 'hit ratio (%)', scale: { zero: false } },
            color: { field: 'server', type: 'nominal', scale: colors(hit), title: 'server' },
            strokeDash: {
              field: 'policy', type: 'nominal', title: 'policy', sort: r.settings?.policies,
              scale: { range: [[1, 0], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 5]] },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 600, encode: { symbols: { update: { stroke: { value: '#444444' } } } } },
            },
            detail: { field: 'line', type: 'nominal' },
          },
        },
      });
    }
    const shift = rows(r.figures, (f) => f.params.metric === 'shift-after' || f.params.metric === 'shift-fresh');
    if (shift.length) {
      const diffs = new Map(rows(r.figures, (f) => f.params.metric === 'shift-diff').map((d) => [`${d.server} ${d.policy}`, d.value]));
      const data = shift.map((d) => {
        const diff = diffs.get(`${d.server} ${d.policy}`);
        return {
          ...d,
          run: d.metric === 'shift-after' ? 'after the shift' : 'fresh server',
          config: `${d.server} ${d.policy}${diff === undefined ? '' : ` (${diff > 0 ? '+' : ''}${diff.toFixed(2)} points)`}`,
        };
      });
      out.push({
        file: 'eviction-shift.svg',
        title: 'Hit ratio after a shift of value sizes',
        spec: {
          title: `Hit ratio after the value sizes shift, vs a fresh server (maxmemory ${r.settings?.shiftMaxmemoryMB ?? '?'} MB)`,
          data: { values: data },
          width: 420,
          encoding: {
            y: { field: 'config', type: 'nominal', title: null, axis: { labelLimit: 320 } },
            yOffset: { field: 'run', type: 'nominal', sort: ['after the shift', 'fresh server'] },
            x: { field: 'value', type: 'quantitative', title: 'hit ratio (%), last third of phase 2' },
            color: { field: 'server', type: 'nominal', scale: colors(data), title: null },
            opacity: { field: 'run', type: 'ordinal', sort: ['after the shift', 'fresh server'], scale: { domain: ['after the shift', 'fresh server'], range: [1, 0.45] }, title: null },
          },
          layer: [
            { mark: 'bar' },
            { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.2f' }, opacity: { value: 1 } } },
          ],
        },
      });
    }
    return out;
  },
  tensor: (r) => {
    const data = rows(r.figures, (f) => f.params.metric === 'ttft').map((d) => ({ ...d, run: d.mode === 'cold' ? 'cold prefill' : 'prefix from kvslab' }));
    if (!data.length) return [];
    return [{
      file: 'tensor-ttft.svg',
      title: 'Time to first token of the toy model, cold and warm',
      spec: {
        title: 'Toy transformer: time to first token by prompt length (log scales)',
        data: { values: data },
        width: 360, height: 240,
        layer: [
          { mark: { type: 'line', point: true } },
          { mark: { type: 'text', dy: -9, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.3~r' } } },
        ],
        encoding: {
          x: { field: 'tokens', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [256, 512, 1024, 2048, 4096] }, title: 'prompt tokens' },
          y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'ms to first token' },
          color: { field: 'run', type: 'nominal', title: null },
        },
      },
    }];
  },
  'warm-restart': (r) => {
    const runs = { cold: 'cold prefill', 'warm-before': 'prefix from kvslab, before the restart', 'warm-after': 'prefix from kvslab, after the restart' };
    const kvslab = (metric) => rows(r.figures, (f) => f.params.metric === metric).filter((d) => d.serverId === 'kvslab');
    const ratios = new Map(kvslab('ratio').map((d) => [d.tokens, d.value]));
    const loads = new Map(kvslab('load').map((d) => [`${d.run} ${d.tokens}`, d.value]));
    /** The prefix's load after over before: the part of the warm time a restarted server could change. */
    const loadRatio = (n) => {
      const a = loads.get(`warm-after ${n}`);
      const b = loads.get(`warm-before ${n}`);
      return a !== undefined && b ? `|load after/before ${(a / b).toFixed(2)}×` : '';
    };
    // Label lines (split at '|' by the axis): the prompt, then how warm-after compares with warm-before.
    const prompt = (n) => `${n}-token prompt${ratios.has(n) ? `|after/before ${ratios.get(n).toFixed(2)}×` : ''}${loadRatio(n)}`;
    // kvslab's own figures only: the runs, not the servers, are the bars here.
    const data = kvslab('ttft').map((d) => ({ ...d, run: runs[d.run] ?? d.run, prompt: prompt(d.tokens) }));
    if (!data.length) return [];
    // A log scale has no zero: bars start at the power of ten below the smallest value.
    const floor = 10 ** Math.floor(Math.log10(Math.min(...data.map((d) => d.value))));
    const ceil = 10 ** Math.ceil(Math.log10(Math.max(...data.map((d) => d.value)) * 1.2));
    const prompts = [...new Set(data.map((d) => d.tokens))].sort((a, b) => a - b).map(prompt);
    return [{
      file: 'warm-restart.svg',
      title: 'Time to first token of the toy model, cold and warm, before and after a restart',
      spec: {
        title: 'Toy transformer: time to first token across a kvslab restart (log scale)',
        data: { values: data },
        width: 540, height: 260,
        encoding: {
          x: { field: 'prompt', type: 'nominal', title: null, sort: prompts, axis: { labelAngle: 0, labelLimit: 300, labelExpr: "split(datum.label, '|')" } },
          xOffset: { field: 'run', type: 'nominal', sort: Object.values(runs) },
          y: { field: 'value', type: 'quantitative', title: 'ms to first token', scale: { type: 'log', domain: [floor, ceil] } },
          color: { field: 'run', type: 'nominal', title: null, sort: Object.values(runs), scale: { domain: Object.values(runs), range: ['#8e8e8e', '#2f6fb0', '#8fb8e0'] }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 } },
        },
        layer: [
          { mark: 'bar', encoding: { y2: { datum: floor } } },
          { mark: { type: 'text', dy: -6, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.3~r' }, color: { value: '#333333' } } },
        ],
      },
    }];
  },
  growth: (r) => {
    const order = ['p99', 'p99.9', 'max'];
    const data = rows(r.figures, (f) => order.includes(String(f.params.metric))).map((d) => ({ ...d, value: Math.max(d.value, 0.001) }));
    if (!data.length) return [];
    // A log scale has no zero: bars start at the power of ten below the smallest value.
    const floor = 10 ** Math.floor(Math.log10(Math.min(...data.map((d) => d.value))));
    const ceil = 10 ** Math.ceil(Math.log10(Math.max(...data.map((d) => d.value)) * 1.2));
    return [{
      file: 'growth.svg',
      title: 'PING latency while the keyspace grows',
      spec: {
        title: `PING latency while loading ${Number(r.settings?.keys ?? 0).toLocaleString('en-US')} keys (log scale)`,
        data: { values: data },
        width: 320, height: 240,
        encoding: {
          x: { field: 'metric', type: 'nominal', title: null, sort: order, axis: { labelAngle: 0 } },
          xOffset: { field: 'server', type: 'nominal', sort: serverOrder(data) },
          y: { field: 'value', type: 'quantitative', title: 'ms', scale: { type: 'log', domain: [floor, ceil] } },
          color: { field: 'server', type: 'nominal', scale: colors(data), title: null },
        },
        layer: [
          { mark: 'bar', encoding: { y2: { datum: floor } } },
          { mark: { type: 'text', dy: -6, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.3~r' } } },
        ],
      },
    }];
  },
};

function readLatest() {
  if (!existsSync(LATEST)) return [];
  return readdirSync(LATEST).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(LATEST, f), 'utf8')));
}

const ORDER = ['throughput', 'pipeline-scaling', 'memory', 'growth', 'eviction', 'tensor', 'warm-restart'];

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
  md.push('# kvslab vs Redis 7 (and memcached, and a bare Node.js ceiling): benchmark results', '');
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
    const memcached = results.map((r) => r.machine?.memcached).find(Boolean);
    if (memcached) md.push(`- memcached ${memcached} (Debian package)`);
    md.push(`- Pinning: ${m.pinning}`);
    if (m.serverOptions) md.push(`- kvslab and Redis started with: \`${m.serverOptions}\` (plus port, bind 127.0.0.1, loglevel warning; Redis also \`--save '' --appendonly no\`), unless a suite says otherwise`);
    md.push('');
    md.push('## How to read', '');
    md.push('Every suite starts a fresh server of each kind it compares per round, all on loopback, and drives them with the same load, one after the other in each round. Each cell is the median over the rounds; a cell that says `error:` is a figure that server could not produce, for example a command kvslab does not implement yet, and `–` is a figure not measured on that server. The ratios are kvslab over each other server: for requests/s and keys/s below 1× means kvslab is slower; for ms, MiB and bytes above 1× means kvslab takes longer or uses more.', '');
    md.push('The servers:', '');
    const used = new Set(results.flatMap((r) => columnsOf(r.figures).servers));
    // The baseline's label names a revision, which may differ between suites: here it is generic.
    useBaseline(null);
    for (const id of SERVER_IDS) if (used.has(id)) md.push(`- ${SERVERS[id].label}: ${SERVERS[id].describe}`);
    md.push('');
    if (used.has('kvslab-base')) {
      md.push('kvslab@<sha> is kvslab at another git revision (`node bench/run.mjs --baseline <ref>`), run in the same rounds, on the same machine, with the same options: kvslab/kvslab@<sha> near 1× means the working tree neither gained nor lost against it (and kvslab against the very same revision, an A/A run, shows how far apart two runs of one build land).', '');
    }
    for (const r of results) {
      // Tables and charts of this suite name its own baseline revision.
      useBaseline(r.baseline ?? null);
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
      if (r.baseline) {
        const b = r.baseline;
        const against = b.against ? ` against the working tree at ${b.against.short}${b.against.dirty ? ' with uncommitted changes' : ''}` : '';
        md.push(`Baseline: ${serverLabel('kvslab-base')} is \`${b.ref}\` = ${b.sha}${b.subject ? ` (“${b.subject.length > 100 ? `${b.subject.slice(0, 99)}…` : b.subject}”)` : ''}${against}.`, '');
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
