import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/errors.ts';
import { isEmpty, NO_RESOURCES, parseResources, ResourcePool, resolveResources, shortfall } from '../../src/schedule/resources.ts';

describe('resources', () => {
  it('resolveResources keeps positive amounts, drops zeros, freezes, and is empty for undefined', () => {
    assert.equal(resolveResources('resources', undefined), NO_RESOURCES);
    assert.deepEqual(resolveResources('resources', { GPU: 1, memory: 4e9, TPU: 0 }), { GPU: 1, memory: 4e9 });
    assert.ok(Object.isFrozen(resolveResources('resources', { GPU: 1 })));
    assert.ok(isEmpty(resolveResources('resources', { GPU: 0 })));
    assert.ok(!isEmpty(resolveResources('resources', { GPU: 0.5 })));
  });

  it('resolveResources names the bad field, the expectation and the value', () => {
    const bad: [unknown, string, RegExp][] = [
      [{ GPU: -1 }, 'resources.GPU', /Expected `resources\.GPU` to be a finite number ≥ 0, got `-1` \(number\)/],
      [{ GPU: '1' }, 'resources.GPU', /got `"1"` \(string\)/],
      [{ GPU: Infinity }, 'resources.GPU', /got `Infinity` \(number\)/],
      [{ GPU: NaN }, 'resources.GPU', /got `NaN` \(number\)/],
      [[1], 'resources', /an object of resource amounts.*got `\[1\]` \(array\)/],
      ['GPU=1', 'resources', /got `"GPU=1"` \(string\)/],
      [null, 'resources', /got `null` \(null\)/],
    ];
    for (const [value, option, message] of bad) {
      assert.throws(() => resolveResources('resources', value), (e: unknown) => {
        assert.ok(e instanceof InvalidOptionError, String(e));
        assert.equal(e.option, option);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  it('shortfall names the first resource a task needs more of than the capacity has', () => {
    assert.equal(shortfall({}, {}), undefined);
    assert.equal(shortfall({ GPU: 1 }, { GPU: 1, process: 1 }), undefined);
    assert.deepEqual(shortfall({ GPU: 2 }, { GPU: 1 }), { name: 'GPU', need: 2, have: 1 });
    assert.deepEqual(shortfall({ process: 1, TPU: 1 }, { process: 1 }), { name: 'TPU', need: 1, have: 0 });
  });

  it('ResourcePool hands out amounts and takes them back', () => {
    const pool = new ResourcePool({ GPU: 2, process: 1 });
    assert.ok(pool.fits({ GPU: 2 }));
    pool.acquire({ GPU: 1, process: 1 });
    assert.deepEqual(pool.free, { GPU: 1, process: 0 });
    assert.ok(pool.fits({ GPU: 1 }));
    assert.ok(!pool.fits({ process: 1 }));
    assert.ok(!pool.fits({ GPU: 2 }));
    assert.ok(!pool.fits({ TPU: 1 }), 'a resource the pool does not have never fits');
    assert.ok(pool.fits({}), 'needing nothing always fits');
    pool.release({ GPU: 1, process: 1 });
    assert.deepEqual(pool.free, { GPU: 2, process: 1 });
    assert.deepEqual(pool.capacity, { GPU: 2, process: 1 });
    const free = pool.free as Record<string, number>;
    free.GPU = 100;
    assert.equal(pool.free.GPU, 2, 'free is a copy');
  });

  it('parseResources reads the CLI form and rejects malformed text', () => {
    assert.deepEqual(parseResources('--resources', 'GPU=1,process=1'), { GPU: 1, process: 1 });
    assert.deepEqual(parseResources('--resources', 'memory=4e9'), { memory: 4e9 });
    assert.deepEqual(parseResources('--resources', ''), {});
    assert.deepEqual(parseResources('--resources', ' GPU =2'), { GPU: 2 });
    for (const text of ['GPU', 'GPU=', 'GPU= ', 'GPU=x', '=1', ' =1', 'GPU=1=2']) {
      assert.throws(() => parseResources('--resources', text), (e: unknown) => {
        assert.ok(e instanceof InvalidOptionError, `${text}: ${String(e)}`);
        assert.equal(e.option, '--resources');
        assert.match(e.message, /a list such as GPU=1,process=1/);
        return true;
      }, text);
    }
    assert.throws(() => parseResources('--resources', 'GPU=-1'), (e: unknown) => e instanceof InvalidOptionError && e.option === '--resources.GPU');
  });
});
