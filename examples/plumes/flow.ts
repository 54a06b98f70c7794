/**
 * The seed scenario: download twelve monthly plume images for a year. The same flow runs on any
 * task runner; main.ts runs it sequentially and then concurrently and prints both times.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flow, getRunContext, task } from 'weftjs';

/** Downloads one month's image and returns where it was saved. */
export const download = task(async function download(baseUrl: string, year: number, month: number, outDir: string) {
  const { signal } = getRunContext();
  const response = await fetch(`${baseUrl}/plumes/${year}/${month}.png`, { signal });
  if (!response.ok) throw new Error(`GET ${response.url} answered ${response.status}`);
  const path = join(outDir, `${year}-${String(month).padStart(2, '0')}.png`);
  await writeFile(path, Buffer.from(await response.arrayBuffer()));
  return path;
}, { retries: 2, retryDelayMs: 500, timeoutMs: 30_000 });

/** All twelve months of `year`, downloaded by whichever runner the flow is given. */
export const plumes = flow(async function plumes(baseUrl: string, year: number, outDir: string) {
  await mkdir(outDir, { recursive: true });
  const futures = [];
  for (let month = 1; month <= 12; month++) futures.push(download.submit(baseUrl, year, month, outDir));
  return Promise.all(futures);
});
