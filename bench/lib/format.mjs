// Number formatting and the figure | kvslab | Redis | ratio tables, as plain
// text for the terminal and as Markdown for RESULTS.md.

/**
 * @typedef {object} Side
 * @property {number[]} samples  One value per successful round.
 * @property {number|null} median
 * @property {string[]} errors   One message per failed round.
 *
 * @typedef {object} Figure
 * @property {string} key        Stable id, e.g. "get-64-p1.rps".
 * @property {string} label      Shown in tables, e.g. "GET 64 B, pipeline 1".
 * @property {string} unit       "req/s", "ms", "bytes", "MiB", "s", "keys/s".
 * @property {'higher'|'lower'} better
 * @property {Record<string, string|number>} params  For charts (op, pipeline, size, ...).
 * @property {{ kvslab: Side, redis: Side }} results
 * @property {number|null} ratio kvslab median / Redis median.
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
      return group3(Math.round(v));
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
 * One cell: the median, or the error when every round failed; a partial
 * failure is noted after the value.
 * @param {Side} side
 * @param {string} unit
 * @param {number} maxErr  Longest error text to show.
 */
export function formatCell(side, unit, maxErr = 60) {
  if (side.median === null) {
    const msg = side.errors[0] ?? 'no result';
    return `error: ${msg.length > maxErr ? `${msg.slice(0, maxErr - 1)}…` : msg}`;
  }
  const failed = side.errors.length;
  const note = failed ? ` (${failed}/${failed + side.samples.length} failed)` : '';
  return `${formatValue(side.median, unit)}${note}`;
}

/** @param {Figure} f */
function rowCells(f, maxErr) {
  return [`${f.label} (${f.unit})`, formatCell(f.results.kvslab, f.unit, maxErr), formatCell(f.results.redis, f.unit, maxErr), formatRatio(f.ratio)];
}

const HEAD = ['figure', 'kvslab', 'Redis', 'ratio kvslab/Redis'];

/**
 * @param {Figure[]} figures
 * @returns {string}
 */
export function textTable(figures) {
  const rows = [HEAD, ...figures.map((f) => rowCells(f, 48))];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * @param {Figure[]} figures
 * @returns {string}
 */
export function markdownTable(figures) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  const lines = [`| ${HEAD.join(' | ')} |`, '| --- | ---: | ---: | ---: |'];
  for (const f of figures) lines.push(`| ${rowCells(f, 120).map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** @param {number[]} xs */
export function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
