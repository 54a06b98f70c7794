// The second half of `npm run build`, after tsc has written dist/ (JavaScript, declarations, maps):
//   node scripts/bundle.mjs [distDir]      (default: dist)
// 1. BullMQ and ioredis as one prebuilt CommonJS file, dist/cluster/libs.bundle.cjs, which
//    src/cluster/libs.ts loads in the built package instead of their ~300 files.
// 2. weft's own JavaScript as a few dozen ES module chunks instead of ~120 files: the programs Node
//    starts (entry/process, entry/thread, entry/report, cluster/worker-main, cli/main) and the package's index
//    share the chunks, so every process and thread holds one copy of each weft module, as before.
// Why: start-up. A cluster worker process spent ~250-320 ms of CPU requiring BullMQ and ioredis
// and ~90 ms importing weft's 49 modules; each worker thread and process imports the index (81
// modules, ~130 ms) with its first task module. Node resolves, reads and compiles each file one
// by one; one file (or a few) costs about half. Measured in docs/notes/2026-12-05/start.md.
//
// Only weft's modules use the library bundle (through libs.ts), and every BullMQ and ioredis object
// weft makes comes from it: nothing of theirs crosses the public API, so no `instanceof` between
// the bundle's classes and a user's copy of the packages is ever asked. msgpackr's optional native
// accelerator stays outside (a native addon cannot be bundled): msgpackr requires it from
// node_modules as before, and falls back to JavaScript without it.
//
// The chunks: user code imports `weftjs` (dist/index.js, which re-exports chunks/index.js) and
// weft's worker programs import the same chunk files, so a task module's `task`, errors and
// classes are the worker's own (one module instance per URL). Every chunk and every program sits
// one directory below dist/, as tsc's files did, so the paths weft finds relative to a module's
// own URL (`sibling(import.meta.url, '../entry/process')`, '../index', '../../package.json')
// resolve to the same files from a chunk as from tsc's output. Declarations stay tsc's.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, process.argv[2] ?? 'dist');

/** The programs Node starts by path, by their place under dist/ (they keep it). */
const PROGRAMS = ['entry/process', 'entry/thread', 'entry/report', 'cluster/worker-main', 'cli/main'];

async function bundleLibraries() {
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
}

/** Every file under `dir`, as paths relative to it. */
function files(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, base) : [relative(base, path)];
  });
}

async function bundleWeft() {
  const staging = `${dist}.chunks`;
  rmSync(staging, { recursive: true, force: true });
  const entryPoints = Object.fromEntries([['chunks/index', 'index'], ...PROGRAMS.map((p) => [p, p])].map(([out, input]) => [out, join(dist, `${input}.js`)]));
  await build({
    entryPoints,
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Dependencies (BullMQ, ioredis, uplot, tsx) and the library bundle are loaded from where they are.
    packages: 'external',
    external: ['*.cjs'],
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    logLevel: 'warning',
    outdir: staging,
  });
  // tsc's JavaScript goes (its declarations stay: they are the package's types); the chunks come in.
  for (const file of files(dist)) if (/\.js(\.map)?$/.test(file)) rmSync(join(dist, file));
  for (const file of files(staging)) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    renameSync(join(staging, file), join(dist, file));
  }
  rmSync(staging, { recursive: true, force: true });
  // The package's entry, at the top of dist/ as `exports` says; its code lives one level down, with the rest.
  writeFileSync(join(dist, 'index.js'), "export * from './chunks/index.js';\n");
}

await bundleLibraries();
await bundleWeft();
