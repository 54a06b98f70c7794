import { describe, it } from 'node:test';
import { flow } from '../../src/index.ts';
import { add, flaky, sleep } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { activeResources, expectNoLeaks } from '../helpers/no-leaks.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: no leaks`, () => {
    it('a finished flow run leaves no timers, workers or handles behind: timeouts, retry delays, cancels', async () => {
      const before = activeResources();
      const f = flow(async function leakyFlow() {
        await sleep.withOptions({ timeoutMs: 20 }).submit(10_000, 'timed out').result().catch(() => undefined);
        await flaky.withOptions({ retries: 1, retryDelayMs: 5 }).submit(1);
        const waiting = flaky.withOptions({ retries: 1, retryDelayMs: 60_000 }).submit(1);
        const sleeping = sleep.submit(60_000, 'cancelled');
        await new Promise((resolve) => setTimeout(resolve, 50));
        waiting.cancel();
        sleeping.cancel();
        return add.submit(1, 2);
      }, { taskRunner: r.make() });
      await within(f(), 20_000, 'the flow');

      const cancelled = flow(async function cancelledFlow() {
        return sleep.withOptions({ timeoutMs: 60_000 }).submit(60_000, 'never');
      }, { taskRunner: r.make() });
      const run = cancelled.run();
      run.on('task-run:started', () => run.cancel());
      await within(run, 20_000, 'the cancelled flow');
      await expectNoLeaks(before);
    });
  });
}
