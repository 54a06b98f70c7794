/**
 * `npm run bench [suite ...]`: runs each bench suite in its own process, one after another, so
 * one suite's heap and threads do not disturb the next. Each suite prints its table and merges
 * its figures into bench/results/latest.json. Suites: bench/suites/*.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./suites/', import.meta.url));
const available = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`Unknown bench suite(s): ${unknown.join(', ')}. Available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const suite of wanted.length > 0 ? wanted : available) {
  const t0 = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}${suite}.ts`], { stdio: 'inherit' });
  console.log(`(${suite}: ${((Date.now() - t0) / 1000).toFixed(1)} s${result.status === 0 ? '' : `, exit ${result.status}`})`);
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
