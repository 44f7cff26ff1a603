// The status page served at / by the metrics listener: one self-contained
// HTML document (inline CSS and JS, no fonts or scripts from elsewhere: the
// machine may be offline). It polls /stats.json every second and draws its
// charts as inline SVG. Elements tests read carry ids and data-value (the
// raw number behind the formatted text).

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvslab status</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232563eb'/%3E%3Cpath d='M3 11h3V7H3zm4 0h3V4H7zm4 0h2V8h-2z' fill='%23fff'/%3E%3C/svg%3E">
<style>
:root {
  --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #6b7280; --line: #e3e6ea;
  --accent: #2563eb; --good: #059669; --warn: #d97706; --bad: #dc2626; --fill: rgba(37, 99, 235, .12);
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #111418; --card: #1a1f26; --fg: #e6e8eb; --muted: #9aa3ad; --line: #2b323b; --fill: rgba(96, 165, 250, .16); --accent: #60a5fa; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 12px; padding: 14px 20px 6px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; letter-spacing: .02em; }
header .meta { color: var(--muted); font-size: 13px; }
#live { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); display: inline-block; margin-left: auto; align-self: center; }
#live.ok { background: var(--good); }
#live.err { background: var(--bad); }
main { padding: 6px 20px 20px; display: grid; gap: 12px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; }
.tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.tile .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .s { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; min-height: 1.4em; }
.bar { height: 6px; background: var(--line); border-radius: 3px; margin-top: 6px; overflow: hidden; }
.bar > i { display: block; height: 100%; width: 0; background: var(--accent); transition: width .3s; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 10px; }
.card h2 { font-size: 13px; font-weight: 600; margin: 0 0 6px; display: flex; justify-content: space-between; }
.card h2 span { color: var(--muted); font-weight: 400; font-variant-numeric: tabular-nums; white-space: nowrap; margin-left: 8px; }
svg { width: 100%; height: 120px; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .line { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg .area { fill: var(--fill); stroke: none; }
svg text { fill: var(--muted); font-size: 10px; }
svg .slab { fill: var(--fill); stroke: var(--accent); stroke-width: .5; }
svg .slab-used { fill: var(--accent); opacity: .55; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { text-align: right; padding: 2px 6px; border-bottom: 1px solid var(--line); font-size: 13px; }
td:first-child, th:first-child { text-align: left; }
th { color: var(--muted); font-weight: 500; }
footer { color: var(--muted); font-size: 12px; padding: 0 20px 16px; }
a { color: var(--accent); }
</style>
</head>
<body>
<header>
  <h1>kvslab</h1>
  <span class="meta">v<span id="v-version">?</span> &middot; Redis <span id="v-redis">?</span> compatible &middot; port <span id="v-port">?</span> &middot; up <span id="v-uptime" data-value="0">?</span></span>
  <span id="live" title="live"></span>
</header>
<main>
  <section class="tiles">
    <div class="tile"><div class="k">Ops/s</div><div class="v" id="v-ops" data-value="0">&ndash;</div><div class="s" id="v-total">&nbsp;</div></div>
    <div class="tile"><div class="k">Hit ratio</div><div class="v" id="v-hit" data-value="0">&ndash;</div><div class="s" id="v-hits">&nbsp;</div></div>
    <div class="tile"><div class="k">Clients</div><div class="v" id="v-clients" data-value="0">&ndash;</div><div class="s" id="v-maxclients">&nbsp;</div></div>
    <div class="tile"><div class="k">Memory</div><div class="v" id="v-mem" data-value="0">&ndash;</div><div class="s" id="v-maxmem" data-value="0">&nbsp;</div><div class="bar"><i id="v-membar"></i></div></div>
    <div class="tile"><div class="k">Policy</div><div class="v" id="v-policy" style="font-size:16px;padding-top:5px">&ndash;</div><div class="s" id="v-rss">&nbsp;</div></div>
    <div class="tile"><div class="k">Keys</div><div class="v" id="v-keys" data-value="0">&ndash;</div><div class="s" id="v-expires">&nbsp;</div></div>
    <div class="tile"><div class="k">Evictions</div><div class="v" id="v-evicted" data-value="0">&ndash;</div><div class="s" id="v-expired">&nbsp;</div></div>
    <div class="tile"><div class="k">KV tensors</div><div class="v" id="v-tensors" data-value="0">&ndash;</div><div class="s" id="v-tokens">&nbsp;</div></div>
  </section>
  <section class="charts">
    <div class="card"><h2>Ops/s <span id="c-ops-now"></span></h2><svg id="chart-ops" viewBox="0 0 300 120" preserveAspectRatio="none"></svg></div>
    <div class="card"><h2>Hit ratio (per second) <span id="c-hit-now"></span></h2><svg id="chart-hit" viewBox="0 0 300 120" preserveAspectRatio="none"></svg></div>
    <div class="card"><h2>Evictions/s <span id="c-ev-now"></span></h2><svg id="chart-evictions" viewBox="0 0 300 120" preserveAspectRatio="none"></svg></div>
    <div class="card"><h2>Slab classes <span id="c-slab-total"></span></h2><svg id="chart-slabs" viewBox="0 0 300 120" preserveAspectRatio="none"></svg></div>
  </section>
  <section class="charts">
    <div class="card"><h2>Memory by part</h2><table id="t-memory"><tbody></tbody></table></div>
    <div class="card"><h2>Keys per database</h2><table id="t-dbs"><thead><tr><th>db</th><th>keys</th><th>with TTL</th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<footer>Refreshes every second from <a href="stats.json">/stats.json</a> &middot; Prometheus: <a href="metrics">/metrics</a> &middot; <span id="v-updated"></span></footer>
<script>
(function () {
  "use strict";
  var W = 300, H = 120, KEEP = 120;
  var hist = { ops: [], hit: [], ev: [] };
  var prev = null;

  function $(id) { return document.getElementById(id); }
  function set(id, text, value) {
    var el = $(id);
    el.textContent = text;
    if (value !== undefined) el.setAttribute("data-value", String(value));
  }
  function bytes(n) {
    if (n < 1024) return n + " B";
    var u = ["KiB", "MiB", "GiB", "TiB"], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(n < 10 ? 2 : 1) + " " + u[i];
  }
  function num(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(2) + "G";
    if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }
  function dur(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    return m + "m " + (s % 60) + "s";
  }
  function push(a, v) { a.push(v); if (a.length > KEEP) a.shift(); }
  function el(name, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  /* A line chart of the last KEEP samples; max is the y scale (at least the data's). */
  function line(svg, data, max, fmt) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var top = max;
    for (var i = 0; i < data.length; i++) if (data[i] !== null && data[i] > top) top = data[i];
    if (!(top > 0)) top = 1;
    for (var g = 1; g <= 3; g++) svg.appendChild(el("line", { "class": "grid", x1: 0, x2: W, y1: H * g / 4, y2: H * g / 4 }));
    var step = W / (KEEP - 1), x0 = W - (data.length - 1) * step, d = "", pts = 0, first = null, last = null;
    for (var j = 0; j < data.length; j++) {
      if (data[j] === null) continue;
      var x = (x0 + j * step).toFixed(1), y = (H - 2 - (H - 14) * data[j] / top).toFixed(1);
      d += (pts ? " L" : "M") + x + " " + y;
      if (first === null) first = x;
      last = x;
      pts++;
    }
    if (pts) {
      svg.appendChild(el("path", { "class": "area", d: d + " L" + last + " " + H + " L" + first + " " + H + " Z" }));
      svg.appendChild(el("path", { "class": "line", d: d, "data-points": pts }));
    }
    var t = el("text", { x: 3, y: 10 });
    t.textContent = fmt(top);
    svg.appendChild(t);
  }

  /* Horizontal bars: each slab class's bytes, the part in use darker. */
  function slabs(svg, classes) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var shown = classes.slice().sort(function (a, b) { return b.bytes - a.bytes; }).slice(0, 8);
    shown.sort(function (a, b) { return a.chunk - b.chunk; });
    var max = 1, total = 0;
    for (var i = 0; i < classes.length; i++) total += classes[i].bytes;
    for (var j = 0; j < shown.length; j++) if (shown[j].bytes > max) max = shown[j].bytes;
    var rowH = Math.min(H / Math.max(shown.length, 1), 22), lw = 62;
    for (var k = 0; k < shown.length; k++) {
      var c = shown[k], y = k * rowH + 2, h = Math.max(rowH - 4, 2);
      var w = (W - lw - 60) * c.bytes / max, used = c.bytes ? Math.min(1, c.used * c.chunk / c.bytes) : 0;
      svg.appendChild(el("rect", { "class": "slab", x: lw, y: y, width: Math.max(w, 1), height: h, "data-class": c.cls, "data-bytes": c.bytes }));
      svg.appendChild(el("rect", { "class": "slab-used", x: lw, y: y, width: Math.max(w * used, 0), height: h }));
      var label = el("text", { x: 2, y: y + h / 2 + 3 });
      label.textContent = bytes(c.chunk);
      svg.appendChild(label);
      var v = el("text", { x: lw + w + 4, y: y + h / 2 + 3 });
      v.textContent = bytes(c.bytes);
      svg.appendChild(v);
    }
    set("c-slab-total", bytes(total) + " in " + classes.length + (classes.length === 1 ? " class" : " classes"));
  }

  function rows(tbody, list) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    for (var i = 0; i < list.length; i++) {
      var tr = document.createElement("tr");
      for (var j = 0; j < list[i].length; j++) {
        var td = document.createElement("td");
        td.textContent = list[i][j];
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  function render(s) {
    set("v-version", s.version);
    set("v-redis", s.redis_version);
    set("v-port", String(s.port));
    set("v-uptime", dur(s.uptime), s.uptime);
    set("v-ops", num(s.ops_per_sec), s.ops_per_sec);
    set("v-total", num(s.total_commands) + " commands");
    var lookups = s.hits + s.misses, ratio = lookups ? s.hits / lookups : 0;
    set("v-hit", lookups ? (100 * ratio).toFixed(1) + "%" : "\\u2013", ratio);
    set("v-hits", num(s.hits) + " hits / " + num(s.misses) + " misses");
    set("v-clients", String(s.clients), s.clients);
    set("v-maxclients", "max " + s.maxclients);
    set("v-mem", bytes(s.used_memory), s.used_memory);
    set("v-maxmem", s.maxmemory ? "of " + bytes(s.maxmemory) + " (" + (100 * s.used_memory / s.maxmemory).toFixed(0) + "%)" : "no maxmemory", s.maxmemory);
    $("v-membar").style.width = s.maxmemory ? Math.min(100, 100 * s.used_memory / s.maxmemory) + "%" : "0";
    set("v-policy", s.policy);
    set("v-rss", "RSS " + bytes(s.rss) + ", peak " + bytes(s.peak_memory));
    var keys = 0, expires = 0;
    for (var i = 0; i < s.dbs.length; i++) { keys += s.dbs[i].keys; expires += s.dbs[i].expires; }
    set("v-keys", num(keys), keys);
    set("v-expires", num(expires) + " with TTL");
    set("v-evicted", num(s.evicted), s.evicted);
    set("v-expired", num(s.expired) + " expired");
    set("v-tensors", num(s.tensors.keys), s.tensors.keys);
    set("v-tokens", num(s.tensors.tokens) + " tokens, " + bytes(s.tensors.bytes));

    var dt = prev ? (s.time - prev.time) / 1000 : 0;
    push(hist.ops, s.ops_per_sec);
    if (prev && dt > 0) {
      var dh = s.hits - prev.hits, dm = s.misses - prev.misses;
      push(hist.hit, dh + dm > 0 ? 100 * dh / (dh + dm) : null);
      push(hist.ev, Math.max(0, (s.evicted - prev.evicted) / dt));
    }
    line($("chart-ops"), hist.ops, 10, num);
    line($("chart-hit"), hist.hit, 100, function (v) { return v.toFixed(0) + "%"; });
    line($("chart-evictions"), hist.ev, 1, num);
    set("c-ops-now", num(s.ops_per_sec));
    var lastHit = hist.hit.length ? hist.hit[hist.hit.length - 1] : null;
    set("c-hit-now", lastHit === null ? "" : lastHit.toFixed(1) + "%");
    set("c-ev-now", hist.ev.length ? num(hist.ev[hist.ev.length - 1]) : "");
    slabs($("chart-slabs"), s.slabs);

    var m = s.memory;
    rows($("t-memory").tBodies[0], [
      ["slabs", bytes(m.slabs)], ["index", bytes(m.index)], ["large values", bytes(m.large)],
      ["client buffers", bytes(m.clients)], ["used_memory", bytes(s.used_memory)], ["JS heap (not counted)", bytes(m.jsHeap)],
    ]);
    rows($("t-dbs").tBodies[0], s.dbs.map(function (d) { return ["db" + d.db, String(d.keys), String(d.expires)]; }));
    set("v-updated", "updated " + new Date(s.time).toLocaleTimeString());
    prev = s;
  }

  function tick() {
    fetch("stats.json", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) { render(s); $("live").className = "ok"; })
      .catch(function () { $("live").className = "err"; })
      .then(function () { setTimeout(tick, 1000); });
  }
  tick();
})();
</script>
</body>
</html>
`;
