// SPDX-License-Identifier: ISC
#pragma once
// The dashboard served at "/": one self-contained page (no external files, no libraries). It shows
// the pools side by side, and one pool (or all together) in detail: it loads the last ten minutes
// from /history, then polls /stats?full every second and draws on canvases. Element ids are what
// the headless-browser test looks for; keep them stable.

#include <string_view>

namespace fcgimux {

/// The HTML of the dashboard page.
inline constexpr std::string_view dashboard_html = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fcgimux</title>
<style>
  :root { --bg:#f6f7f9; --card:#fff; --fg:#1d232a; --dim:#687482; --grid:#e3e6ea;
          --c1:#2f6fdb; --c2:#e0623a; --c3:#2aa876; }
  * { box-sizing: border-box; }
  body { margin:0; padding:16px 20px; background:var(--bg); color:var(--fg);
         font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { display:flex; align-items:baseline; gap:16px; margin-bottom:12px; }
  h1 { font-size:20px; margin:0; }
  h2 { font-size:13px; font-weight:600; color:var(--dim); margin:0 0 4px; text-transform:uppercase; letter-spacing:.04em; }
  #status { color:var(--dim); }
  #status.bad { color:#c0392b; font-weight:600; }
  .tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(130px, 1fr)); gap:8px; margin-bottom:12px; }
  .tile { background:var(--card); border-radius:6px; padding:8px 10px; box-shadow:0 1px 2px rgba(0,0,0,.08); }
  .tile .v { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
  .tile .l { color:var(--dim); font-size:12px; }
  .charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:8px; margin-bottom:12px; }
  .chart { background:var(--card); border-radius:6px; padding:8px 10px; box-shadow:0 1px 2px rgba(0,0,0,.08); }
  .chart canvas { width:100%; height:110px; display:block; }
  .legend span { margin-right:10px; font-size:12px; color:var(--dim); }
  .legend i { display:inline-block; width:10px; height:3px; margin-right:4px; vertical-align:middle; }
  table { width:100%; border-collapse:collapse; background:var(--card); border-radius:6px; overflow:hidden;
          box-shadow:0 1px 2px rgba(0,0,0,.08); font-variant-numeric:tabular-nums; }
  th, td { text-align:left; padding:5px 10px; border-bottom:1px solid var(--grid); }
  th { color:var(--dim); font-weight:600; font-size:12px; }
  td.uri { font-family:ui-monospace, monospace; word-break:break-all; }
  #pool-select { font:inherit; padding:2px 6px; }
  #pools-table { margin-bottom:12px; }
  tr.selected td { background:#eef3fc; }
  td.bad { color:#c0392b; font-weight:600; } td.good { color:var(--c3); }
  .busy { color:var(--c2); font-weight:600; } .idle { color:var(--c3); } .starting, .stopping { color:var(--dim); }
</style>
</head>
<body>
<header><h1>fcgimux</h1><span id="version"></span><span id="uptime"></span>
  <label>pool <select id="pool-select"><option value="">all pools</option></select></label>
  <span id="status">connecting&hellip;</span></header>
<h2>Pools</h2>
<table id="pools-table"><thead><tr><th>pool</th><th>serving</th><th>workers</th><th>busy</th><th>idle</th><th>queued</th>
<th>completed</th><th>rejected / timed out / failed</th><th>5xx</th><th>service p99 ms</th><th>generation</th></tr></thead>
<tbody id="pools"></tbody></table>
<div class="tiles">
  <div class="tile"><div class="v" id="pool-size">&ndash;</div><div class="l">workers (<span id="pool-min">&ndash;</span>&ndash;<span id="pool-max">&ndash;</span>)</div></div>
  <div class="tile"><div class="v" id="pool-busy">&ndash;</div><div class="l">busy</div></div>
  <div class="tile"><div class="v" id="pool-idle">&ndash;</div><div class="l">idle</div></div>
  <div class="tile"><div class="v" id="pool-starting">&ndash;</div><div class="l">starting</div></div>
  <div class="tile"><div class="v" id="queue-length">&ndash;</div><div class="l">queued (peak <span id="queue-peak">&ndash;</span>, limit <span id="queue-limit">&ndash;</span>)</div></div>
  <div class="tile"><div class="v" id="req-rate">&ndash;</div><div class="l">requests/s</div></div>
  <div class="tile"><div class="v" id="req-active">&ndash;</div><div class="l">active requests</div></div>
  <div class="tile"><div class="v" id="service-p50">&ndash;</div><div class="l">service p50 ms</div></div>
  <div class="tile"><div class="v" id="service-p99">&ndash;</div><div class="l">service p99 ms</div></div>
  <div class="tile"><div class="v" id="queue-p99">&ndash;</div><div class="l">queue wait p99 ms</div></div>
  <div class="tile"><div class="v" id="req-completed">&ndash;</div><div class="l">completed</div></div>
  <div class="tile"><div class="v" id="req-errors">&ndash;</div><div class="l">rejected / timed out / failed</div></div>
  <div class="tile"><div class="v" id="resp-5xx">&ndash;</div><div class="l">5xx responses</div></div>
  <div class="tile"><div class="v" id="workers-crashed">&ndash;</div><div class="l">crashed / spawned</div></div>
</div>
<h2>Last ten minutes of <span id="selected-name">all pools</span> (<span id="history-samples">0</span> s kept by fcgimux)</h2>
<div class="charts">
  <div class="chart"><h2>Workers</h2><canvas id="chart-pool"></canvas>
    <div class="legend"><span><i style="background:var(--c1)"></i>size</span><span><i style="background:var(--c2)"></i>busy</span><span><i style="background:var(--c3)"></i>idle</span></div></div>
  <div class="chart"><h2>Queue length</h2><canvas id="chart-queue"></canvas>
    <div class="legend"><span><i style="background:var(--c1)"></i>queued</span></div></div>
  <div class="chart"><h2>Requests / s</h2><canvas id="chart-rate"></canvas>
    <div class="legend"><span><i style="background:var(--c1)"></i>completed per second</span></div></div>
  <div class="chart"><h2>Service latency (ms, one-minute window)</h2><canvas id="chart-service"></canvas>
    <div class="legend"><span><i style="background:var(--c1)"></i>p50</span><span><i style="background:var(--c2)"></i>p99</span></div></div>
  <div class="chart"><h2>Queue wait (ms, one-minute window)</h2><canvas id="chart-wait"></canvas>
    <div class="legend"><span><i style="background:var(--c1)"></i>p50</span><span><i style="background:var(--c2)"></i>p99</span></div></div>
</div>
<h2>Workers</h2>
<table><thead><tr><th>pool</th><th>pid</th><th>state</th><th>requests</th><th>uptime s</th><th>current request</th><th>elapsed ms</th></tr></thead>
<tbody id="workers"></tbody></table>
<h2>Servers</h2>
<table><thead><tr><th>pool</th><th>server</th><th>state</th><th>weight</th><th>in flight / max</th><th>requests</th><th>failures</th><th>ejections</th><th>p50 / p99 ms</th><th>last check</th></tr></thead>
<tbody id="servers"></tbody></table>
<script>
"use strict";
const N = 600, keys = ["size", "busy", "idle", "queue", "rate", "s50", "s99", "q50", "q99"];
let hist = {}, last = null, selected = "", known = "";
const css = n => getComputedStyle(document.documentElement).getPropertyValue(n).trim();
const $ = id => document.getElementById(id);
const set = (id, v) => { $(id).textContent = v; };
const num = (v, d) => (v == null || !isFinite(v)) ? "\u2013" : (+v).toFixed(d);
function push(a, v) { a.push(v); if (a.length > N) a.shift(); }
function clear() { hist = {}; for (const k of keys) hist[k] = []; last = null; }
function draw(id, series, colors) {
  const c = $(id), dpr = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext("2d"); g.scale(dpr, dpr); g.clearRect(0, 0, w, h);
  let max = 0; for (const s of series) for (const v of s) if (v != null && v > max) max = v;
  max = max > 0 ? max * 1.15 : 1;
  g.strokeStyle = css("--grid"); g.fillStyle = css("--dim"); g.font = "11px system-ui"; g.lineWidth = 1;
  for (let i = 0; i <= 2; i++) { const y = 4 + (h - 8) * i / 2; g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke(); }
  g.fillText(max >= 10 ? max.toFixed(0) : max.toPrecision(2), 2, 14);
  series.forEach((s, k) => {
    g.strokeStyle = colors[k]; g.lineWidth = 1.5; g.beginPath(); let started = false;
    s.forEach((v, i) => {
      if (v == null) { started = false; return; }
      const x = w - (s.length - 1 - i) * w / (N - 1), y = 4 + (h - 8) * (1 - v / max);
      if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; }
    });
    g.stroke();
  });
}
function cell(tr, v, cls) { const td = document.createElement("td"); td.textContent = v; if (cls) td.className = cls; tr.appendChild(td); }
function workers(list) {
  const body = $("workers"); body.replaceChildren();
  for (const w of list || []) {
    const tr = document.createElement("tr");
    cell(tr, w.pool || selected); cell(tr, w.pid); cell(tr, w.state, w.state); cell(tr, w.requests); cell(tr, num(w.uptime_s, 1));
    cell(tr, w.current ? w.current.uri : "", "uri"); cell(tr, w.current ? num(w.current.elapsed_ms, 1) : "");
    tr.dataset.pid = w.pid; body.appendChild(tr);
  }
}
// A row per remote server of the pools shown (all, or the one selected).
function servers(all) {
  const body = $("servers"); body.replaceChildren();
  for (const [name, p] of Object.entries(all || {})) {
    if (selected && name !== selected) continue;
    for (const [addr, v] of Object.entries(p.servers || {})) {
      const tr = document.createElement("tr");
      cell(tr, name); cell(tr, addr);
      cell(tr, v.state, v.state === "up" ? "good" : v.state === "starting" || v.state === "draining" ? "busy" : "bad");
      cell(tr, v.effective_weight === v.weight ? v.weight : num(v.effective_weight, 2) + " of " + v.weight);
      cell(tr, v.in_flight + " / " + v.max + " (" + v.max_from + ")"); cell(tr, v.requests); cell(tr, v.failures);
      cell(tr, v.ejections); cell(tr, num(v.latency_ms.p50, 2) + " / " + num(v.latency_ms.p99, 2));
      const c = v.last_check;
      cell(tr, c ? c.result + (c.why ? " (" + c.why + ")" : "") + ", " + new Date(c.at * 1000).toLocaleTimeString() : "",
           c && c.result === "failed" ? "bad" : "");
      body.appendChild(tr);
    }
  }
}
function pools(all) {
  const body = $("pools"); body.replaceChildren();
  for (const [name, p] of Object.entries(all || {})) {
    const tr = document.createElement("tr");
    cell(tr, name); cell(tr, p.pool.can_serve ? "yes" : "no", p.pool.can_serve ? "good" : "bad");
    cell(tr, p.pool.size + " (" + p.pool.min + "\u2013" + p.pool.max + ")"); cell(tr, p.pool.busy); cell(tr, p.pool.idle);
    cell(tr, p.queue.length); cell(tr, p.requests.completed);
    cell(tr, p.requests.rejected + " / " + p.requests.timed_out + " / " + p.requests.failed);
    cell(tr, p.responses["5xx"]); cell(tr, num(p.latency_ms.service.p99, 2));
    const roll = p.roll || { state: "idle" };
    cell(tr, p.generation + (roll.state === "idle" ? "" : " (" + roll.state + ": " + roll.old + " old, " + roll.new + " new)"),
         roll.state === "failed" ? "bad" : roll.state === "rolling" ? "busy" : "");
    tr.dataset.pool = name; if (name === selected) tr.className = "selected";
    tr.onclick = () => choose(name); body.appendChild(tr);
  }
  const names = Object.keys(all || {}).join(",");
  if (names !== known) {
    known = names;
    const sel = $("pool-select"); sel.replaceChildren();
    for (const n of [""].concat(Object.keys(all || {}))) {
      const o = document.createElement("option"); o.value = n; o.textContent = n || "all pools"; sel.appendChild(o);
    }
    sel.value = selected;
  }
}
// What fcgimux kept of the last ten minutes: the charts start with it instead of empty.
async function load_history() {
  clear();
  try {
    const r = await fetch("/history" + (selected ? "?pool=" + encodeURIComponent(selected) : ""), { cache: "no-store" });
    if (!r.ok) return;
    const h = (await r.json()).series;
    const from = { size:"size", busy:"busy", idle:"idle", queue:"queue", rate:"rate",
                   s50:"service_p50", s99:"service_p99", q50:"queue_p50", q99:"queue_p99" };
    for (const k of keys) for (const v of (h[from[k]] || []).slice(-N)) push(hist[k], v);
    set("history-samples", hist.size.length);
  } catch (e) { /* the live polling reports the connection's state */ }
}
async function choose(name) {
  selected = name; $("pool-select").value = name; set("selected-name", name || "all pools");
  await load_history(); await tick();
}
async function tick() {
  try {
    const r = await fetch("/stats?full", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const all = await r.json(), now = performance.now();
    const s = selected && all.pools && all.pools[selected] ? all.pools[selected] : all;
    pools(all.pools);
    let rate = null;
    if (last && now > last.t && s.requests.completed >= last.completed)
      rate = (s.requests.completed - last.completed) * 1000 / (now - last.t);
    last = { t: now, completed: s.requests.completed };
    push(hist.size, s.pool.size); push(hist.busy, s.pool.busy); push(hist.idle, s.pool.idle);
    push(hist.queue, s.queue.length); push(hist.rate, rate);
    push(hist.s50, s.latency_ms.service.p50); push(hist.s99, s.latency_ms.service.p99);
    push(hist.q50, s.latency_ms.queue.p50); push(hist.q99, s.latency_ms.queue.p99);
    set("version", "v" + all.version); set("uptime", "up " + num(all.uptime_s, 0) + " s");
    set("pool-size", s.pool.size); set("pool-min", s.pool.min); set("pool-max", s.pool.max);
    set("pool-busy", s.pool.busy); set("pool-idle", s.pool.idle); set("pool-starting", s.pool.starting);
    set("queue-length", s.queue.length); set("queue-peak", s.queue.peak); set("queue-limit", s.queue.limit);
    set("req-rate", num(rate, 1)); set("req-active", s.requests.active); set("req-completed", s.requests.completed);
    set("req-errors", s.requests.rejected + " / " + s.requests.timed_out + " / " + s.requests.failed);
    set("resp-5xx", s.responses["5xx"]); set("workers-crashed", s.workers_crashed + " / " + s.workers_spawned);
    set("service-p50", num(s.latency_ms.service.p50, 2)); set("service-p99", num(s.latency_ms.service.p99, 2));
    set("queue-p99", num(s.latency_ms.queue.p99, 2));
    workers(s.workers); servers(all.pools);
    const c1 = css("--c1"), c2 = css("--c2"), c3 = css("--c3");
    draw("chart-pool", [hist.size, hist.busy, hist.idle], [c1, c2, c3]);
    draw("chart-queue", [hist.queue], [c1]);
    draw("chart-rate", [hist.rate], [c1]);
    draw("chart-service", [hist.s50, hist.s99], [c1, c2]);
    draw("chart-wait", [hist.q50, hist.q99], [c1, c2]);
    $("status").className = ""; set("status", "live, updated " + new Date().toLocaleTimeString());
  } catch (e) {
    $("status").className = "bad"; set("status", "disconnected: " + e.message);
  }
}
$("pool-select").onchange = e => choose(e.target.value);
async function loop() { await tick(); setTimeout(loop, 1000); }
const wanted = new URLSearchParams(location.search).get("pool");
selected = wanted || ""; set("selected-name", selected || "all pools");
load_history().then(loop);
</script>
</body>
</html>
)html";

}  // namespace fcgimux
