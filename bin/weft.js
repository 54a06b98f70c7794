#!/usr/bin/env node
// An installed package runs the compiled CLI (dist/). A checkout, which has src/, runs the
// TypeScript sources through tsx so that what runs is what was just edited; WEFT_USE_DIST=1 makes
// a checkout run its build instead (the tests of the built package use it).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const source = new URL('../src/cli/main.ts', import.meta.url);
const useSource = existsSync(fileURLToPath(source)) && process.env.WEFT_USE_DIST !== '1';
if (!useSource && existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // Tells src/loader/register.ts that this thread's loader is installed, so it is not installed twice.
  globalThis[Symbol.for('weft.ts-loader')] = true;
  await import(source.href);
}
