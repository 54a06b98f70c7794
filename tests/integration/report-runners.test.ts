// @needs redis-server
/** `performanceReport` on every runner: the file is written, the HTML is on the record and in onTerminal, and it holds the run. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepRunLog, type FlowRunRecord } from '../../src/index.ts';
import { buildModel, type TaskRow } from '../../src/report/model.ts';
import { eventsFile, listRuns, readRunLog } from '../../src/report/run-log.ts';
import { EXPECTED, mixed, reportRunners } from '../fixtures/report/flows.ts';
import { readPayload } from '../helpers/report.ts';

process.env.WEFT_TASK_LOGS = 'off';
const dir = mkdtempSync(join(tmpdir(), 'weft-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const { name, runner } of reportRunners(dir)) {
  test(`${name}: the report is written, on the run record and in onTerminal`, async () => {
    let seen: FlowRunRecord<unknown> | undefined;
    const record = await mixed.withOptions({ taskRunner: runner, onTerminal: (r) => void (seen = r) }).run();
    assert.equal(record.state, 'Completed', String(record.error));
    assert.ok(seen?.performanceReport, 'onTerminal sees the report');
    const file = readFileSync(join(dir, `${name}.html`), 'utf8');
    assert.equal(record.performanceReport, file);
    // Self-contained: no script, style or link pointing anywhere.
    assert.doesNotMatch(file, /<(script|link|img)[^>]+(src|href)="(?!data:)/);
    const p = readPayload(file);
    assert.equal(p.summary.flowRunId, record.id);
    assert.equal(p.summary.taskRuns, EXPECTED.taskRuns);
    assert.equal(p.summary.attempts, EXPECTED.attempts);
    assert.equal(p.summary.retries, 2);
    assert.equal(p.summary.byState.Failed, 1);
    assert.deepEqual([...p.names].sort(), [...EXPECTED.names].sort());
    assert.ok(p.lanes.length >= 1);
    assert.equal(p.tasks.reduce((s, t) => s + t.count, 0), EXPECTED.taskRuns);
  });
}

test('keepRunLog: a programmatic run kept in the history, bounded to the newest runs', async () => {
  const history = join(dir, 'history');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const run = mixed.run();
    const kept = keepRunLog(run, { dir: history, keep: 2 });
    await run;
    assert.equal(await kept, join(history, run.id));
    ids.push(run.id);
  }
  assert.deepEqual(listRuns(history).map((r) => r.id), [ids[2], ids[1]]);
  const model = buildModel(readRunLog(eventsFile(join(history, ids[2]!))));
  assert.equal(model.summary.taskRuns, EXPECTED.taskRuns);
  assert.equal(model.summary.flowRunId, ids[2]);
});

test("a report holds its subflows' task runs, each subflow with a report of its own too, the same as from the run's events", async () => {
  const { flow, ParallelTaskRunner, SequentialTaskRunner } = await import('../../src/index.ts');
  const inner = flow(async function inner() {
    await mixed();
  }).withOptions({ taskRunner: new SequentialTaskRunner({ performanceReport: join(dir, 'inner.html') }) });
  const outer = flow(async function outer() {
    await mixed();
    const first = inner.run();
    await first;
    await inner.run();
    return first.id;
  }).withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 4, performanceReport: join(dir, 'outer.html') }) });
  // The same run's events, collected from its handle as `weft run` keeps them.
  const run = outer.run();
  const kept = keepRunLog(run, { dir: join(dir, 'subflows') });
  const record = await run;
  assert.equal(record.state, 'Completed', String(record.error));
  const fromEvents = buildModel(readRunLog(eventsFile((await kept) as string)));
  const p = readPayload(record.performanceReport as string);
  // mixed() three times: once in outer, once in each inner run.
  assert.equal(p.summary.taskRuns, 3 * EXPECTED.taskRuns);
  assert.equal(p.summary.attempts, 3 * EXPECTED.attempts);
  assert.equal(p.summary.subflows, 5, "outer's mixed(), two inner runs and each one's mixed()");
  assert.deepEqual([p.summary.taskRuns, p.summary.attempts, p.summary.byState, p.summary.retries], [fromEvents.summary.taskRuns, fromEvents.summary.attempts, fromEvents.summary.byState, fromEvents.summary.retries]);
  assert.deepEqual((p.tasks as unknown as TaskRow[]).map((t) => [t.name, t.count, t.failed, t.retries]), fromEvents.tasks.map((t) => [t.name, t.count, t.failed, t.retries]));
  // The first inner run's own report: its mixed() only.
  const innerReport = readPayload(readFileSync(join(dir, 'inner.html'), 'utf8'));
  assert.equal(innerReport.summary.taskRuns, EXPECTED.taskRuns);
  assert.equal(innerReport.summary.attempts, EXPECTED.attempts);
});
