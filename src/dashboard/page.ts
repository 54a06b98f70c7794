/**
 * The live dashboard's page: one HTML document with its script and styles inline, asking only for
 * `events` (relative, so a path-prefix proxy works; the page's `?token=` goes along). It keeps one
 * EventSource (closed while the tab is hidden: a browser allows six connections per origin), draws
 * the tables on each update and the task stream on a canvas, one lane group per worker with its
 * concurrent attempts packed into lanes. `window.__dash` counts what it drew, and the latency from
 * each attempt's end to the frame that showed it, for the browser test and the benchmark.
 *
 * @module
 */
import { MAX_BARS } from './model.ts';

const STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;gap:16px;align-items:baseline;padding:8px 16px;background:#1d2b3a;color:#fff}
header h1{font-size:16px;margin:0}#status{margin-left:auto;opacity:.85}
main{padding:8px 16px}h2{font-size:14px;margin:14px 0 6px}
#totals{display:flex;gap:18px;font-size:14px}#totals b{font-size:18px}
.grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #e3e3e3;white-space:nowrap}
th{font-weight:600;color:#555}td.num{text-align:right;font-variant-numeric:tabular-nums}
.left td{color:#999}.cur{white-space:normal;color:#555;font-size:12px}
.bar{position:relative;height:12px;width:160px;background:#e6e6e6;border-radius:2px;overflow:hidden;display:inline-block;vertical-align:middle}
.bar i{position:absolute;left:0;top:0;bottom:0;background:#3a7bd5}.bar i.f{background:#222}
#stream{display:flex;background:#fff;border:1px solid #ddd}#lanes{flex:none;width:190px;border-right:1px solid #ddd}
#lanes .lane{height:var(--h);font-size:11px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:0 4px;box-sizing:border-box;border-top:1px solid #f0f0f0}
#canvas-box{flex:1;position:relative;min-width:0}canvas{display:block;width:100%}
#axis{display:flex;justify-content:space-between;color:#777;font-size:11px;margin-left:190px}
#legend span{display:inline-block;margin-right:12px}#legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#888;padding:6px}`;

const SCRIPT = String.raw`
const LANE = 14;
const MAX_BARS = ${MAX_BARS};
const STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried'];
const st = { workers: [], queues: [], flows: [], totals: {}, workerIds: [], names: [], bars: [], open: [], dropped: 0, now: 0, offset: 0 };
const dash = window.__dash = { ticks: 0, bars: 0, drawn: 0, latencies: [], connected: false, lanes: 0 };
let span = 60000, es, pending = null, frame = 0;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const hue = (name) => { let h = 0; for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0; return h % 360; };
const ago = (ms) => ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 60000) + ' min';
function connect() {
  es = new EventSource('events' + location.search);
  es.onopen = () => { dash.connected = true; $('status').textContent = 'live'; };
  es.onerror = () => { dash.connected = false; $('status').textContent = 'reconnecting…'; };
  es.addEventListener('snapshot', (e) => apply(JSON.parse(e.data), true));
  es.addEventListener('tick', (e) => apply(JSON.parse(e.data), false));
}
document.addEventListener('visibilitychange', () => {
  if (document.hidden) { es.close(); dash.connected = false; $('status').textContent = 'paused (tab hidden)'; } else connect();
});
function apply(u, full) {
  Object.assign(st, { now: u.now, offset: u.offset, workers: u.workers, queues: u.queues, flows: u.flows, totals: u.totals, workerIds: u.workerIds, names: u.names, open: u.open, dropped: u.dropped });
  if (full) st.bars = u.bars.slice(); else for (const b of u.bars) st.bars.push(b);
  // The server's bounds: the last 5 minutes, at most MAX_BARS (older bars go first).
  const from = st.now - 300000;
  let cut = Math.max(0, st.bars.length - MAX_BARS); while (cut < st.bars.length && st.bars[cut][1] < from) cut++;
  if (cut) st.bars.splice(0, cut);
  dash.ticks++; dash.bars += u.bars.length;
  pending = pending ? pending.concat(full ? [] : u.bars) : (full ? [] : u.bars.slice());
  if (!frame) frame = requestAnimationFrame(render);
}
function render() {
  frame = 0;
  tables(); draw();
  const fresh = pending || []; pending = null;
  const shown = Date.now() + st.offset;
  for (const b of fresh) dash.latencies.push(shown - b[1]);
  if (dash.latencies.length > 20000) dash.latencies.splice(0, dash.latencies.length - 20000);
  dash.lastDraw = shown;
}
function tables() {
  const t = st.totals;
  $('totals').innerHTML = '<span><b>' + st.workers.filter((w) => w.state === 'live').length + '</b> workers</span><span><b>' + t.running + '</b> running</span><span><b>' + t.finished + '</b> finished</span><span><b>' + t.failed + '</b> failed</span>' + (st.dropped ? '<span>' + st.dropped + ' attempts not drawn (more than the stream shows per update)</span>' : '');
  $('workers').tBodies[0].innerHTML = st.workers.length === 0 ? '<tr><td colspan=8 class=empty>no worker yet</td></tr>' : st.workers.map((w) =>
    '<tr class="' + w.state + '"><td>' + esc(w.id) + '</td><td>' + esc(w.host) + '</td><td>' + esc(Object.entries(w.resources).map(([k, v]) => k + '=' + v).join(', ') || '—') + '</td><td class=num>' + (w.slots ?? '') + '</td><td>' + w.state + '</td><td class=num>' + w.running + '</td><td class=num>' + w.finished + '</td><td class=cur>' +
    w.current.map(([n, s]) => esc(n) + ' (' + ago(st.now - s) + ')').join(', ') + '</td></tr>').join('');
  $('queues').tBodies[0].innerHTML = st.queues.length === 0 ? '<tr><td colspan=3 class=empty>nothing queued</td></tr>' : st.queues.map((q) =>
    '<tr><td>' + esc(q.queue === '' ? 'tasks' : 'tasks~' + q.queue) + '</td><td class=num>' + q.queued + '</td><td class=num>' + q.running + '</td></tr>').join('');
  $('flows').tBodies[0].innerHTML = st.flows.length === 0 ? '<tr><td colspan=6 class=empty>no flow run in progress</td></tr>' : st.flows.map((f) => {
    const total = Math.max(f.submitted, f.finished, 1), done = (100 * (f.finished - f.failed)) / total, bad = (100 * f.failed) / total;
    return '<tr><td>' + esc(f.flowName || '—') + '</td><td>' + esc(f.flowRunId.slice(0, 8)) + '</td><td>' + esc(f.state) + '</td><td><span class=bar><i style="width:' + done + '%"></i><i class=f style="left:' + done + '%;width:' + bad + '%"></i></span> ' + f.finished + '/' + f.submitted + '</td><td class=num>' + f.running + '</td><td class=num>' + f.failed + '</td></tr>';
  }).join('');
}
function draw() {
  const canvas = $('stream-canvas'), box = $('canvas-box');
  const end = st.now, start = end - span;
  // Attempts in view (finished ones, then the open ones growing to now), packed into lanes by start.
  const bars = st.bars, open = st.open, first = firstEnding(start), count = bars.length - first + open.length;
  const s0 = new Float64Array(count), s1 = new Float64Array(count), sw = new Int32Array(count), sn = new Int32Array(count), ss = new Int8Array(count), order = new Array(count);
  for (let k = 0; k < count; k++) {
    const b = k < bars.length - first ? bars[first + k] : null, o = b ? null : open[k - (bars.length - first)];
    s0[k] = b ? b[0] : o[0]; s1[k] = b ? b[1] : end; sw[k] = b ? b[2] : o[1]; sn[k] = b ? b[3] : o[2]; ss[k] = b ? b[4] : -1; order[k] = k;
  }
  order.sort((a, b) => s0[a] - s0[b]);
  const rows = [], laneAt = new Int32Array(count);
  for (const k of order) {
    const lanes = rows[sw[k]] || (rows[sw[k]] = []);
    let i = 0; while (i < lanes.length && lanes[i] > s0[k]) i++;
    lanes[i] = s1[k]; laneAt[k] = i;
  }
  const workers = [...rows.keys()].filter((w) => rows[w]).sort((a, b) => String(st.workerIds[a]).localeCompare(String(st.workerIds[b])));
  const base = new Int32Array(rows.length); let lanes = 0; const labels = [];
  for (const w of workers) { base[w] = lanes; const n = rows[w].length; for (let i = 0; i < n; i++) labels.push(st.workerIds[w] + (n > 1 ? ' #' + (i + 1) : '')); lanes += n; }
  dash.lanes = lanes;
  setHtml('lanes', labels.map((l) => '<div class=lane>' + esc(l) + '</div>').join(''));
  const dpr = window.devicePixelRatio || 1, width = box.clientWidth, height = Math.max(LANE, lanes * LANE);
  const cw = Math.round(width * dpr), ch = Math.round(height * dpr);
  if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; canvas.style.height = height + 'px'; }
  const ctx = canvas.getContext('2d'); ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, width, height);
  const scale = width / span;
  // Bars closer than a pixel in one lane and of one look merge into one rectangle: at full load a
  // lane holds thousands of sub-millisecond attempts per pixel, and each would be a fill of its own.
  const runStyle = new Array(lanes), runX0 = new Float64Array(lanes), runX1 = new Float64Array(lanes).fill(-1);
  const flush = (lane) => { if (runX1[lane] < 0) return; const st = runStyle[lane]; ctx.globalAlpha = st[1]; ctx.fillStyle = st[0]; ctx.fillRect(runX0[lane], lane * LANE + 1, Math.max(1, runX1[lane] - runX0[lane]), LANE - 2); runX1[lane] = -1; };
  const seen = new Set();
  for (const k of order) {
    const n = sn[k], state = ss[k], lane = base[sw[k]] + laneAt[k];
    seen.add(n);
    const look = lookOf(n, state), x0 = Math.max(0, (s0[k] - start) * scale), x1 = Math.max(x0 + 1, (s1[k] - start) * scale);
    if (runX1[lane] >= 0 && runStyle[lane] === look && x0 <= runX1[lane] + 1) { if (x1 > runX1[lane]) runX1[lane] = x1; continue; }
    flush(lane); runStyle[lane] = look; runX0[lane] = x0; runX1[lane] = x1;
  }
  for (let lane = 0; lane < lanes; lane++) flush(lane);
  ctx.globalAlpha = 1;
  dash.drawn = count;
  setHtml('axis', '<span>' + ago(span) + ' ago</span><span>now</span>');
  setHtml('legend', [...seen].slice(0, 30).map((n) => '<span><i style="background:hsl(' + hue(st.names[n] || 'task') + ',62%,50%)"></i>' + esc(st.names[n]) + '</span>').join('') +
    '<span><i style="background:#111"></i>failed</span><span><i style="background:#d62020"></i>crashed</span><span><i style="background:#9a9a9a"></i>cancelled</span><span><i style="background:#888;opacity:.4"></i>retried</span>');
}
/** The first finished bar that ends at or after t (bars arrive in the order they end). */
function firstEnding(t) {
  let lo = 0, hi = st.bars.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (st.bars[mid][1] < t) lo = mid + 1; else hi = mid; }
  return lo;
}
/** A bar's fill and opacity, one shared array per name and state (so equal looks compare as one). */
const looks = [];
function lookOf(n, state) {
  const byName = looks[state + 1] || (looks[state + 1] = []);
  let look = byName[n];
  if (!look) {
    const name = st.names[n] || 'task';
    look = byName[n] = [state === 1 ? '#111' : state === 2 ? '#d62020' : state === 3 ? '#9a9a9a' : 'hsl(' + hue(name) + ',62%,50%)', state === 4 ? 0.4 : state === -1 ? 0.55 : 1];
  }
  return look;
}
/** Sets an element's HTML only when it changed (each set is a layout). */
const html = new Map();
function setHtml(id, value) { if (html.get(id) !== value) { html.set(id, value); $(id).innerHTML = value; } }
$('span').addEventListener('change', (e) => { span = Number(e.target.value); draw(); });
connect();`;

/** The dashboard page, titled by what it shows. */
export function dashboardPage(title: string): string {
  const safe = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>weft dashboard · ${safe}</title><style>${STYLE}</style></head><body style="--h:14px">
<header><h1>weft dashboard</h1><span id="title">${safe}</span><span id="status">connecting…</span></header>
<main>
<section id="totals"></section>
<div class="grid">
<div><h2>Workers</h2><table id="workers"><thead><tr><th>worker</th><th>host</th><th>resources</th><th>slots</th><th>state</th><th>running</th><th>finished</th><th>current tasks</th></tr></thead><tbody></tbody></table></div>
<div><h2>Queues</h2><table id="queues"><thead><tr><th>queue</th><th>queued</th><th>running</th></tr></thead><tbody></tbody></table>
<h2>Flow runs</h2><table id="flows"><thead><tr><th>flow</th><th>run</th><th>state</th><th>progress</th><th>running</th><th>failed</th></tr></thead><tbody></tbody></table></div>
</div>
<h2>Task stream <select id="span"><option value="60000">last minute</option><option value="300000">last 5 minutes</option></select></h2>
<div id="stream"><div id="lanes"></div><div id="canvas-box"><canvas id="stream-canvas"></canvas></div></div>
<div id="axis"></div>
<p id="legend"></p>
</main>
<script>${SCRIPT}</script></body></html>`;
}
