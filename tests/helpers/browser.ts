/** Debian's chromium driven by playwright-core, for tests that look at a report as a person does. */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Opens a report file and waits until it has drawn; `requests` lists every URL the page asked for. */
export async function openReport(browser: Browser, path: string, viewport = { width: 1400, height: 900 }): Promise<{ page: Page; requests: string[]; loadMs: number }> {
  const page = await browser.newPage({ viewport });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(`file://${path}`);
  await page.waitForSelector('body[data-ready], body[data-error]', { timeout: 60_000 });
  const loadMs = Date.now() - t0;
  const failed = await page.getAttribute('body', 'data-error');
  if (failed || errors.length) throw new Error(`the report failed to draw: ${failed ?? errors.join('\n')}`);
  return { page, requests, loadMs };
}

/** What the report page says it drew (window.weftReport). */
export interface Drawn {
  attempts: number;
  drawn: number;
  aggregated: number;
  lanes: number;
  names: number;
}

export function drawn(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const w = (globalThis as unknown as { weftReport: Drawn }).weftReport;
    return { attempts: w.attempts, drawn: w.drawn, aggregated: w.aggregated, lanes: w.lanes, names: w.names };
  });
}

export interface BarInfo {
  x: number;
  /** On screen, in CSS pixels. */
  width: number;
  y: number;
  name: string;
  runId: string;
  attempt: number;
  state: string;
  worker: string;
}

/** Where bar `i` is on the screen, and what the page knows of it. */
export function bar(page: Page, i: number): Promise<BarInfo> {
  return page.evaluate((k) => (globalThis as unknown as { weftReport: { where(i: number): BarInfo } }).weftReport.where(k), i);
}

/** Zooms the task stream in on bar `i` with the mouse wheel, as a person would, until it is `px` wide. */
export async function zoomTo(page: Page, i: number, px = 12): Promise<BarInfo> {
  let b = await bar(page, i);
  for (let k = 0; k < 80 && b.width < px; k++) {
    await page.mouse.move(b.x, b.y);
    await page.mouse.wheel(0, -100);
    await page.evaluate(() => {
      const frame = (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame;
      return new Promise<void>((r) => frame(() => frame(r)));
    });
    b = await bar(page, i);
  }
  return b;
}
