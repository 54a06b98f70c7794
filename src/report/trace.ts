/**
 * Chrome / Perfetto trace events from a report model (the JSON trace format): one process per
 * worker, one thread per packed slot, so slices on one (pid, tid) never overlap; integer pid, tid,
 * ts and dur (µs); `M` metadata naming every process and thread; `C` counters for busy slots and
 * ready-queue depth. Opens in ui.perfetto.dev or chrome://tracing.
 * @module
 */
import { ATTEMPT_STATES } from './attempts.ts';
import type { ReportModel } from './model.ts';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'C';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

/** The process of the flow run itself, which carries the counters. */
const FLOW_PID = 1;

export function toTrace(model: ReportModel): Trace {
  const s = model.summary;
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: FLOW_PID, tid: 0, args: { name: `flow ${s.flowName} (${s.flowRunId})` } },
    { name: 'process_sort_index', ph: 'M', pid: FLOW_PID, tid: 0, args: { sort_index: 0 } },
  ];
  // pid per worker (2, 3, ...), tid per slot (1, 2, ...).
  const pidOf = new Map<string, number>();
  const laneIds = model.lanes.map((lane) => {
    let pid = pidOf.get(lane.worker);
    if (pid === undefined) {
      pid = FLOW_PID + 1 + pidOf.size;
      pidOf.set(lane.worker, pid);
      events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `worker ${lane.worker}` } });
      events.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
    }
    const tid = lane.slot + 1;
    events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `${lane.worker} slot ${lane.slot}` } });
    return { pid, tid };
  });
  const us = (ms: number) => Math.round(ms * 1000);
  const st = model.stream;
  for (let i = 0; i < st.length; i++) {
    const { pid, tid } = laneIds[st.lane[i]!]!;
    const ts = us(st.start[i]!);
    const state = ATTEMPT_STATES[st.state[i]!]!;
    events.push({
      name: model.names[st.name[i]!]!, cat: state, ph: 'X', pid, tid, ts, dur: Math.max(0, us(st.end[i]!) - ts),
      args: { taskRunId: st.runIds[st.run[i]!], attempt: st.attempt[i], state, waitMs: st.wait[i] },
    });
  }
  const tl = model.timeline;
  for (let b = 0; b < tl.t.length; b++) {
    const ts = us(tl.t[b]!);
    events.push({ name: 'busy slots', ph: 'C', pid: FLOW_PID, tid: 0, ts, args: { busy: round(tl.busy[b]!) } });
    events.push({ name: 'ready queue', ph: 'C', pid: FLOW_PID, tid: 0, ts, args: { queued: round(tl.queued[b]!) } });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { flowName: s.flowName, flowRunId: s.flowRunId, runner: s.runner, state: s.state, startTime: new Date(s.startTime).toISOString(), taskRuns: s.taskRuns },
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
