/**
 * The live dashboard on a 2-worker LocalCluster, served by `weft dashboard` in its own process
 * (as on a real cluster: not in the flow's process):
 * - event-to-screen latency: a flow of short tasks (20 ms, so attempts end all the time) with a page
 *   open in Debian's chromium; for every attempt, the time from its end (the worker's clock, on
 *   the cluster's) to the animation frame that drew it; p95 (target ≤ 500 ms). Also the p95 while
 *   the cluster runs no-op tasks at full load with three pages open;
 * - the cluster's cost of three open pages on no-op tasks (10,000 per run), interleaved with runs with
 *   no page, median of 3 each (target ≤ 5 % throughput loss). On a shared 2-core machine wall-clock
 *   throughput is noise, so the figure of record here is CPU time per task run of every process of
 *   the cluster (its workers, its Redis, the `weft dashboard` process, the flow's own process),
 *   read from /proc: what the pages cost the cluster, without the browser drawing them (which runs
 *   on the viewer's machine). Wall-clock tasks/s are printed alongside, and the same runs with three
 *   bare SSE clients instead of pages.
 *
 * The workers import this module to find its tasks; the benchmark itself runs only as main.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
async function startDashboard(address: string): Promise<{ url: string; pid: number | undefined; stop: () => Promise<void> }> {
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
  return { url, pid: child.pid, stop: async () => { child.kill('SIGTERM'); await exited; } };
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

/** CPU ms (user + system) a process has used, from /proc (clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
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
  const pids = () => [...cluster.pids.workers, cluster.pids.redis, dashboard.pid].filter((p): p is number => p !== undefined);
  const clusterCpu = () => pids().reduce((sum, pid) => sum + procCpuMs(pid), 0) + (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  /** One no-op run: tasks/s, and the cluster's CPU ms per 1,000 task runs. */
  const measured = async (): Promise<{ rate: number; cpu: number }> => {
    const c0 = clusterCpu();
    const ms = await noops(N);
    return { rate: (N / ms) * 1000, cpu: ((clusterCpu() - c0) / N) * 1000 };
  };
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
    const none: { rate: number; cpu: number }[] = [];
    const pages: { rate: number; cpu: number }[] = [];
    const bare: { rate: number; cpu: number }[] = [];
    const loaded: number[] = [];
    await page.close();
    for (let i = 0; i < REPEATS; i++) {
      none.push(await measured());
      const three = await Promise.all([0, 1, 2].map(() => openPage(browser, dashboard.url)));
      await latencies(three[0] as Page, true);
      pages.push(await measured());
      await new Promise((r) => setTimeout(r, 1000));
      loaded.push(...(await latencies(three[0] as Page, true)));
      await Promise.all(three.map((p) => p.close()));
      const clients = [0, 1, 2].map(() => sseClient(dashboard.url));
      bare.push(await measured());
      clients.forEach((close) => close());
    }
    const lightP95 = p95(light);
    const loadedP95 = p95(loaded);
    const cpu = (xs: { cpu: number }[]) => median(xs.map((x) => x.cpu));
    const rate = (xs: { rate: number }[]) => xs.map((x) => Math.round(x.rate)).join(', ');
    const extra = cpu(pages) / cpu(none) - 1;
    const bareExtra = cpu(bare) / cpu(none) - 1;
    console.log(`latency samples: ${light.length} (light), ${loaded.length} (full load); wall-clock tasks/s: none ${rate(none)}, three pages ${rate(pages)}, three SSE clients ${rate(bare)}; cluster CPU ms per 1,000 runs: none ${none.map((x) => x.cpu.toFixed(0)).join(', ')}, pages ${pages.map((x) => x.cpu.toFixed(0)).join(', ')}, SSE ${bare.map((x) => x.cpu.toFixed(0)).join(', ')}`);
    figures.push(
      figure('dashboard, event-to-screen latency p95 (20 ms tasks, 1 page)', lightP95, 'ms', 'target', 500, { text: '≤ 500 ms', met: lightP95 <= 500 }),
      figure('dashboard, event-to-screen latency p95 (no-op full load, 3 pages)', loadedP95, 'ms', 'target', 500, { text: '≤ 500 ms', met: loadedP95 <= 500 }),
      figure('cluster CPU per 1,000 no-op runs, 3 dashboard pages open', cpu(pages), 'ms', 'no page open', cpu(none), { text: '≤ 5 % more (≤ 5 % loss)', met: extra <= 0.05 }),
      figure('cluster CPU per 1,000 no-op runs, 3 bare SSE clients', cpu(bare), 'ms', 'no page open', cpu(none), { text: '≤ 5 % more', met: bareExtra <= 0.05 }),
    );
  } finally {
    await browser.close();
    await dashboard.stop();
    await cluster.close();
  }
  report('dashboard', figures);
}

if (isMain(import.meta)) await main();
