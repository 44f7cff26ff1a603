// Number formatting and the figure | <one column per server> | ratio tables,
// as plain text for the terminal and as Markdown for RESULTS.md. Columns are
// the servers that appear in the figures (results of older runs only have
// kvslab and Redis); a server a figure was not run on shows '–'. Every
// server but kvslab gets a ratio column, the baseline build (kvslab-base) too.

import { SERVER_IDS, serverLabel } from './servers.mjs';

/**
 * @typedef {object} Side
 * @property {number[]} samples  One value per successful round.
 * @property {number|null} median
 * @property {string[]} errors   One message per failed round.
 *
 * @typedef {object} Figure
 * @property {string} key        Stable id, e.g. "get-64-p1.rps".
 * @property {string} label      Shown in tables, e.g. "GET 64 B, pipeline 1".
 * @property {string} unit       "req/s", "ms", "bytes", "MiB", "s", "keys/s", "%", "points", "count".
 * @property {'higher'|'lower'} better
 * @property {Record<string, string|number>} params  For charts (op, pipeline, size, ...).
 * @property {Partial<Record<string, Side>>} results  One entry per server the figure is run on.
 * @property {number|null} ratio kvslab median / Redis median.
 * @property {Record<string, number|null>} [ratios]  kvslab median / each other server's median.
 * @property {boolean} [noRatio] A figure whose ratio means nothing (a difference, a setting).
 */

const group3 = (n) => n.toLocaleString('en-US');

/**
 * @param {number|null|undefined} v
 * @param {string} unit
 */
export function formatValue(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'req/s':
    case 'keys/s':
    case 'bytes':
    case 'count':
      return group3(Math.round(v));
    case '%':
      return v.toFixed(2);
    case 'points':
      return `${v > 0 ? '+' : ''}${v.toFixed(2)}`;
    case 'ms':
      return v.toFixed(3);
    case 'MiB':
    case 'MB':
      return v.toFixed(1);
    case 's':
      return v.toFixed(2);
    default:
      return String(Math.round(v * 1000) / 1000);
  }
}

/** @param {number|null} r */
export function formatRatio(r) {
  return r === null || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`;
}

/**
 * One cell: the median, or the error when every round failed ('–' when the
 * figure was not run on that server); a partial failure is noted after the value.
 * @param {Side|undefined} side
 * @param {string} unit
 * @param {number} maxErr  Longest error text to show.
 */
export function formatCell(side, unit, maxErr = 60) {
  if (!side) return '–';
  if (side.median === null) {
    if (!side.errors.length) return '–';
    const msg = side.errors[0];
    return `error: ${msg.length > maxErr ? `${msg.slice(0, maxErr - 1)}…` : msg}`;
  }
  const failed = side.errors.length;
  const note = failed ? ` (${failed}/${failed + side.samples.length} failed)` : '';
  return `${formatValue(side.median, unit)}${note}`;
}

/**
 * kvslab's median over another server's, or null when either is missing.
 * @param {Figure} f
 * @param {string} other
 */
export function ratioTo(f, other) {
  if (f.noRatio) return null;
  const k = f.results.kvslab?.median ?? null;
  const o = f.results[other]?.median ?? null;
  return k !== null && o !== null && o !== 0 ? k / o : null;
}

/**
 * The servers that appear in these figures, in the usual order (servers this
 * version does not know go last), and the servers kvslab is compared with.
 * @param {Figure[]} figures
 */
export function columnsOf(figures) {
  const seen = new Set(figures.flatMap((f) => Object.keys(f.results)));
  const servers = [...SERVER_IDS.filter((id) => seen.has(id)), ...[...seen].filter((id) => !SERVER_IDS.includes(/** @type {any} */ (id)))];
  const compared = servers.includes('kvslab') ? servers.filter((id) => id !== 'kvslab') : [];
  return { servers, compared };
}

/** @param {Figure[]} figures */
function header(figures) {
  const { servers, compared } = columnsOf(figures);
  return {
    servers, compared,
    head: ['figure', ...servers.map(serverLabel), ...compared.map((id) => `ratio kvslab/${serverLabel(id)}`)],
  };
}

/**
 * @param {Figure} f
 * @param {{ servers: string[], compared: string[] }} cols
 * @param {number} maxErr
 */
function rowCells(f, cols, maxErr) {
  return [
    `${f.label} (${f.unit})`,
    ...cols.servers.map((id) => formatCell(f.results[id], f.unit, maxErr)),
    ...cols.compared.map((id) => formatRatio(ratioTo(f, id))),
  ];
}

/**
 * @param {Figure[]} figures
 * @returns {string}
 */
export function textTable(figures) {
  const cols = header(figures);
  const rows = [cols.head, ...figures.map((f) => rowCells(f, cols, 48))];
  const widths = cols.head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * @param {Figure[]} figures
 * @returns {string}
 */
export function markdownTable(figures) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  const cols = header(figures);
  const lines = [`| ${cols.head.join(' | ')} |`, `| --- |${' ---: |'.repeat(cols.head.length - 1)}`];
  for (const f of figures) lines.push(`| ${rowCells(f, cols, 120).map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** @param {number[]} xs */
export function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
