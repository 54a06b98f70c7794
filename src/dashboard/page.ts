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
#canvas-box{flex:1;position:relative;min-width:0}canvas{display:block;width:100%}#stream-over{position:absolute;left:0;top:0}
#axis{display:flex;justify-content:space-between;color:#777;font-size:11px;margin-left:190px}
#legend span{display:inline-block;margin-right:12px}#legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#888;padding:6px}`;

const SCRIPT = String.raw`
const LANE = 14;
const MAX_BARS = ${MAX_BARS};
const STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried'];
const st = { workers: [], queues: [], flows: [], totals: {}, workerIds: [], names: [], bars: [], open: [], dropped: 0, now: 0, offset: 0 };
const dash = window.__dash = { ticks: 0, bars: 0, drawn: 0, latencies: [], connected: false, lanes: 0, layouts: 0 };
let span = 60000, es, fresh = [], frame = 0;
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
  if (full) { st.bars = u.bars.slice(); fresh = []; lay.stale = true; } else for (const b of u.bars) { st.bars.push(b); fresh.push(b); }
  // The server's bounds: the last 5 minutes, at most MAX_BARS (older bars go first).
  const from = st.now - 300000;
  let cut = Math.max(0, st.bars.length - MAX_BARS); while (cut < st.bars.length && st.bars[cut][1] < from) cut++;
  if (cut) st.bars.splice(0, cut);
  dash.ticks++; dash.bars += u.bars.length;
  if (!frame) frame = requestAnimationFrame(render);
}
function render() {
  frame = 0;
  const shownBars = fresh; fresh = [];
  tables(); draw(shownBars);
  const shown = Date.now() + st.offset;
  for (const b of shownBars) dash.latencies.push(shown - b[1]);
  if (dash.latencies.length > 20000) dash.latencies.splice(0, dash.latencies.length - 20000);
  dash.lastDraw = shown;
}
function tables() {
  const t = st.totals;
  setHtml('totals', '<span><b>' + st.workers.filter((w) => w.state === 'live').length + '</b> workers</span><span><b>' + t.running + '</b> running</span><span><b>' + t.finished + '</b> finished</span><span><b>' + t.failed + '</b> failed</span>' + (st.dropped ? '<span>' + st.dropped + ' attempts not drawn (more than the stream shows per update)</span>' : ''));
  setHtml('workers-body', st.workers.length === 0 ? '<tr><td colspan=8 class=empty>no worker yet</td></tr>' : st.workers.map((w) =>
    '<tr class="' + w.state + '"><td>' + esc(w.id) + '</td><td>' + esc(w.host) + '</td><td>' + esc(Object.entries(w.resources).map(([k, v]) => k + '=' + v).join(', ') || '—') + '</td><td class=num>' + (w.slots ?? '') + '</td><td>' + w.state + '</td><td class=num>' + w.running + '</td><td class=num>' + w.finished + '</td><td class=cur>' +
    w.current.map(([n, s]) => esc(n) + ' (' + ago(st.now - s) + ')').join(', ') + '</td></tr>').join(''));
  setHtml('queues-body', st.queues.length === 0 ? '<tr><td colspan=3 class=empty>nothing queued</td></tr>' : st.queues.map((q) =>
    '<tr><td>' + esc(q.queue === '' ? 'tasks' : 'tasks~' + q.queue) + '</td><td class=num>' + q.queued + '</td><td class=num>' + q.running + '</td></tr>').join(''));
  setHtml('flows-body', st.flows.length === 0 ? '<tr><td colspan=6 class=empty>no flow run in progress</td></tr>' : st.flows.map((f) => {
    const total = Math.max(f.submitted, f.finished, 1), done = (100 * (f.finished - f.failed)) / total, bad = (100 * f.failed) / total;
    return '<tr><td>' + esc(f.flowName || '—') + '</td><td>' + esc(f.flowRunId.slice(0, 8)) + '</td><td>' + esc(f.state) + '</td><td><span class=bar><i style="width:' + done + '%"></i><i class=f style="left:' + done + '%;width:' + bad + '%"></i></span> ' + f.finished + '/' + f.submitted + '</td><td class=num>' + f.running + '</td><td class=num>' + f.failed + '</td></tr>';
  }).join(''));
}
/*
 * The task stream, drawn incrementally: each finished bar gets its lane once, when it arrives (the
 * first lane of its worker free at its start: bars in a lane never overlap, whatever the order they
 * come in), and is painted once on the stream canvas, whose pixels move left as time goes on. The
 * running attempts are painted afresh each frame on an overlay. Everything is laid out and painted
 * again only when the layout changes (a new worker or lane, the span, the width), and every
 * REPACK_MS, so lanes no bar uses any more go away. So a frame costs what arrived, not what is shown.
 */
const REPACK_MS = 10000;
const lay = { stale: true, ends: [], lanes: [], base: [], total: 0, origin: 0, pxPerMs: 0, cw: 0, ch: 0, dpr: 1, at: 0 };
/**
 * Gives finished bar b its lane in its worker (b[5]): the first whose bars end by its start and
 * that no running attempt holds from before its end (held[w][lane]: that attempt's start).
 * False when the worker needs more lanes than it is drawn with.
 */
function place(b, held) {
  const ends = lay.ends[b[2]] || (lay.ends[b[2]] = []), h = held[b[2]] || [];
  let i = 0; while ((i < ends.length && ends[i] > b[0]) || h[i] < b[1]) i++;
  while (ends.length < i) ends.push(-Infinity);
  ends[i] = b[1]; b[5] = i;
  return i < (lay.lanes[b[2]] || 0);
}
/** The running attempts' lanes (first free after the finished bars'), not kept: they end. */
function placeOpen() {
  const held = [], open = [];
  for (const o of st.open.slice().sort((a, b) => a[0] - b[0])) {
    const ends = lay.ends[o[1]] || [], h = held[o[1]] || (held[o[1]] = []);
    let i = 0; while ((i < ends.length && ends[i] > o[0]) || h[i] !== undefined) i++;
    h[i] = o[0]; open.push([o[0], o[1], o[2], i]);
  }
  return { held, open };
}
function draw(arrived) {
  const canvas = $('stream-canvas'), over = $('stream-over'), dpr = window.devicePixelRatio || 1, width = $('canvas-box').clientWidth;
  let stale = lay.stale || Math.round(width * dpr) !== lay.cw || dpr !== lay.dpr || st.now - lay.at > REPACK_MS;
  let { held, open } = placeOpen();
  if (!stale) {
    for (const b of arrived) if (!place(b, held)) stale = true;
    for (const o of open) if (o[3] >= (lay.lanes[o[1]] || 0)) stale = true;
  }
  if (stale) open = relayout(canvas, over, width, dpr);
  else shift(canvas);
  const ctx = canvas.getContext('2d');
  if (stale) paint(ctx, st.bars, firstEnding(lay.origin)); else paint(ctx, arrived, 0);
  const octx = over.getContext('2d'); octx.clearRect(0, 0, lay.cw, lay.ch);
  let named = false;
  for (const o of open) {
    bar(octx, o[0], st.now, lay.base[o[1]] + o[3], lookOf(o[2], -1));
    named = see(o[2]) || named;
  }
  if (named) legend();
  dash.drawn = st.bars.length - firstEnding(st.now - span) + open.length;
}
/** Lanes from scratch for every kept bar and running attempt, the canvases sized to them, the left edge at now - span. */
function relayout(canvas, over, width, dpr) {
  lay.stale = false; lay.ends = []; lay.lanes = []; lay.at = st.now; dash.layouts++;
  for (const b of st.bars) place(b, []);
  const { open } = placeOpen();
  const counts = lay.ends.map((e) => e.length);
  for (const o of open) counts[o[1]] = Math.max(counts[o[1]] || 0, o[3] + 1);
  const workers = [...counts.keys()].filter((w) => counts[w]).sort((a, b) => String(st.workerIds[a]).localeCompare(String(st.workerIds[b])));
  lay.lanes = counts; lay.base = []; lay.total = 0; const labels = [];
  for (const w of workers) { lay.base[w] = lay.total; const n = counts[w]; for (let i = 0; i < n; i++) labels.push(st.workerIds[w] + (n > 1 ? ' #' + (i + 1) : '')); lay.total += n; }
  dash.lanes = lay.total;
  setHtml('lanes', labels.map((l) => '<div class=lane>' + esc(l) + '</div>').join(''));
  const height = Math.max(LANE, lay.total * LANE);
  lay.dpr = dpr; lay.cw = Math.round(width * dpr); lay.ch = Math.round(height * dpr);
  for (const c of [canvas, over]) { c.width = lay.cw; c.height = lay.ch; c.style.height = height + 'px'; }
  lay.pxPerMs = lay.cw / span; lay.origin = st.now - span;
  seen.clear();
  return open;
}
/** Moves the stream's pixels left by whole pixels, so that now is inside it. */
function shift(canvas) {
  const over = st.now - (lay.origin + span);
  if (over <= 0) return;
  const k = Math.ceil(over * lay.pxPerMs), ctx = canvas.getContext('2d');
  ctx.globalCompositeOperation = 'copy'; ctx.drawImage(canvas, -k, 0); ctx.globalCompositeOperation = 'source-over';
  lay.origin += k / lay.pxPerMs;
}
/** One bar from t0 to t1 in a lane, in device pixels from the stream's left edge. */
function bar(ctx, t0, t1, lane, look) {
  const x0 = Math.max(0, (t0 - lay.origin) * lay.pxPerMs), x1 = Math.max(x0 + lay.dpr, (t1 - lay.origin) * lay.pxPerMs);
  ctx.globalAlpha = look[1]; ctx.fillStyle = look[0]; ctx.fillRect(x0, (lane * LANE + 1) * lay.dpr, x1 - x0, (LANE - 2) * lay.dpr);
}
/**
 * Paints bars[from..]. Bars closer than a pixel in one lane and of one look merge into one
 * rectangle: at full load a lane holds thousands of sub-millisecond attempts per pixel.
 */
const seen = new Set();
/** Notes a task name as drawn; true if it is new (the legend then lists it). */
function see(n) { if (seen.has(n)) return false; seen.add(n); return true; }
function paint(ctx, bars, from) {
  const lanes = lay.total, runStyle = new Array(lanes), runX0 = new Float64Array(lanes), runX1 = new Float64Array(lanes).fill(-1), px = lay.dpr;
  const flush = (lane) => { if (runX1[lane] < 0) return; const look = runStyle[lane]; ctx.globalAlpha = look[1]; ctx.fillStyle = look[0]; ctx.fillRect(runX0[lane], (lane * LANE + 1) * px, Math.max(px, runX1[lane] - runX0[lane]), (LANE - 2) * px); runX1[lane] = -1; };
  let named = false;
  for (let k = from; k < bars.length; k++) {
    const b = bars[k], lane = lay.base[b[2]] + b[5];
    named = see(b[3]) || named;
    const look = lookOf(b[3], b[4]), x0 = Math.max(0, (b[0] - lay.origin) * lay.pxPerMs), x1 = Math.max(x0 + px, (b[1] - lay.origin) * lay.pxPerMs);
    if (runX1[lane] >= 0 && runStyle[lane] === look && x0 <= runX1[lane] + px) { if (x1 > runX1[lane]) runX1[lane] = x1; continue; }
    flush(lane); runStyle[lane] = look; runX0[lane] = x0; runX1[lane] = x1;
  }
  for (let lane = 0; lane < lanes; lane++) flush(lane);
  ctx.globalAlpha = 1;
  if (named) legend();
}
function legend() {
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
$('span').addEventListener('change', (e) => { span = Number(e.target.value); lay.stale = true; draw([]); });
connect();`;

/** The dashboard page, titled by what it shows. */
export function dashboardPage(title: string): string {
  const safe = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>weft dashboard · ${safe}</title><style>${STYLE}</style></head><body style="--h:14px">
<header><h1>weft dashboard</h1><span id="title">${safe}</span><span id="status">connecting…</span></header>
<main>
<section id="totals"></section>
<div class="grid">
<div><h2>Workers</h2><table id="workers"><thead><tr><th>worker</th><th>host</th><th>resources</th><th>slots</th><th>state</th><th>running</th><th>finished</th><th>current tasks</th></tr></thead><tbody id="workers-body"></tbody></table></div>
<div><h2>Queues</h2><table id="queues"><thead><tr><th>queue</th><th>queued</th><th>running</th></tr></thead><tbody id="queues-body"></tbody></table>
<h2>Flow runs</h2><table id="flows"><thead><tr><th>flow</th><th>run</th><th>state</th><th>progress</th><th>running</th><th>failed</th></tr></thead><tbody id="flows-body"></tbody></table></div>
</div>
<h2>Task stream <select id="span"><option value="60000">last minute</option><option value="300000">last 5 minutes</option></select></h2>
<div id="stream"><div id="lanes"></div><div id="canvas-box"><canvas id="stream-canvas"></canvas><canvas id="stream-over"></canvas></div></div>
<div id="axis"></div>
<p id="legend"></p>
</main>
<script>${SCRIPT}</script></body></html>`;
}
