/**
 * `npm run bench:table`: writes the README's benchmark table (between `<!-- bench-table -->` and
 * `<!-- /bench-table -->`) from bench/results/latest.json, the figures of the last runs of each
 * suite, in the order of `suites` given (default: as stored).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fmt, RESULTS } from './lib/harness.ts';

interface Stored {
  readonly suite: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: string;
  readonly baselineValue: number;
  readonly ratio: number;
  readonly target?: string;
  readonly met?: boolean;
}

const README = new URL('../README.md', import.meta.url);
const { figures } = JSON.parse(readFileSync(RESULTS, 'utf8')) as { figures: Stored[] };
const order = process.argv.slice(2);
const rank = (suite: string) => (order.includes(suite) ? order.indexOf(suite) : order.length);
const rows = figures
  .map((f, i) => ({ f, i }))
  .filter(({ f }) => order.length === 0 || order.includes(f.suite))
  .sort((a, b) => rank(a.f.suite) - rank(b.f.suite) || a.i - b.i)
  .map(({ f }) => `| ${f.suite} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline}: ${fmt(f.baselineValue)} ${f.unit} | ${fmt(f.ratio)}x | ${f.target ? `${f.target} ${f.met ? '✔' : '✘'}` : ''} |`);
const table = ['| suite | figure | weft | baseline (same run) | ratio | target |', '|---|---|---|---|---|---|', ...rows].join('\n');
const readme = readFileSync(README, 'utf8');
const start = readme.indexOf('<!-- bench-table -->');
const end = readme.indexOf('<!-- /bench-table -->');
if (start < 0 || end < start) throw new Error('README.md has no <!-- bench-table --> ... <!-- /bench-table --> markers');
writeFileSync(README, `${readme.slice(0, start)}<!-- bench-table -->\n${table}\n${readme.slice(end)}`);
console.log(`README.md: ${rows.length} benchmark rows from ${RESULTS.pathname}`);
