import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow, SerializationError, TaskRunError } from '../../src/index.ts';
import { callBack, echo, returnsFunction } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: data across the boundary`, () => {
    it('Maps, Sets, Dates, typed arrays, BigInt and Errors survive the trip to the task and back', async () => {
      const value = {
        map: new Map<string, unknown>([['a', new Set([1, 2])]]), date: new Date(86_400_000), bytes: new Float64Array([0.5, 1.5]),
        big: 2n ** 70n, error: new RangeError('carried'), nested: [{ deep: [null, 'x'] }],
      };
      const f = flow(async function dataFlow() {
        return echo.submit(value);
      }, { taskRunner: r.make() });
      const back = (await within(f(), 20_000, 'the flow')) as typeof value;
      assert.deepEqual(back.map, value.map);
      assert.equal(back.date.getTime(), value.date.getTime());
      assert.deepEqual([...back.bytes], [0.5, 1.5]);
      assert.equal(back.big, value.big);
      assert.ok(back.error instanceof RangeError);
      assert.equal(back.error.message, 'carried');
      assert.deepEqual(back.nested, value.nested);
    });

    it('what cannot cross is a SerializationError naming its path, before the task runs', async () => {
      const f = flow(async function uncloneableFlow() {
        const arg = await callBack.submit('x', { callback: () => 7 }).result().catch((e: unknown) => e);
        const result = await returnsFunction.submit().result().then((v) => typeof v.later, (e: unknown) => e);
        return { arg, result };
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      const { arg, result } = record.result as { arg: unknown; result: unknown };
      const runner = r.make();
      if (!runner.serializes) {
        assert.equal(arg, 'x:7', 'a runner that shares memory passes functions as they are');
        assert.equal(result, 'function');
        return;
      }
      assert.ok(arg instanceof TaskRunError, String(arg));
      assert.ok(arg.cause instanceof SerializationError);
      assert.equal(arg.cause.path, 'args[1].callback');
      assert.match(arg.cause.message, /Cannot send args\[1\]\.callback \(function callback\)/);
      assert.equal(record.taskRuns[0]?.attempts, 0, 'the task never ran');
      assert.ok(result instanceof TaskRunError, String(result));
      assert.ok(result.cause instanceof SerializationError);
      assert.equal(result.cause.path, 'result.later');
    });
  });
}
