import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidOptionError } from '../errors.ts';

/**
 * Validates a `performanceReport` path when the runner is made, so that a directory that does
 * not exist or cannot be written is an error before the run, not after an hour of work.
 * Returns the absolute path (relative paths resolve from the current directory, once).
 */
export function checkReportPath(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(option, "a file path such as 'report.html'", value);
  }
  const path = resolve(value);
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new InvalidOptionError(option, `a path in a directory that exists: ${dir} does not; create it first (mkdir -p ${dir})`, value);
  }
  if (!isDir) throw new InvalidOptionError(option, `a path in a directory: ${dir} is not one`, value);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InvalidOptionError(option, `a path in a directory this process may write to: ${dir} is not writable`, value);
  }
  try {
    if (statSync(path).isDirectory()) throw new InvalidOptionError(option, `a file path: ${path} is a directory`, value);
    accessSync(path, constants.W_OK);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InvalidOptionError(option, `a file this process may write to: ${path} is not writable`, value);
    }
  }
  return path;
}
