/**
 * `npm run bench:table`: writes the README's benchmark table (between `<!-- bench-table -->` and
 * `<!-- /bench-table -->`) from bench/results/latest.json, the figures of the last runs of each
 * suite, in the order of `suites` given (default: as stored).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cells, RESULTS, type StoredFigure } from './lib/harness.ts';

const README = new URL('../README.md', import.meta.url);
const { figures } = JSON.parse(readFileSync(RESULTS, 'utf8')) as { figures: StoredFigure[] };
const order = process.argv.slice(2);
const rank = (suite: string) => (order.includes(suite) ? order.indexOf(suite) : order.length);
const rows = figures
  .map((f, i) => ({ f, i }))
  .filter(({ f }) => order.length === 0 || order.includes(f.suite))
  .sort((a, b) => rank(a.f.suite) - rank(b.f.suite) || a.i - b.i)
  .map(({ f }) => `| ${[f.suite, ...cells(f)].join(' | ')} |`);
const table = ['| suite | figure | weft | baseline (same run) | ratio | target |', '|---|---|---|---|---|---|', ...rows].join('\n');
const readme = readFileSync(README, 'utf8');
const start = readme.indexOf('<!-- bench-table -->');
const end = readme.indexOf('<!-- /bench-table -->');
if (start < 0 || end < start) throw new Error('README.md has no <!-- bench-table --> ... <!-- /bench-table --> markers');
writeFileSync(README, `${readme.slice(0, start)}<!-- bench-table -->\n${table}\n${readme.slice(end)}`);
console.log(`README.md: ${rows.length} benchmark rows from ${RESULTS.pathname}`);
