// The second half of `npm run build` (after tsc): BullMQ and ioredis as one prebuilt CommonJS file,
// dist/cluster/libs.bundle.cjs, which src/cluster/libs.ts loads in the built package instead of
// their ~300 files. Why: each cluster worker process (and a flow's process, for its first cluster
// connection) spent 250-320 ms of CPU requiring them, most of it resolving, reading and compiling
// files one by one; the bundle takes about half of that (measured in
// docs/notes/2026-12-05/start.md). BullMQ is taken from its ES module build, so the bundle keeps
// only what `Queue` and `Worker` reach (FlowProducer, QueueEvents, the sandbox... are left out).
//   node scripts/bundle.mjs [distDir]      (default: dist)
//
// Only weft's own modules use the bundle (through libs.ts), and every BullMQ and ioredis object
// weft makes comes from it: nothing of theirs crosses the public API, so no `instanceof` between
// the bundle's classes and a user's copy of the packages is ever asked. msgpackr's optional native
// accelerator stays outside (a native addon cannot be bundled): it is required from node_modules
// as before, and msgpackr falls back to JavaScript without it.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, process.argv[2] ?? 'dist');
const outfile = join(dist, 'cluster', 'libs.bundle.cjs');
mkdirSync(dirname(outfile), { recursive: true });

const result = await build({
  stdin: {
    contents: "export { Queue, Worker } from 'bullmq';\nexport { Redis, Cluster } from 'ioredis';\n",
    resolveDir: root,
    sourcefile: 'libs.bundle.js',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // BullMQ's ES module build, so that what Queue and Worker do not reach is dropped.
  mainFields: ['module', 'main'],
  external: ['msgpackr-extract'],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
  outfile,
});

// The bundled packages' licences go with the bundle (most are MIT: their notices must be kept).
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
  if (m) packages.set(m[2], resolve(root, m[1]));
}
const notices = [...packages].sort(([a], [b]) => a.localeCompare(b)).map(([name, dir]) => {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'see the package'}`;
  return `${name}@${pkg.version}\n${'-'.repeat(name.length + pkg.version.length + 1)}\n${text}\n`;
});
writeFileSync(join(dist, 'cluster', 'libs.bundle.LICENSES.txt'),
  `libs.bundle.cjs contains these packages, bundled by scripts/bundle.mjs:\n\n${notices.join('\n')}`);
