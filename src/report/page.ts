/**
 * The report page's own code and style, inlined into every report. Plain browser JavaScript in a
 * string (the project's TypeScript targets Node, without DOM types); it reads the payload that
 * html.ts embeds, inflates it with the browser's DecompressionStream, and draws everything.
 * No template literals inside: the string is a template literal itself.
 * @module
 */

export const PAGE_CSS = String.raw`
:root { font: 13px/1.4 system-ui, sans-serif; color: #222; }
body { margin: 0 16px 32px; }
h1 { font-size: 20px; margin: 14px 0 4px; }
h2 { font-size: 15px; margin: 22px 0 6px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 9px; color: #fff; font-size: 12px; vertical-align: middle; }
.Completed { background: #2f8f46; } .Failed { background: #111; } .Crashed { background: #d62728; } .Cancelled { background: #888; } .Running { background: #4e79a7; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 4px 16px; }
.summary div b { display: block; font-size: 11px; color: #666; font-weight: normal; }
.stream { display: flex; border: 1px solid #ddd; }
.lanes { flex: none; width: 150px; overflow: hidden; font-size: 11px; color: #444; border-right: 1px solid #ddd; }
.lanes .lane { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-left: 4px; box-sizing: border-box; }
.canvas-box { flex: 1; position: relative; min-width: 0; }
#stream-canvas { display: block; cursor: crosshair; }
.tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #999; padding: 4px 8px; font-size: 12px; white-space: pre; box-shadow: 0 2px 6px #0003; display: none; z-index: 10; }
.legend span { display: inline-block; margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
table { border-collapse: collapse; font-size: 12px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; position: sticky; top: 0; }
.scroll { max-height: 320px; overflow: auto; }
pre.lines { font-size: 11px; max-height: 320px; overflow: auto; background: #fafafa; padding: 6px; margin: 0; }
.note { color: #666; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
`;

export const PAGE_JS = String.raw`
(async function () {
  'use strict';
  var STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried', 'Unfinished'];
  var PALETTE = ['#4e79a7', '#59a14f', '#edc948', '#b07aa1', '#76b7b2', '#f28e2b', '#9c755f', '#1f77b4', '#bcbd22', '#17becf', '#ff9da7', '#8c6d31', '#393b79', '#637939', '#7b4173', '#3182bd'];
  var SPECIAL = { 1: '#111111', 2: '#d62728', 3: '#bbbbbb' };
  var info = { ready: false, attempts: 0, drawn: 0, aggregated: 0, lanes: 0, names: 0, paintMs: 0, hoverMs: [], phases: {} };
  function phase(name) { info.phases[name] = Math.round(performance.now()); }
  phase('script');
  window.weftReport = info;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmtMs(ms) {
    if (!isFinite(ms)) return '–';
    var a = Math.abs(ms);
    if (a === 0) return '0';
    if (a < 1) return (ms * 1000).toPrecision(3) + ' µs';
    if (a < 1000) return ms.toPrecision(3) + ' ms';
    if (a < 60000) return (ms / 1000).toPrecision(3) + ' s';
    return (ms / 60000).toFixed(1) + ' min';
  }
  function fmtInt(n) { return n.toLocaleString('en-US'); }
  function nameColor(n) { return PALETTE[n % PALETTE.length]; }

  // 1. Inflate the payload: [u32 json length][json][varint columns].
  var b64 = document.getElementById('weft-data').textContent, bytes, i;
  if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(b64.trim());
  else { var bin = atob(b64); bytes = new Uint8Array(bin.length); for (i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i); }
  var inflated = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  var jsonLength = new DataView(inflated.buffer).getUint32(0, true);
  var M = JSON.parse(new TextDecoder().decode(inflated.subarray(4, 4 + jsonLength)));
  var pos = 4 + jsonLength;
  phase('inflated');
  function varint() {
    var v = 0, mul = 1, b;
    do { b = inflated[pos++]; v += (b & 127) * mul; mul *= 128; } while (b & 128);
    return v;
  }
  function zigzag() { var v = varint(); return v % 2 ? -(v + 1) / 2 : v / 2; }

  var n = M.summary.attempts;
  var start = new Float64Array(n), end = new Float64Array(n), name = new Int32Array(n), lane = new Int32Array(n);
  var state = new Uint8Array(n), attempt = new Int32Array(n), wait = new Float64Array(n), runNo = new Int32Array(n);
  var t = 0;
  for (i = 0; i < n; i++) { t += varint(); start[i] = t / 1000; }
  for (i = 0; i < n; i++) end[i] = start[i] + varint() / 1000;
  for (i = 0; i < n; i++) name[i] = varint();
  for (i = 0; i < n; i++) lane[i] = varint();
  for (i = 0; i < n; i++) { var sa = varint(); state[i] = sa % 8; attempt[i] = Math.floor(sa / 8); }
  for (i = 0; i < n; i++) wait[i] = varint() / 1000;
  var lastNo = new Int32Array(M.names.length);
  for (i = 0; i < n; i++) { if (M.ids) runNo[i] = varint(); else { lastNo[name[i]] += zigzag(); runNo[i] = lastNo[name[i]]; } }
  function runId(i) { return M.ids ? M.ids[runNo[i]] : M.names[name[i]] + '-' + runNo[i]; }
  info.attempts = n;
  phase('decoded');
  info.lanes = M.lanes.length;
  info.names = M.names.length;

  // 2. The summary.
  var S = M.summary;
  var root = document.getElementById('weft-report');
  var h1 = el('h1', null, S.flowName || '(no flow run)');
  h1.appendChild(document.createTextNode(' '));
  h1.appendChild(el('span', { 'class': 'badge ' + S.state }, S.state));
  root.appendChild(h1);
  root.appendChild(el('div', { 'class': 'note' }, 'flow run ' + S.flowRunId + ' · started ' + new Date(S.startTime).toISOString()));
  var summary = el('div', { 'class': 'summary', id: 'summary' });
  var byState = Object.keys(S.byState).filter(function (k) { return S.byState[k] > 0; }).map(function (k) { return fmtInt(S.byState[k]) + ' ' + k; }).join(', ') || 'none';
  [['runner', S.runner], ['duration', fmtMs(S.durationMs)], ['task runs', fmtInt(S.taskRuns)], ['attempts', fmtInt(S.attempts)],
   ['by state', byState], ['retries', fmtInt(S.retries)], ['crashes', fmtInt(S.crashes)], ['workers', fmtInt(S.workers)],
   ['slots (lanes)', fmtInt(S.slots)], ['subflows', fmtInt(S.subflows)]].forEach(function (p) {
    var d = el('div', { 'data-field': p[0] }); d.appendChild(el('b', null, p[0])); d.appendChild(document.createTextNode(p[1])); summary.appendChild(d);
  });
  root.appendChild(summary);
  if (S.error) root.appendChild(el('pre', { 'class': 'lines' }, S.error));

  // 3. The task stream: one canvas, one lane per worker slot, bars batched by colour.
  root.appendChild(el('h2', null, 'Task stream'));
  var legend = el('div', { 'class': 'legend' });
  M.names.forEach(function (nm, k) { var s = el('span'); var sw = el('i'); sw.style.background = nameColor(k); s.appendChild(sw); s.appendChild(document.createTextNode(nm)); legend.appendChild(s); });
  [['retried attempt (faded, red end mark)', 'linear-gradient(90deg,#4e79a766 80%,#e15759 80%)'], ['failed', '#111'], ['crashed', '#d62728'], ['cancelled', '#bbb'], ['unfinished', 'repeating-linear-gradient(90deg,#888 0 2px,#fff 2px 4px)']].forEach(function (p) {
    var s = el('span'); var sw = el('i'); sw.style.background = p[1]; s.appendChild(sw); s.appendChild(document.createTextNode(p[0])); legend.appendChild(s);
  });
  root.appendChild(legend);
  root.appendChild(el('div', { 'class': 'note' }, 'wheel to zoom, drag to pan, double-click to reset; bars narrower than a pixel that share one are drawn once (the count stays exact)'));
  var L = M.lanes.length;
  var laneH = Math.max(3, Math.min(18, Math.floor(560 / Math.max(1, L))));
  var AXIS = 18;
  var box = el('div', { 'class': 'stream' });
  var labels = el('div', { 'class': 'lanes', id: 'lanes' });
  var spacer = el('div'); spacer.style.height = AXIS + 'px'; labels.appendChild(spacer);
  M.lanes.forEach(function (ln) { var d = el('div', { 'class': 'lane', title: ln.worker + ' slot ' + ln.slot }, ln.worker + (ln.slot ? ' #' + ln.slot : '')); d.style.height = laneH + 'px'; d.style.lineHeight = laneH + 'px'; d.style.fontSize = Math.min(11, laneH) + 'px'; labels.appendChild(d); });
  var cbox = el('div', { 'class': 'canvas-box' });
  var canvas = el('canvas', { id: 'stream-canvas' });
  cbox.appendChild(canvas);
  box.appendChild(labels); box.appendChild(cbox);
  root.appendChild(box);
  if (n === 0) root.appendChild(el('div', { 'class': 'note', id: 'no-tasks' }, 'This run started no task runs.'));
  var tip = el('div', { 'class': 'tip', id: 'tip' });
  document.body.appendChild(tip);

  // Bars grouped by colour key (counting sort, each group in start order) and per lane (for hover).
  var keyOf = new Int32Array(n), K = M.names.length * 3 + 4;
  for (i = 0; i < n; i++) { var s0 = state[i]; keyOf[i] = s0 === 0 ? name[i] * 3 : s0 === 4 ? name[i] * 3 + 1 : s0 === 5 ? name[i] * 3 + 2 : M.names.length * 3 + s0; }
  function groupBy(keys, count) {
    var off = new Int32Array(count + 1), idx = new Int32Array(n);
    for (var j = 0; j < n; j++) off[keys[j] + 1]++;
    for (var c = 0; c < count; c++) off[c + 1] += off[c];
    var fill = off.slice(0, count);
    for (j = 0; j < n; j++) idx[fill[keys[j]]++] = j;
    return { off: off, idx: idx };
  }
  var byKey = groupBy(keyOf, K);
  var byLane = groupBy(lane, L);
  var maxDur = 0;
  for (i = 0; i < n; i++) if (end[i] - start[i] > maxDur) maxDur = end[i] - start[i];
  var T = Math.max(S.durationMs, n ? end[n - 1] : 0, 1e-3);
  for (i = 0; i < n; i++) if (end[i] > T) T = end[i];
  var v0 = 0, v1 = T, W = 0, dpr = window.devicePixelRatio || 1;
  var ctx = canvas.getContext('2d');
  function keyColor(k) {
    if (k >= M.names.length * 3) return SPECIAL[k - M.names.length * 3] || '#888';
    return nameColor(Math.floor(k / 3));
  }
  function firstVisible(list, lo, hi, from) {
    // The first index in [lo, hi) of a start-ordered list whose bar may reach past 'from'.
    var target = from - maxDur;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (start[list[mid]] < target) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function ticks(a, b, px) {
    var span = b - a, step = Math.pow(10, Math.floor(Math.log10(span / Math.max(1, px / 110))));
    [1, 2, 5, 10].some(function (m) { if (span / (step * m) <= px / 110) { step *= m; return true; } return false; });
    var out = []; for (var x = Math.ceil(a / step) * step; x <= b; x += step) out.push(x); return out;
  }
  function draw() {
    W = cbox.clientWidth || 800;
    var H = AXIS + L * laneH + 2;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var scale = W / (v1 - v0);
    ctx.fillStyle = '#666'; ctx.font = '10px system-ui'; ctx.strokeStyle = '#eee';
    ticks(v0, v1, W).forEach(function (x) { var px = (x - v0) * scale; ctx.fillText(fmtMs(x), px + 2, 12); ctx.beginPath(); ctx.moveTo(px + 0.5, AXIS); ctx.lineTo(px + 0.5, H); ctx.stroke(); });
    var drawn = 0, aggregated = 0, lastPx = new Float64Array(L);
    var barH = Math.max(1, laneH - (laneH > 4 ? 2 : 0)), inset = laneH > 4 ? 1 : 0;
    for (var k = 0; k < K; k++) {
      var lo = byKey.off[k], hi = byKey.off[k + 1];
      if (lo === hi) continue;
      var retried = k < M.names.length * 3 && k % 3 === 1, unfinished = k < M.names.length * 3 && k % 3 === 2;
      ctx.fillStyle = keyColor(k);
      ctx.globalAlpha = retried ? 0.4 : unfinished ? 0.6 : 1;
      lastPx.fill(-Infinity);
      for (var j = firstVisible(byKey.idx, lo, hi, v0); j < hi; j++) {
        var b = byKey.idx[j];
        if (start[b] > v1) break;
        if (end[b] < v0) continue;
        var x0 = (start[b] - v0) * scale, w = (end[b] - start[b]) * scale, ln = lane[b];
        if (w < 1) { if (Math.floor(x0) <= lastPx[ln]) { aggregated++; continue; } w = 1; }
        ctx.fillRect(x0, AXIS + ln * laneH + inset, w, barH);
        lastPx[ln] = Math.floor(x0 + w) - 1;
        drawn++;
      }
      if (retried) {
        // The failure that led to a retry: a red mark at the attempt's end.
        ctx.globalAlpha = 1; ctx.fillStyle = '#e15759';
        for (j = lo; j < hi; j++) { b = byKey.idx[j]; if (end[b] < v0 || start[b] > v1) continue; ctx.fillRect((end[b] - v0) * scale - 2, AXIS + lane[b] * laneH + inset, 2, barH); }
      }
    }
    ctx.globalAlpha = 1;
    // Workers leaving and scale events: vertical markers.
    M.workerEvents.forEach(function (e) {
      if (e.kind === 'joined' || e.time < v0 || e.time > v1) return;
      var px = (e.time - v0) * scale; ctx.strokeStyle = e.kind === 'left' ? '#d62728' : '#2f8f46'; ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.moveTo(px + 0.5, AXIS); ctx.lineTo(px + 0.5, H); ctx.stroke(); ctx.setLineDash([]);
    });
    info.drawn = drawn; info.aggregated = aggregated;
    canvas.setAttribute('data-drawn', drawn); canvas.setAttribute('data-aggregated', aggregated);
  }
  var pending = false;
  function redraw() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } }

  function hit(x, y) {
    var ln = Math.floor((y - AXIS) / laneH);
    if (ln < 0 || ln >= L || n === 0) return -1;
    var scale = W / (v1 - v0), tm = v0 + x / scale, tol = 3 / scale;
    var lo = byLane.off[ln], hi = byLane.off[ln + 1], list = byLane.idx;
    // Bars of one lane overlap at most by the few event-loop turns a finish is heard late (see
    // PACK_TOLERANCE_MS): of the bars under the pointer, the one that started last is on top.
    var a = lo, z = hi;
    while (a < z) { var mid = (a + z) >> 1; if (start[list[mid]] <= tm + tol) a = mid + 1; else z = mid; }
    var best = -1, bestD = Infinity;
    for (var j = Math.max(lo, a - 2); j < Math.min(hi, a + 1); j++) {
      var b = list[j], d = tm < start[b] ? start[b] - tm : tm > end[b] ? tm - end[b] : 0;
      if (d <= tol && d <= bestD) { best = b; bestD = d; }
    }
    return best;
  }
  function tipText(b) {
    var ln = M.lanes[lane[b]];
    return M.names[name[b]] + '  ' + runId(b) + '\nattempt ' + attempt[b] + ' · ' + STATES[state[b]] +
      '\nworker ' + ln.worker + (ln.slot ? ' (slot ' + ln.slot + ')' : '') +
      '\nstart ' + fmtMs(start[b]) + ' · end ' + fmtMs(end[b]) + ' · took ' + fmtMs(end[b] - start[b]) +
      '\nwaited ' + fmtMs(wait[b]) + (M.overhead.basis === 'ready' ? ' (ready → start)' : ' (submitted → start)');
  }
  var drag = null;
  canvas.addEventListener('mousemove', function (e) {
    var t0 = performance.now();
    var r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (drag) { var dt = (drag.x - x) * (v1 - v0) / W; v0 = drag.v0 + dt; v1 = drag.v1 + dt; redraw(); return; }
    var b = hit(x, y);
    if (b < 0) { tip.style.display = 'none'; tip.removeAttribute('data-bar'); }
    else { tip.textContent = tipText(b); tip.style.display = 'block'; tip.style.left = (e.clientX + 14) + 'px'; tip.style.top = (e.clientY + 14) + 'px'; tip.setAttribute('data-bar', b); }
    info.hoverMs.push(performance.now() - t0);
  });
  canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; drag = null; });
  canvas.addEventListener('mousedown', function (e) { var r = canvas.getBoundingClientRect(); drag = { x: e.clientX - r.left, v0: v0, v1: v1 }; });
  window.addEventListener('mouseup', function () { drag = null; });
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect(), at = v0 + (e.clientX - r.left) / W * (v1 - v0), f = e.deltaY > 0 ? 1.25 : 0.8;
    var span = Math.max((v1 - v0) * f, 1e-3);
    v0 = at - (at - v0) * span / (v1 - v0); v1 = v0 + span; redraw();
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { v0 = 0; v1 = T; redraw(); });
  window.addEventListener('resize', redraw);
  draw();
  phase('stream drawn');
  // Where bar i is on screen and what it is: for tests that hover it as a person would.
  info.where = function (i) {
    var r = canvas.getBoundingClientRect(), scale = W / (v1 - v0), x0 = (start[i] - v0) * scale, x1 = (end[i] - v0) * scale;
    return { x: r.left + (x0 + Math.max(x1, x0 + 1)) / 2, width: x1 - x0, y: r.top + AXIS + lane[i] * laneH + laneH / 2,
      name: M.names[name[i]], runId: runId(i), attempt: attempt[i], state: STATES[state[i]], worker: M.lanes[lane[i]].worker };
  };

  // 4. Over time: busy slots, workers, ready-queue depth (uPlot); scheduler overhead histogram.
  root.appendChild(el('h2', null, 'Over time'));
  var charts = el('div', { 'class': 'charts' });
  root.appendChild(charts);
  var TL = M.timeline, width = Math.max(400, Math.min(900, (root.clientWidth || 1200) / 2 - 20));
  var util = el('div', { id: 'chart-utilisation' }); charts.appendChild(util);
  var basis = M.overhead.basis === 'ready' ? '' : ' (from submission: these events carry no ready time)';
  new uPlot({
    title: 'busy slots, workers and ready-queue depth', width: width, height: 240,
    scales: { x: { time: false }, q: {} },
    series: [{ label: 'time', value: function (u, v) { return v == null ? '–' : fmtMs(v); } },
      { label: 'busy slots', stroke: '#4e79a7', fill: '#4e79a722', width: 1.5 },
      { label: 'workers', stroke: '#2f8f46', dash: [4, 3], width: 1 },
      { label: 'queued' + basis, stroke: '#f28e2b', scale: 'q', width: 1.5 }],
    axes: [{ values: function (u, vs) { return vs.map(fmtMs); } }, { label: 'slots' }, { scale: 'q', side: 1, label: 'queued', grid: { show: false } }],
  }, [TL.t, TL.busy, TL.workers, TL.queued], util);
  var O = M.overhead, hist = O.readyToStart.histogram;
  var ov = el('div', { id: 'chart-overhead' }); charts.appendChild(ov);
  new uPlot({
    title: (O.basis === 'ready' ? 'ready → start' : 'submitted → start') + ' per task run: p50 ' + fmtMs(O.readyToStart.p50Ms) + ', p95 ' + fmtMs(O.readyToStart.p95Ms),
    width: width, height: 240, scales: { x: { time: false } },
    series: [{ label: 'from', value: function (u, v) { return v == null ? '–' : fmtMs(hist.edges[v]) + ' – ' + fmtMs(hist.edges[v + 1]); } },
      { label: 'task runs', fill: '#4e79a7aa', stroke: '#4e79a7', paths: uPlot.paths.bars({ size: [0.9, 40] }), points: { show: false } }],
    axes: [{ values: function (u, vs) { return vs.map(function (v) { return hist.edges[v] == null ? '' : fmtMs(hist.edges[v]); }); } }, { label: 'task runs' }],
  }, [hist.counts.map(function (c, k) { return k; }), hist.counts], ov);
  var ovNote = 'scheduler overhead: ' + (O.basis === 'ready' ? 'ready → start' : 'submitted → start (the events carry no ready time, so this includes waiting for upstream futures)') +
    ' p50 ' + fmtMs(O.readyToStart.p50Ms) + ', p95 ' + fmtMs(O.readyToStart.p95Ms);
  if (O.submitToReady) ovNote += '; submit → ready (waiting for upstream) p50 ' + fmtMs(O.submitToReady.p50Ms) + ', p95 ' + fmtMs(O.submitToReady.p95Ms);
  root.appendChild(el('div', { 'class': 'note', id: 'overhead' }, ovNote));

  // 5. Tables.
  function table(id, head, rows) {
    var wrap = el('div', { 'class': 'scroll' }), tb = el('table', { id: id }), tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', null, h)); });
    var th = el('thead'); th.appendChild(tr); tb.appendChild(th);
    var body = el('tbody');
    rows.forEach(function (r) { var row = el('tr'); r.forEach(function (c) { row.appendChild(el('td', null, String(c))); }); body.appendChild(row); });
    tb.appendChild(body); wrap.appendChild(tb); return wrap;
  }
  root.appendChild(el('h2', null, 'Task runs by name'));
  root.appendChild(el('div', { 'class': 'note' }, 'durations are of attempts; wait p95 is of first attempts, ' + (O.basis === 'ready' ? 'ready → start' : 'submitted → start')));
  root.appendChild(table('tasks', ['task', 'runs', 'completed', 'failed', 'crashed', 'cancelled', 'retries', 'total', 'mean', 'p50', 'p95', 'max', 'wait p95'],
    M.tasks.map(function (r) { return [r.name, fmtInt(r.count), fmtInt(r.completed), fmtInt(r.failed), fmtInt(r.crashed), fmtInt(r.cancelled), fmtInt(r.retries), fmtMs(r.totalMs), fmtMs(r.meanMs), fmtMs(r.p50Ms), fmtMs(r.p95Ms), fmtMs(r.maxMs), fmtMs(r.waitP95Ms)]; })));
  root.appendChild(el('h2', null, 'Workers and scaling'));
  root.appendChild(table('workers', ['time', 'event', 'detail'], M.workerEvents.map(function (e) { return [fmtMs(e.time), e.kind, e.text]; })));
  if (M.subflows.length) {
    root.appendChild(el('h2', null, 'Subflows'));
    root.appendChild(table('subflows', ['flow', 'flow run', 'parent', 'start', 'duration', 'state'], M.subflows.map(function (s) {
      return [s.flowName, s.flowRunId, s.parentFlowRunId, fmtMs(s.start - S.startTime), s.end == null ? '–' : fmtMs(s.end - s.start), s.state];
    })));
  }
  function lines(title, id, c) {
    root.appendChild(el('h2', null, title + ' (' + fmtInt(c.lines.length + c.dropped) + ')'));
    if (c.dropped) root.appendChild(el('div', { 'class': 'note' }, fmtInt(c.dropped) + ' more not kept'));
    root.appendChild(el('pre', { 'class': 'lines', id: id }, c.lines.map(function (l) { return fmtMs(l.time).padStart(9) + ' ' + l.level.toUpperCase() + ' [' + l.taskRunId + (l.workerId ? ' @ ' + l.workerId : '') + '] ' + l.message; }).join('\n') || '(none)'));
  }
  lines('Errors', 'errors', M.errors);
  lines('Task logs', 'logs', M.logs);
  phase('done');
  info.ready = true;
  document.body.setAttribute('data-ready', 'true');
  // First paint: two animation frames after the script finished, the page's own clock (a harness
  // that asks from outside adds its own round trips).
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    info.paintMs = performance.now();
    document.body.setAttribute('data-painted', 'true');
  }); });
})().catch(function (e) {
  document.body.setAttribute('data-error', String(e && e.stack || e));
  document.body.appendChild(document.createTextNode('The report could not be drawn: ' + e));
});
`;
