/**
 * Checks that code leaves nothing running behind it: timers, workers, child processes, sockets.
 * Node's `process.getActiveResourcesInfo()` lists what keeps the event loop alive, by type.
 */
import { eventually } from './eventually.ts';

/** What keeps the event loop alive now, counted by type (`Timeout`, `MessagePort`, `ProcessWrap`...). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Waits (up to `timeoutMs`) until no more resources of any type are alive than in `before`. */
export async function expectNoLeaks(before: Map<string, number>, timeoutMs = 10_000): Promise<void> {
  await eventually(() => {
    const extra: string[] = [];
    for (const [type, n] of activeResources()) {
      const was = before.get(type) ?? 0;
      if (n > was) extra.push(`${n - was} ${type}`);
    }
    if (extra.length > 0) throw new Error(`still alive after the code under test ended: ${extra.join(', ')}`);
  }, { timeoutMs });
}
