// @needs chromium redis-server
/**
 * The live dashboard as a person sees it, in Debian's chromium: a cluster's page shows a worker
 * joining and tasks finishing while a flow runs (pushed within a generous bound here; the
 * benchmark measures the latency), the page of one flow run on a local runner, and the token rule
 * beyond loopback. Screenshots go to tests/artifacts/ (WEFT_UPDATE_DOCS=1 refreshes docs/dashboard.png).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DistributedTaskRunner, flow, ParallelTaskRunner, task } from '../../src/index.ts';
import { clusterDashboard, runDashboard } from '../../src/dashboard/dashboard.ts';
import { dashboardPage } from '../../src/dashboard/page.ts';
import { boom, sleepy } from '../fixtures/cluster/tasks.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { deferred, until } from '../helpers/eventually.ts';
import { ROOT, startBackgroundRedis, startCli, type BackgroundRedis, type CliProcess } from '../helpers/redis.ts';

process.env.WEFT_TASK_LOGS = 'off';
const artifacts = join(ROOT, 'tests/artifacts');
mkdirSync(artifacts, { recursive: true });
let browser: Browser;
let redis: BackgroundRedis;
const workers: CliProcess[] = [];
before(async () => {
  [browser, redis] = await Promise.all([launchBrowser(), startBackgroundRedis()]);
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await browser?.close();
  await redis?.stop();
});

interface Shown {
  connected: boolean;
  ticks: number;
  drawn: number;
  lanes: number;
  latencies: number[];
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as { __dash: Shown }).__dash;
    return { connected: d.connected, ticks: d.ticks, drawn: d.drawn, lanes: d.lanes, latencies: d.latencies.slice() };
  });
}

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await until(async () => (await shown(page)).connected, 15_000, 'the page to connect');
  return { page, errors };
}

const rows = (page: Page, table: string) => page.locator(`#${table} tbody tr`).allInnerTexts();

test("a cluster's dashboard shows a worker joining and tasks finishing while a flow runs", async () => {
  const dashboard = await clusterDashboard(redis.address);
  let release = () => {};
  try {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'bound to loopback, and the URL says the bound port');
    const { page, errors } = await open(dashboard.url);
    assert.match((await rows(page, 'workers')).join('\n'), /no worker yet/);

    // Started through the real `weft worker`; a loaded machine may take a while to load it.
    const worker = startCli(['worker', '--address', redis.address, '--lock-ms', '1500', '--grace-ms', '1000', '--concurrency', '2', '--name', 'dash-w1'], {});
    workers.push(worker);
    await worker.waitFor(/joined/, 300_000);
    await until(async () => (await rows(page, 'workers')).some((r) => /dash-w1.*live/s.test(r)), 15_000, 'the worker to show as live');

    // The flow run holds on at its end until the test has looked: what the page shows is seen while it runs.
    const gate = deferred();
    release = () => gate.resolve();
    const demo = flow(async function dashDemo() {
      const slow = Array.from({ length: 6 }, (_, i) => sleepy.submit(300 + 50 * i));
      await boom.submit('on purpose').wait();
      await Promise.all(slow.map((f) => f.wait()));
      await gate.promise;
      throw new Error('done looking');
    }).withOptions({ taskRunner: new DistributedTaskRunner({ address: redis.address }) });
    const run = demo.run();
    // While it runs: the flow run's row with its progress, a task running on the worker.
    await until(async () => (await rows(page, 'flows')).some((r) => /dashDemo\s+\S+\s+Running\s+\d+\/7/.test(r)), 15_000, 'the flow run in progress');
    await until(async () => (await rows(page, 'workers')).some((r) => /dash-w1.*sleepy \(/s.test(r)), 15_000, "the worker's current task");
    // A task finishing while the flow runs: a bar on the stream, the failed count.
    await until(async () => /7\s+finished/.test(await page.locator('#totals').innerText()), 15_000, 'every task run finished');
    assert.match(await page.locator('#totals').innerText(), /1\s+failed/);
    await until(async () => (await rows(page, 'flows')).some((r) => /dashDemo\s+\S+\s+Running\s+7\/7/.test(r)), 15_000, 'the flow run at 7/7, still running');
    const s = await shown(page);
    assert.equal(s.drawn, 7, 'one bar per attempt');
    assert.ok(s.lanes >= 2, `two slots, packed in lanes (${s.lanes})`);
    assert.ok(s.latencies.length >= 7);
    const p95 = [...s.latencies].sort((a, b) => a - b)[Math.ceil(0.95 * s.latencies.length) - 1] as number;
    // Generous here (a loaded machine); the benchmark holds the 500 ms target.
    assert.ok(p95 < 5000, `event-to-screen p95 ${p95} ms`);
    assert.deepEqual((await rows(page, 'queues')).map((r) => r.split(/\s+/)), [['tasks', '0', '0']]);
    assert.deepEqual(errors, []);
    const shot = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.WEFT_UPDATE_DOCS) copyFileSync(shot, join(ROOT, 'docs/dashboard.png'));
    gate.resolve();
    assert.equal((await run).state, 'Failed');
    await until(async () => (await rows(page, 'flows')).some((r) => /dashDemo\s+\S+\s+Failed/.test(r)), 15_000, 'the flow run ended Failed, as its record says (not a bare Ended)');
    await page.close();
  } finally {
    release();
    await dashboard.close();
  }
});

const local = task(async function local(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

test("one flow run's dashboard on a local runner (weft run --dashboard)", async () => {
  const gate = deferred();
  const demo = flow(async function localDemo() {
    const first = await Promise.all(Array.from({ length: 4 }, () => local.submit(50)).map((f) => f.result()));
    await gate.promise;
    return first.length;
  }).withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 2 }) });
  const run = demo.run();
  const dashboard = await runDashboard(run, 'flow run localDemo');
  try {
    const { page } = await open(dashboard.url);
    await until(async () => (await shown(page)).drawn === 4, 15_000, 'the four finished tasks');
    assert.match((await rows(page, 'flows')).join('\n'), /localDemo.*Running.*4\/4/s);
    gate.resolve();
    await run;
    await until(async () => (await rows(page, 'flows')).some((r) => /Completed/.test(r)), 15_000, 'the run completed');
    await page.close();
  } finally {
    gate.resolve();
    await dashboard.close();
  }
});

test('bound beyond loopback, a dashboard needs a token: refused without one, 401 without it, served with it', async () => {
  await assert.rejects(clusterDashboard(redis.address, { host: '0.0.0.0' }), /reachable from other machines.*token/);
  const dashboard = await clusterDashboard(redis.address, { host: '0.0.0.0', token: 's3cret' });
  try {
    const url = new URL(dashboard.url);
    assert.equal(url.searchParams.get('token'), 's3cret');
    const local = `http://127.0.0.1:${url.port}/`;
    assert.equal((await fetch(local)).status, 401);
    assert.equal((await fetch(`${local}events?token=wrong`)).status, 401);
    assert.equal((await fetch(local, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
    // The page's own requests are relative and carry the token: it connects.
    const { page } = await open(`${local}?token=s3cret`);
    await page.close();
  } finally {
    await dashboard.close();
  }
});

test('at full load the page keeps at most 20,000 bars and still shows one failed attempt among them', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  try {
    await page.setContent(dashboardPage('synthetic'));
    // 30 updates of 2,000 sub-millisecond attempts on 4 workers (what a tick carries at full no-op
    // load), then one failed attempt on worker w0 overlapping its neighbours: a lane of its own.
    const drawn = (await page.evaluate(`(() => {
      const now = 1e12, state = { running: 0, finished: 0, failed: 0 };
      for (let t = 0; t < 30; t++) {
        const bars = [];
        for (let i = 0; i < 2000; i++) { const s = now - 30000 + t * 1000 + i * 0.4; bars.push([s, s + 0.3, i % 4, 0, 0]); }
        if (t === 29) bars.push([now - 600, now - 500, 0, 1, 1]);
        apply({ now, offset: 0, workers: [], queues: [], flows: [], totals: state, workerIds: ['w0', 'w1', 'w2', 'w3'], names: ['noop', 'boom'], open: [], dropped: 0, bars }, false);
      }
      render();
      const canvas = document.getElementById('stream-canvas'), dpr = window.devicePixelRatio || 1;
      const x = Math.round(((now - 550 - (now - 60000)) / 60000) * document.getElementById('canvas-box').clientWidth * dpr);
      const pixel = (lane) => Array.from(canvas.getContext('2d').getImageData(x, Math.round((lane * 14 + 7) * dpr), 1, 1).data);
      return { kept: st.bars.length, drawn: __dash.drawn, lanes: __dash.lanes, failedLane: pixel(1), noopLane: pixel(0) };
    })()`)) as { kept: number; drawn: number; lanes: number; failedLane: number[]; noopLane: number[] };
    assert.equal(drawn.kept, 20_000, 'the page keeps as many bars as the server (the newest)');
    assert.equal(drawn.drawn, 20_000, 'every kept bar is in the last minute, so drawn');
    assert.equal(drawn.lanes, 5, 'one lane per worker, and a second for the overlapping failed attempt');
    assert.deepEqual(drawn.failedLane.slice(0, 3), [17, 17, 17], `the failed attempt is drawn black (${drawn.failedLane})`);
    assert.notDeepEqual(drawn.noopLane.slice(0, 3), [17, 17, 17], 'its neighbours keep their task colour');
    assert.ok(drawn.noopLane[3] === 255, 'the no-op lane is drawn at that time');
  } finally {
    await page.close();
  }
});

test('the page draws each arrival once as time moves on, in lanes where no two attempts overlap, as a full redraw does', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  try {
    await page.setContent(dashboardPage('synthetic'));
    // 40 updates 250 ms apart: 3 workers with 2 slots each, attempts of 5-60 ms overlapping on a
    // worker, one attempt running all along; a failed attempt at update 30, looked at 10 updates later.
    const seen = (await page.evaluate(`(() => {
      let seed = 7; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const t0 = 1e12, state = { running: 1, finished: 0, failed: 0 };
      let failed = null; const slotEnd = [t0, t0, t0, t0, t0, t0];
      for (let t = 0; t < 40; t++) {
        const now = t0 + (t + 1) * 250, bars = [];
        for (let slot = 0; slot < 6; slot++) {
          while (slotEnd[slot] < now - 60) { const s = slotEnd[slot] + rnd() * 3, e = s + 5 + rnd() * 55; slotEnd[slot] = e; bars.push([s, e, slot % 3, slot % 2, 0]); }
        }
        bars.sort((a, b) => a[1] - b[1]);
        if (t === 30) { failed = [now - 200, now - 120, 1, 2, 1]; bars.push(failed); }
        apply({ now, offset: 0, workers: [], queues: [], flows: [], totals: state, workerIds: ['w0', 'w1', 'w2'], names: ['a', 'b', 'boom'], open: [[t0 + 100, 2, 0]], dropped: 0, bars }, false);
        render();
      }
      const lanesOk = (() => {
        const by = new Map();
        for (const b of st.bars) { const k = b[2] + ':' + b[5]; if (!by.has(k)) by.set(k, []); by.get(k).push(b); }
        for (const list of by.values()) { list.sort((a, b) => a[0] - b[0]); for (let i = 1; i < list.length; i++) if (list[i][0] < list[i - 1][1]) return false; }
        return true;
      })();
      const canvas = document.getElementById('stream-canvas'), ctx = canvas.getContext('2d');
      const pixel = (b) => Array.from(ctx.getImageData(Math.round(((b[0] + b[1]) / 2 - lay.origin) * lay.pxPerMs), Math.round((lay.base[b[2]] + b[5]) * 14 * lay.dpr + 7 * lay.dpr), 1, 1).data);
      const incremental = { layouts: __dash.layouts, failedPixel: pixel(failed), lanes: __dash.lanes };
      lay.stale = true; render();
      return { lanesOk, incremental, full: { layouts: __dash.layouts, failedPixel: pixel(failed), lanes: __dash.lanes }, drawn: __dash.drawn, kept: st.bars.length };
    })()`)) as { lanesOk: boolean; incremental: { layouts: number; failedPixel: number[]; lanes: number }; full: { layouts: number; failedPixel: number[]; lanes: number }; drawn: number; kept: number };
    assert.ok(seen.lanesOk, 'no two attempts in one lane overlap');
    assert.ok(seen.incremental.layouts <= 3, `laid out again only when lanes grew (${seen.incremental.layouts} of 40 updates)`);
    assert.deepEqual(seen.incremental.failedPixel.slice(0, 3), [17, 17, 17], `the failed attempt is drawn black where it is, after 10 moves (${seen.incremental.failedPixel})`);
    assert.deepEqual(seen.full.failedPixel.slice(0, 3), [17, 17, 17], 'and where a full redraw puts it');
    assert.equal(seen.full.lanes, seen.incremental.lanes, 'a full redraw keeps the lanes');
    assert.equal(seen.drawn, seen.kept + 1, 'every kept attempt is in view, and the running one');
  } finally {
    await page.close();
  }
});
