// @needs chromium redis-server
/**
 * The performance report as a person sees it, in Debian's chromium: a report from every runner
 * draws its lanes, one bar per attempt (or an exact count of those merged into one pixel), a table
 * row per task name, hover text for a bar, distinct colours for failures, and asks for nothing
 * over the network. Screenshots are kept in tests/artifacts/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { flow, ParallelTaskRunner, SequentialTaskRunner } from '../../src/index.ts';
import { broken, chatty, EXPECTED, flaky, mixed, reportRunners, work } from '../fixtures/report/flows.ts';
import { bar, drawn, launchBrowser, openReport, zoomTo, type BarInfo } from '../helpers/browser.ts';
import { ROOT } from '../helpers/redis.ts';

process.env.WEFT_TASK_LOGS = 'off';
const dir = mkdtempSync(join(tmpdir(), 'weft-report-browser-'));
const artifacts = join(ROOT, 'tests/artifacts');
mkdirSync(artifacts, { recursive: true });
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The colour of the canvas pixel under a point of the page. */
function pixel(page: Page, x: number, y: number): Promise<number[]> {
  // The callback runs in the page; the project's types have no DOM, so it names what it uses.
  type Canvas = { width: number; getBoundingClientRect(): { left: number; top: number; width: number }; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null };
  return page.evaluate(([px, py]) => {
    const c = (globalThis as unknown as { document: { getElementById(id: string): Canvas } }).document.getElementById('stream-canvas');
    const r = c.getBoundingClientRect();
    const dpr = c.width / r.width;
    return Array.from(c.getContext('2d')!.getImageData(Math.floor((px! - r.left) * dpr), Math.floor((py! - r.top) * dpr), 1, 1).data);
  }, [x, y]);
}

for (const { name, runner } of reportRunners(dir)) {
  test(`the ${name} runner's report, in a browser`, async () => {
    const record = await mixed.withOptions({ taskRunner: runner }).run();
    assert.equal(record.state, 'Completed', String(record.error));
    const { page, requests } = await openReport(browser, join(dir, `${name}.html`));
    try {
      const d = await drawn(page);
      assert.equal(d.attempts, EXPECTED.attempts);
      assert.equal(d.drawn + d.aggregated, EXPECTED.attempts, 'every attempt is a bar or counted in a merged pixel');
      const lanes = await page.locator('#lanes .lane').allTextContents();
      assert.equal(lanes.length, d.lanes);
      assert.ok(lanes.length >= 1);
      if (name !== 'sequential') assert.ok(new Set(lanes.map((l) => l.replace(/ #\d+$/, ''))).size >= 2, `${name} shows several workers: ${lanes.join(', ')}`);
      const rows = await page.locator('#tasks tbody tr td:first-child').allTextContents();
      assert.deepEqual([...rows].sort(), [...EXPECTED.names].sort());
      assert.match(await page.locator('#summary').innerText(), new RegExp(`task runs\\s+${EXPECTED.taskRuns}\\b`));

      // Hover a failed attempt and a retried one: the tooltip names them, and they look different.
      const bars = await Promise.all(Array.from({ length: d.attempts }, (_, i) => bar(page, i)));
      const pick = (state: string, taskName?: string) => bars.findIndex((b) => b.state === state && (!taskName || b.name === taskName));
      const seen: Record<string, BarInfo> = {};
      for (const [key, i] of [['failed', pick('Failed')], ['retried', pick('Retried')], ['completed', pick('Completed', 'work')]] as const) {
        assert.ok(i >= 0, `a ${key} bar`);
        const b = await zoomTo(page, i);
        seen[key] = b;
        await page.mouse.move(b.x, b.y);
        const tip = await page.locator('#tip').innerText();
        assert.match(tip, new RegExp(`^${b.name}\\s+${b.runId}`));
        assert.match(tip, new RegExp(`attempt ${b.attempt} · ${b.state}`));
        assert.match(tip, new RegExp(`worker ${b.worker}`));
        assert.match(tip, /start .* end .* took /);
        // The canvas is transparent: a faded bar shows as a low alpha.
        const [r, g, bl, alpha] = await pixel(page, b.x, b.y);
        if (key === 'failed') assert.ok(r! < 40 && g! < 40 && bl! < 40 && alpha === 255, `a failed bar is black, got ${[r, g, bl, alpha]}`);
        else if (key === 'completed') assert.ok(Math.max(r!, g!, bl!) - Math.min(r!, g!, bl!) > 30 && alpha === 255, `a completed bar has its task's colour, got ${[r, g, bl, alpha]}`);
        else assert.ok(alpha! > 60 && alpha! < 160, `a retried attempt is drawn faded, got ${[r, g, bl, alpha]}`);
        await page.mouse.dblclick(b.x, b.y);
      }
      assert.equal(seen.retried!.attempt, 1);

      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(artifacts, `report-${name}.png`), fullPage: true });
      assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'no network requests');
      assert.equal(requests.length, 1, `only the report itself was loaded: ${requests.join(', ')}`);
    } finally {
      await page.close();
    }
  });
}

test('a busier run: 600 task runs on 6 async slots, every one counted (its picture is the README one)', async () => {
  const path = join(dir, 'busy.html');
  const busy = flow(async function busy() {
    const futures: PromiseLike<unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      if (i % 40 === 7) futures.push(broken.submit(i).result().catch(() => 'expected'));
      else if (i % 25 === 3) futures.push(flaky.submit(i));
      else futures.push([work, chatty][i % 2]!.submit(1 + (i % 7)));
    }
    await Promise.all(futures);
  }, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 6, performanceReport: path }) });
  const record = await busy.run();
  const attempts = record.taskRuns.reduce((s, t) => s + t.attempts, 0);
  const { page, requests } = await openReport(browser, path);
  try {
    const d = await drawn(page);
    assert.equal(d.attempts, attempts);
    assert.equal(d.drawn + d.aggregated, attempts);
    assert.ok(d.lanes >= 6, `6 slots at least: ${d.lanes}`);
    assert.equal(await page.locator('#tasks tbody tr').count(), 4);
    assert.equal(requests.length, 1);
    await page.screenshot({ path: join(artifacts, 'report-busy.png'), fullPage: true });
    if (process.env.WEFT_UPDATE_DOCS === '1') {
      await page.screenshot({ path: join(artifacts, 'readme.png'), clip: { x: 0, y: 0, width: 1400, height: 720 } });
      copyFileSync(join(artifacts, 'readme.png'), join(ROOT, 'docs/report.png'));
    }
  } finally {
    await page.close();
  }
});

test('a run with no task runs gets a report that says so', async () => {
  const path = join(dir, 'empty.html');
  const empty = flow(async function empty() {
    return 1;
  }, { taskRunner: new SequentialTaskRunner({ performanceReport: path }) });
  await empty();
  const { page, requests } = await openReport(browser, path);
  try {
    assert.equal((await drawn(page)).attempts, 0);
    assert.match(await page.locator('#no-tasks').innerText(), /no task runs/);
    assert.equal(await page.locator('#tasks tbody tr').count(), 0);
    assert.match(await page.locator('h1').innerText(), /empty\s+Completed/);
    assert.equal(requests.length, 1);
    await page.screenshot({ path: join(artifacts, 'report-empty.png') });
  } finally {
    await page.close();
  }
});
