import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { allowFailure, flow, quote, SerializationError, TaskRunError, UpstreamFailedError, unmapped } from '../../src/index.ts';
import { add, double, echo, fail, range, shape, touch, valueOrError } from '../fixtures/core/tasks.ts';
import { readMarker, within } from '../helpers/eventually.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: futures in arguments`, () => {
    it('resolves futures anywhere in plain data: arrays, objects, Map, Set, nested; the caller’s data is left as it was', async () => {
      const f = flow(async function nestedFlow() {
        const one = add.submit(0, 1);
        const two = add.submit(1, 1);
        const arg = { n: one, list: [two, [one, 3]], map: new Map<string, unknown>([['k', two], ['deep', { x: [one] }]]), set: new Set([two]), plain: 'p' };
        const value = await echo.submit(arg);
        return { value, untouched: arg.n === one && arg.list[0] === two };
      }, { taskRunner: r.make() });
      const { value, untouched } = await within(f(), 20_000, 'the flow');
      assert.deepEqual(value, { n: 1, list: [2, [1, 3]], map: new Map<string, unknown>([['k', 2], ['deep', { x: [1] }]]), set: new Set([2]), plain: 'p' });
      assert.equal(untouched, true);
    });

    it('a nested future that fails fails the downstream run as a top-level one does', async () => {
      const f = flow(async function nestedFailureFlow() {
        const failed = fail.submit('nested');
        const downstream = echo.submit({ deep: [new Map([['f', failed]])] });
        const error = await downstream.result().catch((e: unknown) => e);
        await failed.result().catch(() => undefined);
        return error;
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.ok(record.result instanceof UpstreamFailedError, String(record.result));
      assert.deepEqual(record.taskRuns.map((t) => [t.taskName, t.state]), [['fail', 'Failed'], ['echo', 'Failed']]);
    });

    it('quote(x) passes x as it is: a future inside is not waited for, and never crosses a boundary as {}', async () => {
      const runner = r.make();
      const f = flow(async function quoteFlow() {
        const big = Array.from({ length: 1_000 }, (_, i) => i);
        const whole = await echo.submit(quote(big));
        const inner = await shape.submit(quote({ later: add.submit(1, 2) })).result().catch((e: unknown) => e);
        return { same: JSON.stringify(whole) === JSON.stringify(big), inner };
      }, { taskRunner: runner });
      const { same, inner } = await within(f(), 20_000, 'the flow');
      assert.equal(same, true);
      if (runner.serializes) {
        // The task never ran: the future would have arrived as {}, so the send fails naming it.
        assert.ok(inner instanceof TaskRunError, String(inner));
        assert.ok(inner.cause instanceof SerializationError, String(inner.cause));
        assert.equal(inner.cause.path, 'args[0].later');
        assert.match(inner.cause.message, /TaskFuture that weft did not wait for/);
      } else {
        assert.equal(inner, '{later:TaskFuture}');
      }
    });

    it('allowFailure(f) runs the downstream task with the error in the value’s place, in arguments and in waitFor', async () => {
      const marker = join(scratchDir('weft-allow'), 'ran');
      const f = flow(async function allowFailureFlow() {
        const failed = fail.submit('upstream broke');
        const ok = add.submit(20, 22);
        const withError = await valueOrError.submit(allowFailure(failed));
        const withValue = await valueOrError.submit(allowFailure(ok));
        const ordered = await touch.withOptions({ waitFor: [allowFailure(failed)] }).submit(marker);
        return { withError, withValue, ordered };
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.equal(record.state, 'Completed', String(record.error));
      const { withError, withValue, ordered } = record.result as { withError: { error: string }; withValue: unknown; ordered: string };
      assert.match(withError.error, /upstream broke/);
      assert.deepEqual(withValue, { value: 42 });
      assert.equal(ordered, marker);
      assert.equal(await readMarker(marker), 'ran');
    });

    it('map over a future of a list waits for the list, with unmapped() as usual; a list that fails rejects the map', async () => {
      const f = flow(async function mapFutureFlow() {
        const list = range.submit(3);
        const doubled = await Promise.all(await double.map(list));
        const added = await Promise.all(await add.map(list, unmapped(10)));
        const failed = await double.map(fail.submit('no list')).catch((e: unknown) => e);
        return { doubled, added, failed };
      }, { taskRunner: r.make() });
      const { doubled, added, failed } = await within(f(), 20_000, 'the flow');
      assert.deepEqual(doubled, [2, 4, 6]);
      assert.deepEqual(added, [11, 12, 13]);
      assert.ok(failed instanceof TaskRunError, String(failed));
    });
  });
}
