/**
 * The report thread: it builds the same HTML as the in-thread build (the fallback) for the same
 * events, takes chunks before and after its boot, and is gone after every run that had a report,
 * whatever way the run ended.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { flow, ParallelTaskRunner, SequentialTaskRunner, task } from '../../src/index.ts';
import { logOf, type EventLog } from '../../src/report/event-log.ts';
import { reportHtml } from '../../src/report/report.ts';
import { liveReportThreads, ReportThread } from '../../src/report/report-thread.ts';
import { CHUNK_ROWS, COLUMNS, newChunk, type Chunk } from '../../src/report/rows.ts';
import type { WeftEventName, WeftEvents } from '../../src/events/events.ts';
import { eventually } from '../helpers/eventually.ts';
import { readPayload } from '../helpers/report.ts';

process.env.WEFT_TASK_LOGS = 'off';
const dir = mkdtempSync(join(tmpdir(), 'weft-report-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Ev = { [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName];

/** `n` task runs, every 7th retried once, every 11th failed, on 3 workers: rows well past one chunk. */
function events(n: number): Ev[] {
  const F = 'flow-1';
  const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'f', runner: 'test', time: 0 }]];
  for (let i = 1; i <= n; i++) {
    const taskRunId = `t-${i}`;
    const workerId = `w${i % 3}`;
    const t = i * 0.01;
    ev.push(['task-run:submitted', { flowRunId: F, taskRunId, taskName: 't', priority: 0, time: t }]);
    ev.push(['task-run:started', { flowRunId: F, taskRunId, taskName: 't', attempt: 1, workerId, readyTime: t, time: t + 0.001 }]);
    if (i % 7 === 0) {
      ev.push(['task-run:retried', { flowRunId: F, taskRunId, taskName: 't', attempt: 1, delayMs: 0, error: new Error(`try ${i}`), workerId, time: t + 0.002 }]);
      ev.push(['task-run:started', { flowRunId: F, taskRunId, taskName: 't', attempt: 2, workerId, readyTime: t, time: t + 0.003 }]);
    }
    const failed = i % 11 === 0;
    ev.push(['task-run:finished', { flowRunId: F, taskRunId, taskName: 't', state: failed ? 'Failed' : 'Completed', workerId, attempt: i % 7 === 0 ? 2 : 1, time: t + 0.005, ...(failed && { error: new Error(`t-${i} failed`) }) }]);
  }
  ev.push(['flow-run:finished', { flowRunId: F, flowName: 'f', state: 'Failed', time: n * 0.01 + 1 }]);
  return ev;
}

/** A copy of a chunk (the thread is handed its buffer, which a transfer takes away). */
function copy(c: Chunk): Chunk {
  const out = newChunk(c.capacity);
  for (const k of COLUMNS) out[k].set(c[k]);
  out.length = c.length;
  return out;
}

/** Adds chunks `from..to` of the log (the first carries the whole dictionary). */
function feed(thread: ReportThread, log: EventLog, from = 0, to = log.chunks().length - 1): void {
  log.chunks().slice(from, to).forEach((c, k) => thread.add(copy(c), from + k === 0 ? log.strings : []));
}

/** The HTML after the last chunk. */
function end(thread: ReportThread, log: EventLog): Promise<string> {
  const chunks = log.chunks();
  return thread.html(copy(chunks[chunks.length - 1]!), chunks.length === 1 ? log.strings : [], log.droppedLogs);
}

describe('the report thread', () => {
  const log = logOf(events(Math.ceil((2.5 * CHUNK_ROWS) / 4)));

  it('builds the same HTML as the in-thread build, from chunks sent before and after it booted', async () => {
    assert.ok(log.chunks().length >= 3, 'the log spans chunks');
    const here = await reportHtml(log);
    // Before its boot (it starts with the first chunk): the chunks wait, and go once it is ready.
    const early = new ReportThread();
    feed(early, log);
    assert.equal(await early.started, true);
    assert.equal(await end(early, log), here);
    // After its boot: each chunk goes as it is added.
    const late = new ReportThread();
    feed(late, log, 0, 1);
    assert.equal(await late.started, true);
    feed(late, log, 1);
    assert.equal(await end(late, log), here);
    await eventually(() => assert.equal(liveReportThreads(), 0));
  });

  it('where no thread can be made, the same code builds the report here, and says so', async (t) => {
    const warned: string[] = [];
    t.mock.method(console, 'warn', (text: string) => void warned.push(text));
    const thread = new ReportThread(() => {
      throw new Error('no threads here');
    });
    feed(thread, log);
    assert.equal(await end(thread, log), await reportHtml(log));
    assert.match(warned.join('\n'), /report thread could not start \(no threads here\)/);
    // A log of one chunk (a short run) starts no thread at all.
    await eventually(() => assert.equal(liveReportThreads(), 0));
    const short = logOf(events(100));
    assert.equal(await end(new ReportThread(), short), await reportHtml(short));
    assert.equal(liveReportThreads(), 0, 'no thread for a log of one chunk');
  });
});

describe('no report thread outlives its run', () => {
  const noop = task(async function noop(x: number) {
    return x;
  });
  const fails = task(async function fails() {
    throw new Error('on purpose');
  });
  const many = flow(async function many(n: number) {
    const futures = [];
    for (let i = 0; i < n; i++) futures.push(noop.submit(i));
    for (const f of futures) await f;
  });

  it('a run that completes: the thread built its report, and is gone', async () => {
    const record = await many.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 8, performanceReport: join(dir, 'ok.html') }) }).run(20_000);
    assert.equal(record.state, 'Completed');
    assert.equal(readPayload(record.performanceReport!).summary.taskRuns, 20_000);
    await eventually(() => assert.equal(liveReportThreads(), 0));
  });

  it('a run that fails', async () => {
    const failing = flow(async function failing() {
      await noop(1);
      await fails();
    });
    const record = await failing.withOptions({ taskRunner: new SequentialTaskRunner({ performanceReport: join(dir, 'failed.html') }) }).run();
    assert.equal(record.state, 'Failed');
    assert.equal(readPayload(record.performanceReport!).summary.state, 'Failed');
    await eventually(() => assert.equal(liveReportThreads(), 0));
  });

  it('a run that is cancelled while its thread works', async () => {
    const run = many.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 8, performanceReport: join(dir, 'cancelled.html') }) }).run(100_000);
    // Past the first chunks (3 rows a task run): the thread has some of the log when the run is cancelled.
    let finished = 0;
    run.on('task-run:finished', () => void (++finished === 20_000 && run.cancel('enough')));
    const record = await run;
    assert.equal(record.state, 'Cancelled');
    assert.equal(readPayload(record.performanceReport!).summary.state, 'Cancelled');
    await eventually(() => assert.equal(liveReportThreads(), 0));
  });
});
