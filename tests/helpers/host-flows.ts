/** What the multi-host tests and benchmark do in hosts: workers that join, flows whose JSON lines they read. */
import { fileURLToPath } from 'node:url';
import type { Host, HostProcess } from './hosts.ts';

/** The flow program a flow host runs (tests/fixtures/hosts/flow.ts). */
export const FLOW = fileURLToPath(new URL('../fixtures/hosts/flow.ts', import.meta.url));

/** A flow's output lines, parsed (lines that are not JSON are left out). */
export function lines(output: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a log line that happens to start with a brace
    }
  }
  return out;
}

/** Starts `weft worker` in a host as `name` and waits until it has joined. */
export async function joinWorker(host: Host, address: string, name: string, flags: string[] = []): Promise<HostProcess> {
  const defaults = flags.includes('--concurrency') ? [] : ['--concurrency', '2'];
  const worker = host.weft(['worker', '--address', address, '--name', name, '--grace-ms', '1000', ...defaults, ...flags]);
  await worker.waitFor(/joined/, 90_000);
  return worker;
}
