// Runs every tests/**/*.test.ts file with Node's own test runner, TypeScript loaded through tsx.
// Node 20's `--test` takes no globs, so the files are listed here. Pass paths to run a subset:
//   npm test -- tests/unit tests/conformance/futures.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

// tests/package (the installed-package tier) is not in the default set: it packs and installs
// weft in scratch projects and runs on its own, `npm run test:package`, after `npm test` in CI.
const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['tests']).flatMap((root) => collect(root, []))
  .filter((f) => roots.length > 0 || !f.startsWith(join('tests', 'package')));
if (files.length === 0) {
  console.error(`No *.test.ts files under ${roots.join(', ') || 'tests'}.`);
  process.exit(1);
}
// Test files whose first line says `// @needs redis-server` (or `chromium`, `netns`, several) need
// that: private Redis servers, a real browser, network namespaces (the multi-host harness: root,
// `ip` and `iptables`). Without it, CI fails (a green run must not hide a missing install step); a
// person's machine skips those files and says how to get it.
const installs = (program) => `install it with: sudo apt-get install -y ${program}`;
const hasTool = (tool) => !spawnSync(tool, ['--version']).error;
const needs = [
  { name: 'redis-server', found: () => spawnSync(process.env.WEFT_REDIS_SERVER ?? 'redis-server', ['--version']).status === 0, how: installs('redis-server') },
  { name: 'chromium', found: () => existsSync(process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium'), how: installs('chromium') },
  {
    name: 'netns',
    found: () => process.platform === 'linux' && process.getuid?.() === 0 && hasTool('ip') && hasTool('iptables'),
    how: 'they create network namespaces: run as root on Linux with iproute2 and iptables (sudo apt-get install -y iproute2 iptables)',
  },
];
const firstLine = (file) => readFileSync(file, 'utf8').split('\n', 1)[0];
for (const need of needs) {
  const skipped = files.filter((f) => new RegExp(`@needs\\b.*\\b${need.name}\\b`).test(firstLine(f)));
  if (skipped.length === 0 || need.found()) continue;
  const how = need.how;
  if (process.env.CI === 'true') {
    console.error(`${need.name} is not available, and ${skipped.length} test files need it; ${how}`);
    process.exit(1);
  }
  console.warn(`Skipping ${skipped.length} test files that need ${need.name} (${skipped.join(', ')}): ${how}`);
  files.splice(0, files.length, ...files.filter((f) => !skipped.includes(f)));
}
const concurrency = process.env.WEFT_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${process.env.WEFT_TEST_TIMEOUT ?? 180000}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
