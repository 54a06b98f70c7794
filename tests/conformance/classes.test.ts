import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow, SerializationError, TaskRunError } from '../../src/index.ts';
import { addMoney, describeWallet, echoBuffer, makeLedger, Money, returnsUnmarked, takesAnything, Unmarked, Wallet } from '../fixtures/core/money.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: class instances across the boundary`, () => {
    it('a class marked serializable crosses with its prototype, both ways, nested and shared', async () => {
      const f = flow(async function marked() {
        const sum = await addMoney.submit(new Money(150, 'EUR'), new Money(275, 'EUR'));
        const m = new Money(100, 'EUR');
        const wallet = Object.assign(new Wallet('ada', [m, m]), { receipt: Buffer.from('paid') });
        const described = await describeWallet.submit(wallet);
        const ledger = await makeLedger.submit(3);
        const bytes = await echoBuffer.submit(Buffer.from('héllo'));
        return { sum, described, ledger, bytes };
      }, { taskRunner: r.make() });
      const { sum, described, ledger, bytes } = await within(f(), 30_000, 'the flow');
      assert.ok(sum instanceof Money, 'the result came back a Money');
      assert.equal(sum.format(), '4.25 EUR');
      assert.deepEqual(described, { isWallet: true, total: '2.00 EUR', shared: true, inMap: true, buffer: true });
      assert.equal(ledger.constructor.name, 'Ledger', 'a class from a module only the task imported');
      assert.equal(ledger.describe(), 'ledger of 3');
      assert.equal(bytes.isBuffer, true, 'a Buffer arrives a Buffer');
      assert.equal(bytes.text, 'héllo');
      assert.ok(Buffer.isBuffer(bytes.back));
    });

    it('an unmarked class instance is a SerializationError naming its path and class, as an argument and as a result', async () => {
      const f = flow(async function unmarked() {
        const arg = await takesAnything.submit({ items: [1, new Unmarked(2)] }).result().catch((e: unknown) => e);
        const result = await returnsUnmarked.submit(4).result().then((v) => v, (e: unknown) => e);
        return { arg, result };
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 30_000, 'the flow');
      const { arg, result } = record.result as { arg: unknown; result: unknown };
      if (!r.make().serializes) {
        assert.equal(arg, 'object', 'a runner that shares memory passes instances as they are');
        assert.ok((result as { nested: unknown[] }).nested[0] instanceof Unmarked);
        return;
      }
      assert.ok(arg instanceof TaskRunError, String(arg));
      assert.ok(arg.cause instanceof SerializationError, String(arg.cause));
      assert.equal(arg.cause.path, 'args[0].items[1]');
      assert.equal(arg.cause.valueType, 'Unmarked');
      assert.equal(arg.cause.problem, 'prototype');
      assert.match(arg.cause.message, /args\[0\]\.items\[1\] .*`Unmarked`.*serializable\(Unmarked\)/);
      assert.equal(record.taskRuns.find((t) => t.taskName === 'takesAnything')?.attempts, 0, 'the task never ran');
      assert.ok(result instanceof TaskRunError, String(result));
      assert.ok(result.cause instanceof SerializationError, String(result.cause));
      assert.equal(result.cause.path, 'result.nested[0]');
      assert.equal(result.cause.valueType, 'Unmarked');
    });
  });
}
