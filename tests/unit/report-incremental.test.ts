/**
 * The report built as chunks arrive (the report thread's path: attempts packed and written to the
 * payload as they become final) gives the same HTML as the report built from the whole log at once,
 * including where packing ahead has to give up: an attempt opened in the past by its `finished`,
 * and a start earlier than one heard before it (clocks of a cluster's machines).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logOf, type EventLog } from '../../src/report/event-log.ts';
import { payloadHtml, renderHtml } from '../../src/report/html.ts';
import { buildModel, ReportBuilder } from '../../src/report/model.ts';
import { COLUMNS, newChunk } from '../../src/report/rows.ts';
import type { WeftEventName, WeftEvents } from '../../src/events/events.ts';

type Ev = { [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName];

/**
 * `n` task runs on 4 workers, in start order: every 7th retried, every 11th failed, every 97th
 * with an id of its own, every 3rd with its run time measured; the others' ends are heard 0.5 ms
 * after the next start on their slot (so packing moves them back). `twist` adds, at 60 % of the
 * run, one attempt out of order.
 */
function events(n: number, twist?: 'past' | 'early'): Ev[] {
  const F = 'flow-1';
  const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'f', runner: 'test', time: 1000 }]];
  for (let i = 1; i <= n; i++) {
    const taskName = i % 5 === 0 ? 'b' : 'a';
    const taskRunId = i % 97 === 0 ? `own-${i}` : `${taskName}-${i}`;
    const workerId = `w${i % 4}`;
    const t = 1000 + i;
    const common = { flowRunId: F, taskRunId, taskName };
    ev.push(['task-run:submitted', { ...common, priority: 0, time: t - 0.5 }]);
    if (twist === 'past' && i === Math.floor(n * 0.6)) {
      // Its start never heard: the `finished` carries it, 30 ms back.
      ev.push(['task-run:finished', { ...common, state: 'Completed', workerId, attempt: 1, startTime: t - 30, time: t + 1 }]);
      continue;
    }
    const start = twist === 'early' && i === Math.floor(n * 0.6) ? t - 20 : t;
    ev.push(['task-run:started', { ...common, attempt: 1, workerId, readyTime: t - 0.5, time: start }]);
    let attempt = 1;
    if (i % 7 === 0) {
      ev.push(['task-run:retried', { ...common, attempt: 1, delayMs: 0, error: new Error(`try ${i}`), workerId, time: t + 0.1 }]);
      ev.push(['task-run:started', { ...common, attempt: 2, workerId, readyTime: t - 0.5, time: t + 0.2 }]);
      attempt = 2;
    }
    const failed = i % 11 === 0;
    const measured = i % 3 === 0 ? { serviceMs: 0.3, startTime: attempt === 2 ? t + 0.2 : start } : {};
    ev.push(['task-run:finished', { ...common, state: failed ? 'Failed' : 'Completed', workerId, attempt, time: t + 4.5, ...measured, ...(failed && { error: new Error(`${taskRunId} failed`) }) }]);
  }
  ev.push(['flow-run:finished', { flowRunId: F, flowName: 'f', state: 'Failed', time: 1000 + n + 10 }]);
  return ev;
}

/** The HTML built a chunk at a time, and how many attempts were final before the log's end. */
function incremental(log: EventLog): { html: string; early: number } {
  const builder = new ReportBuilder({ columns: true });
  const chunks = log.chunks();
  chunks.slice(0, -1).forEach((c, k) => builder.add(c, k === 0 ? log.strings : []));
  const early = builder.final;
  builder.add(chunks[chunks.length - 1]!, chunks.length === 1 ? log.strings : []);
  const { model, columns } = builder.payload(log.droppedLogs);
  return { html: payloadHtml(model, columns), early };
}

/** The HTML built from the whole log as one chunk: every attempt packed at once, at the end. */
function atOnce(log: EventLog): string {
  const all = newChunk(Math.max(1, log.length));
  let at = 0;
  for (const c of log.chunks()) {
    for (const k of COLUMNS) all[k].set(c[k].subarray(0, c.length), at);
    at += c.length;
  }
  all.length = at;
  const builder = new ReportBuilder({ columns: true });
  builder.add(all, log.strings);
  const { model, columns } = builder.payload(log.droppedLogs);
  return payloadHtml(model, columns);
}

describe('the report built as chunks arrive', () => {
  const n = 20_000;

  it('in start order: attempts are final chunk by chunk, and the HTML is the same as built at once and from the model', () => {
    const log = logOf(events(n));
    assert.ok(log.chunks().length >= 4, 'the log spans chunks');
    const { html, early } = incremental(log);
    assert.ok(early > n / 2, `attempts final before the last chunk: ${early}`);
    assert.equal(html, atOnce(log));
    assert.equal(html, renderHtml(buildModel(log)));
  });

  for (const twist of ['past', 'early'] as const) {
    it(`an attempt out of order (${twist === 'past' ? 'opened in the past by its finished' : 'a start before one heard earlier'}): packed again at the end, the same HTML`, () => {
      const log = logOf(events(n, twist));
      const { html, early } = incremental(log);
      assert.equal(early, 0, 'packing ahead gave up');
      assert.equal(html, atOnce(log));
      assert.equal(html, renderHtml(buildModel(log)));
      // The report does show the attempt out of order, and every end moved back before it gave up is put back.
      assert.notEqual(html, incremental(logOf(events(n))).html);
    });
  }

  it('ends moved back while packing ahead are put back when it gives up', () => {
    // x's end is heard late (19.9) and moved back to y's start (16) on its slot; two chunks later
    // z is heard, starting at 13 on the same worker: in start order x still holds its slot at 13
    // (19.9 is past 13 + 5), so z gets a lane of its own, which it would not by x's moved end.
    const F = 'flow-1';
    const run = (taskRunId: string) => ({ flowRunId: F, taskRunId, taskName: 't' });
    const started = (id: string, workerId: string, time: number): Ev => ['task-run:started', { ...run(id), attempt: 1, workerId, readyTime: time, time }];
    const finished = (id: string, workerId: string, time: number, serviceMs?: number): Ev => ['task-run:finished', { ...run(id), state: 'Completed', workerId, attempt: 1, time, ...(serviceMs !== undefined && { serviceMs, startTime: time - serviceMs }) }];
    const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'f', runner: 'test', time: 0 }]];
    ev.push(started('x', 'wx', 10), started('y', 'wx', 16), finished('y', 'wx', 17, 1), finished('x', 'wx', 19.9));
    for (let i = 0; i < 12_000; i++) ev.push(started(`t-${i}`, 'w0', 20 + i), finished(`t-${i}`, 'w0', 20.5 + i, 0.5));
    ev.push(started('z', 'wx', 13), finished('z', 'wx', 13.5, 0.5), ['flow-run:finished', { flowRunId: F, flowName: 'f', state: 'Completed', time: 13_000 }]);
    const log = logOf(ev);
    assert.ok(log.chunks().length >= 2);
    const { html } = incremental(log);
    assert.equal(html, atOnce(log));
    assert.equal(buildModel(log).summary.slots, 3, 'x and z on two lanes of wx, and w0');
  });

  it('small logs: none, one run, one chunk', () => {
    for (const count of [0, 1, 100]) {
      const log = logOf(events(count));
      assert.equal(incremental(log).html, atOnce(log), `${count} runs`);
    }
  });
});
