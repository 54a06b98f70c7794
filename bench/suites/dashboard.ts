/**
 * The live dashboard on a 2-worker LocalCluster, served by `weft dashboard` in its own process
 * (as on a real cluster: not in the flow's process):
 * - event-to-screen latency: a flow of short tasks (20 ms, so attempts end all the time) with a page
 *   open in Debian's chromium; for every attempt, the time from its end (the worker's clock, on
 *   the cluster's) to the animation frame that drew it; p95 (target ≤ 500 ms). Also the p95 while
 *   the cluster runs no-op tasks at full load with three pages open;
 * - the cluster's no-op throughput (10,000 tasks) with three pages open against none, interleaved,
 *   median of 3 each (target ≤ 5 % loss). The three pages share the machine's 2 cores with the
 *   cluster, so this also runs with three bare SSE clients (the server's cost without a browser's).
 *
 * The workers import this module to find its tasks; the benchmark itself runs only as main.
 */
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DistributedTaskRunner, LocalCluster, flow, isMain, task } from '../../src/index.ts';
import { figure, median, report, type Figure } from '../lib/harness.ts';
import { launchBrowser } from '../../tests/helpers/browser.ts';

export const noop = task(function noop(i: number) {
  return i;
});

export const short = task(async function short(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

const N = 10_000;
const REPEATS = 3;
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? NaN;
}

/** `weft dashboard --address` in a child process; resolves its URL and a stop function. */
async function startDashboard(address: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'dashboard', '--address', address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /dashboard: (http\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', () => reject(new Error(`weft dashboard exited: ${out}`)));
  });
  return { url, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { __dash: { connected: boolean } }).__dash.connected);
  return page;
}

async function latencies(page: Page, clear = false): Promise<number[]> {
  return page.evaluate((c) => {
    const d = (globalThis as unknown as { __dash: { latencies: number[] } }).__dash;
    const out = d.latencies.slice();
    if (c) d.latencies.length = 0;
    return out;
  }, clear);
}

/** A bare SSE client: reads the stream and throws it away. */
function sseClient(url: string): () => void {
  const req = get(new URL('events', url), (res) => res.resume());
  req.on('error', () => undefined);
  return () => req.destroy();
}

async function main(): Promise<void> {
  const cluster = new LocalCluster({ workers: 2, threadsPerWorker: 1 });
  await cluster.start();
  const dashboard = await startDashboard(cluster.address);
  const browser = await launchBrowser();
  const runner = new DistributedTaskRunner({ address: cluster.address });
  const noops = flow(async function noops(n: number) {
    const t0 = performance.now();
    await Promise.all(noop.map(Array.from({ length: n }, (_, i) => i)));
    return performance.now() - t0;
  }, { taskRunner: runner });
  const shorts = flow(async function shorts(n: number) {
    await Promise.all(short.map(Array.from({ length: n }, () => 20)));
  }, { taskRunner: runner });
  const figures: Figure[] = [];
  try {
    await noops(1000); // warm-up: workers import this module, connections open
    // Latency, one page, tasks ending all the time.
    const page = await openPage(browser, dashboard.url);
    await latencies(page, true);
    await shorts(400);
    await new Promise((r) => setTimeout(r, 1500));
    const light = await latencies(page, true);
    // Throughput: none / three pages / three bare SSE clients, interleaved.
    const none: number[] = [];
    const pages: number[] = [];
    const bare: number[] = [];
    const loaded: number[] = [];
    await page.close();
    for (let i = 0; i < REPEATS; i++) {
      none.push((N / (await noops(N))) * 1000);
      const three = await Promise.all([0, 1, 2].map(() => openPage(browser, dashboard.url)));
      await latencies(three[0] as Page, true);
      pages.push((N / (await noops(N))) * 1000);
      await new Promise((r) => setTimeout(r, 1000));
      loaded.push(...(await latencies(three[0] as Page, true)));
      await Promise.all(three.map((p) => p.close()));
      const clients = [0, 1, 2].map(() => sseClient(dashboard.url));
      bare.push((N / (await noops(N))) * 1000);
      clients.forEach((close) => close());
    }
    const lightP95 = p95(light);
    const loadedP95 = p95(loaded);
    const loss = 1 - median(pages) / median(none);
    const bareLoss = 1 - median(bare) / median(none);
    console.log(`latency samples: ${light.length} (light), ${loaded.length} (full load); throughput none ${none.map(Math.round).join(', ')}, three pages ${pages.map(Math.round).join(', ')}, three SSE clients ${bare.map(Math.round).join(', ')} tasks/s`);
    figures.push(
      figure('dashboard, event-to-screen latency p95 (20 ms tasks, 1 page)', lightP95, 'ms', 'target', 500, { text: '≤ 500 ms', met: lightP95 <= 500 }),
      figure('dashboard, event-to-screen latency p95 (no-op full load, 3 pages)', loadedP95, 'ms', 'target', 500, { text: '≤ 500 ms', met: loadedP95 <= 500 }),
      figure('cluster no-op throughput, 3 dashboard pages open', median(pages), 'tasks/s', 'no page open', median(none), { text: '≤ 5 % loss', met: loss <= 0.05 }),
      figure('cluster no-op throughput, 3 bare SSE clients', median(bare), 'tasks/s', 'no page open', median(none), { text: '≤ 5 % loss', met: bareLoss <= 0.05 }),
    );
  } finally {
    await browser.close();
    await dashboard.stop();
    await cluster.close();
  }
  report('dashboard', figures);
}

if (isMain(import.meta)) await main();
