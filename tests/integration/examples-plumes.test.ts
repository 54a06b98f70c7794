import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { plumePng, startImageServer } from '../../examples/plumes/server.ts';
import { main } from '../../examples/plumes/main.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/plumes', () => {
  it('downloads all twelve images on both runners: one at a time, then all twelve at once', async () => {
    const result = await main(200);
    assert.equal(result.files, 24);
    // What the server saw, not a timing: the sequential runner never overlaps requests, and the
    // async runner with 12 workers has all twelve in flight together.
    assert.deepEqual(result.maxInFlight, [1, 12]);
  });

  it('serves valid PNG images, one per month', async () => {
    const server = await startImageServer({ delayMs: 0 });
    try {
      const res = await fetch(`${server.url}/plumes/2022/3.png`);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
      assert.deepEqual(bytes, plumePng(2022, 3));
      assert.notDeepEqual(plumePng(2022, 3), plumePng(2022, 4));
      assert.equal((await fetch(`${server.url}/elsewhere`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('runs as `npm start` does, printing both times', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/plumes/main.ts'], {
      cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PLUMES_DELAY_MS: '50' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /SequentialTaskRunner\(\)\s+12 images in [\d.]+ s/);
    assert.match(r.stdout, /ParallelTaskRunner\(\{ scheduler: 'async', workers: 12 \}\)\s+12 images in [\d.]+ s/);
  });
});
