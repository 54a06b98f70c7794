// Runs every tests/**/*.test.ts file with Node's own test runner, TypeScript loaded through tsx.
// Node 20's `--test` takes no globs, so the files are listed here. Pass paths to run a subset:
//   npm test -- tests/unit tests/conformance/futures.test.ts
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['tests']).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error(`No *.test.ts files under ${roots.join(', ') || 'tests'}.`);
  process.exit(1);
}
const concurrency = process.env.WEFT_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
