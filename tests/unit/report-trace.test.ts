import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WeftEventName, WeftEvents } from '../../src/events/events.ts';
import { logOf } from '../../src/report/event-log.ts';
import { buildModel } from '../../src/report/model.ts';
import { decodeLog, encodeLog } from '../../src/report/run-log.ts';
import { toTrace, type Trace } from '../../src/report/trace.ts';
import { renderHtml } from '../../src/report/html.ts';

type Ev = { [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName];
/**
 * Events as logs may hold them: fields the contract added later (readyTime, the finished event's
 * attempt) are optional here, so the model is tested with and without them.
 */
type Loose<T> = Omit<T, 'readyTime' | 'attempt'> & { readyTime?: number; attempt?: number };
const loose = <N extends WeftEventName>(name: N, event: Loose<WeftEvents[N]>): Ev => [name, event as WeftEvents[N]] as Ev;
const F = 'flow-1';

/** 40 runs on 'main' (async: up to 4 at once), 10 on w2, some retried. */
function events(): Ev[] {
  const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'traced', runner: 'test', time: 1000.123 }]];
  const starts: Array<[number, Ev]> = [];
  for (let i = 1; i <= 50; i++) {
    const id = `t-${i}`;
    const workerId = i <= 40 ? 'main' : 'w2';
    const s = 1000 + (i <= 40 ? Math.floor((i - 1) / 4) * 10 + (i % 4) * 0.3 : (i - 41) * 10) + 0.123;
    ev.push(['task-run:submitted', { flowRunId: F, taskRunId: id, taskName: 't', priority: 0, time: 1000.123 }]);
    starts.push([s, loose('task-run:started', { flowRunId: F, taskRunId: id, taskName: 't', attempt: 1, workerId, time: s })]);
    if (i % 9 === 0) {
      starts.push([s + 3, ['task-run:retried', { flowRunId: F, taskRunId: id, taskName: 't', attempt: 1, delayMs: 0, error: new Error('again'), workerId, time: s + 3 }]]);
      starts.push([s + 3.5, loose('task-run:started', { flowRunId: F, taskRunId: id, taskName: 't', attempt: 2, workerId, time: s + 3.5 })]);
    }
    starts.push([s + 8.7, loose('task-run:finished', { flowRunId: F, taskRunId: id, taskName: 't', state: 'Completed', workerId, time: s + 8.7 })]);
  }
  ev.push(...starts.sort((a, b) => a[0] - b[0]).map(([, e]) => e));
  ev.push(['flow-run:finished', { flowRunId: F, flowName: 'traced', state: 'Completed', time: 1200 }]);
  return ev;
}

/** The trace-event rules Perfetto and chrome://tracing rely on. */
function checkTrace(trace: Trace): void {
  const named = new Set<number>();
  const threads = new Set<string>();
  const slices = new Map<string, Array<{ ts: number; dur: number }>>();
  for (const e of trace.traceEvents) {
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `integer pid and tid: ${JSON.stringify(e)}`);
    if (e.ph === 'M') {
      assert.ok(typeof e.args?.name === 'string' || typeof e.args?.sort_index === 'number', `metadata has its value: ${JSON.stringify(e)}`);
      if (e.name === 'process_name') named.add(e.pid);
      if (e.name === 'thread_name') threads.add(`${e.pid}/${e.tid}`);
    } else if (e.ph === 'X') {
      assert.ok(Number.isInteger(e.ts) && Number.isInteger(e.dur) && e.dur! >= 0, `X has integer ts and dur ≥ 0: ${JSON.stringify(e)}`);
      const key = `${e.pid}/${e.tid}`;
      (slices.get(key) ?? slices.set(key, []).get(key)!).push({ ts: e.ts!, dur: e.dur! });
    } else {
      assert.equal(e.ph, 'C');
      assert.ok(Number.isInteger(e.ts));
      for (const v of Object.values(e.args ?? {})) assert.equal(typeof v, 'number');
    }
  }
  for (const [key, list] of slices) {
    assert.ok(named.has(Number(key.split('/')[0])), `process ${key} is named`);
    assert.ok(threads.has(key), `thread ${key} is named`);
    list.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < list.length; i++) assert.ok(list[i]!.ts >= list[i - 1]!.ts + list[i - 1]!.dur, `slices on ${key} do not overlap`);
  }
}

describe('trace export', () => {
  it('follows the trace-event rules: integers, X with dur, named tracks, no overlap on one track, counters', () => {
    const model = buildModel(logOf(events()));
    const trace = toTrace(model);
    checkTrace(JSON.parse(JSON.stringify(trace)) as Trace);
    const x = trace.traceEvents.filter((e) => e.ph === 'X');
    assert.equal(x.length, model.summary.attempts);
    assert.equal(x.length, 50 + 5);
    // 'main' ran up to 4 at once: 4 threads in its process; w2 one.
    const tids = (worker: string) => new Set(trace.traceEvents.filter((e) => e.name === 'thread_name' && String(e.args?.name).startsWith(`${worker} `)).map((e) => e.tid));
    assert.equal(tids('main').size, 4);
    assert.equal(tids('w2').size, 1);
    assert.ok(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'ready queue'));
    assert.ok(x.some((e) => e.cat === 'Retried' && e.args?.attempt === 1));
  });
});

describe('run log', () => {
  it('round-trips a log exactly: the report made from it later is the same file', () => {
    const log = logOf(events());
    const back = decodeLog(encodeLog(log));
    assert.equal(back.length, log.length);
    assert.deepEqual(back.strings, log.strings);
    assert.equal(renderHtml(buildModel(back)), renderHtml(buildModel(log)));
    assert.throws(() => decodeLog(Buffer.from('not a log')), /incorrect header check|unexpected end/);
  });
});
