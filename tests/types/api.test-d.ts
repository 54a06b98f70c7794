/**
 * Type tests of the public API, checked by `tsc --noEmit -p .` (tests/types/types.test.ts runs it
 * under `npm test`). Never executed. Each `@ts-expect-error` line must be a type error: if weft's
 * types loosen, tsc reports the directive as unused.
 */
import {
  allowFailure, annotate, asCompleted, DistributedTaskRunner, flow, LocalCluster, getRunContext, ParallelTaskRunner, quote, SequentialTaskRunner, task, unmapped, wait,
  type Arg, type CompletedFuture, type FinalTaskRunState, type FlowRun, type FlowRunRecord, type RunContext, type Task, type TaskFuture, type TaskRunState, type TaskRunner,
  type StandardSchemaV1,
} from '../../src/index.ts';
import * as v from 'valibot';
import { z } from 'zod';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

export const download = task(async function download(year: number, month: number) {
  return `${year}-${month}.png`;
}, { retries: 2, retryDelayMs: [500, 1000], timeoutMs: 30_000 });
export const size = task(function size(path: string) {
  return path.length;
});
export const total = task(async function total(sizes: number[]) {
  return sizes.reduce((a, b) => a + b, 0);
});

export const describeSize = task(async function describeSize(size: number | Error) {
  return size instanceof Error ? size.message : `${size} bytes`;
});
export const settings = task(async function settings(config: { name: string; sizes: Map<string, number>; tags: Set<string>; pairs: [number, string][] }) {
  return config.name;
});
export const callBack = task(async function callBack(callback: () => number) {
  return callback();
});
export const cities = task(async function cities() {
  return ['Paris', 'Lima'];
});

expectTrue<Equal<typeof download, Task<[year: number, month: number], Promise<string>>>>();
expectTrue<Equal<typeof size, Task<[path: string], number>>>();

export const plumes = flow(async function plumes(year: number) {
  // submit gives a future of the awaited return type, sync or async.
  const f: TaskFuture<string> = download.submit(year, 1);
  const n: TaskFuture<number> = size.submit(f);
  expectTrue<Equal<ReturnType<typeof size.submit>, TaskFuture<number>>>();

  // An inline call gives a promise of the value.
  const inline: Promise<string> = download(year, 2);
  expectTrue<Equal<typeof inline, Promise<string>>>();
  void inline;

  // A future is PromiseLike: await and Promise.all unwrap it.
  const value: string = await f;
  const values: [string, number] = await Promise.all([f, n]);
  const list: number[] = await Promise.all([n, size.submit('x')]);
  const viaResult: string = await f.result();
  const state: TaskRunState = f.state;
  const final: 'Completed' | 'Failed' | 'Crashed' | 'Cancelled' = await f.wait();
  const cancelled: boolean = f.cancel();

  // map: an iterable per parameter, or unmapped(x); futures allowed in both.
  const mapped: TaskFuture<string>[] = download.map([2020, 2021], unmapped(1));
  const mappedFutures: TaskFuture<number>[] = size.map([f, 'a', download.submit(year, 3)]);
  // A list parameter takes a list of values and futures.
  const t: TaskFuture<number> = total.submit([n, 1, size.submit(f)]);
  const t2: TaskFuture<number> = total.submit([1, 2, 3]);

  // Arg<T> accepts the value or a future of it.
  const a1: Arg<number> = 1;
  const a2: Arg<number> = n;
  const a3: Arg<number[]> = [n, 2];

  // Futures of different types mix where any future will do.
  const anyFuture: TaskFuture<unknown> = n;
  const { done, notDone } = await wait([f, n], { timeoutMs: 10 });
  const doneSet: Set<TaskFuture<string> | TaskFuture<number>> = done;
  // for-await over asCompleted gives a view of each future (no `then`), and `await` on it gives
  // the view back at run time too: the static type and the runtime agree.
  for await (const done of asCompleted([f])) {
    const value: Promise<string> = done.result();
    const id: string = done.taskRunId;
    const itself: TaskFuture<string> = done.future;
    const state: FinalTaskRunState = done.state;
    const awaited: CompletedFuture<TaskFuture<string>> = await done;
    const read: string = await done.result();
    // @ts-expect-error the loop variable is the future's view, not the task's value
    const notTheValue: string = done;
    // @ts-expect-error awaiting the view gives the view (it has no `then`), not the task's value
    const notAwaitedValue: string = await done;
    // @ts-expect-error the view is not thenable, so it is not a PromiseLike of the value
    const notThenable: PromiseLike<string> = done;
    void [value, id, itself, state, awaited, read, notTheValue, notAwaitedValue, notThenable];
  }
  for await (const done of asCompleted([f, n])) {
    const either: Promise<string> | Promise<number> = done.result();
    const which: TaskFuture<string> | TaskFuture<number> = done.future;
    // @ts-expect-error a view of a string future or of a number future, not of a string future only
    const onlyStrings: Promise<string> = done.result();
    void [either, which, onlyStrings];
  }

  // Futures anywhere in plain data, typed by where they sit.
  const nested: TaskFuture<string> = settings.submit({ name: f, sizes: new Map([['a', n]]), tags: new Set([f, 'x']), pairs: [[n, f]] });
  // quote(x) passes x whole, typed as x.
  const quoted: TaskFuture<number> = total.submit(quote([1, 2, 3]));
  // allowFailure(f) fits a parameter that also takes the error standing in for the value.
  const tolerant: TaskFuture<string> = describeSize.submit(allowFailure(n));
  const orderedAfterFailure = size.withOptions({ waitFor: [allowFailure(n)] }).submit('x');
  // map over a future of a list: a promise of the futures, once the list is known.
  const mappedLater: Promise<TaskFuture<number>[]> = size.map(cities.submit());
  expectTrue<Equal<typeof mappedLater, Promise<TaskFuture<number>[]>>>();

  // withOptions keeps the task's type.
  const w: Task<[year: number, month: number], Promise<string>> = download.withOptions({ priority: 5, waitFor: [n] });
  const p: number = annotate({ priority: 1, resources: { GPU: 1 }, retries: 1 }, () => 1);
  const c: RunContext = getRunContext();
  const signal: AbortSignal = c.signal;

  // @ts-expect-error: wrong argument type
  download.submit('2022', 1);
  // @ts-expect-error: a future of the wrong type
  size.submit(n);
  // @ts-expect-error: too few arguments
  download.submit(2022);
  // @ts-expect-error: too many arguments
  size.submit('a', 'b');
  // @ts-expect-error: the future's value is a string, not a number
  const wrong: TaskFuture<number> = f;
  // @ts-expect-error: a list of the wrong element type
  total.submit(['a']);
  // @ts-expect-error: a list holding a future of the wrong type
  total.submit([f]);
  // @ts-expect-error: map over the wrong element type
  size.map([1, 2]);
  // @ts-expect-error: an unknown task option
  download.withOptions({ retry: 3 });
  // @ts-expect-error: retryDelayMs is a number or a list of numbers
  download.withOptions({ retryDelayMs: '1s' });
  // @ts-expect-error: annotate takes priority, resources and retries only
  annotate({ timeoutMs: 5 }, () => 1);
  // @ts-expect-error: a future is not its value
  const notValue: string = f;
  // @ts-expect-error: allowFailure only where the parameter takes an Error too
  size.submit(allowFailure(f));
  // @ts-expect-error: allowFailure of a future of the wrong type
  describeSize.submit(allowFailure(f));
  // @ts-expect-error: a future of the wrong type nested in an object
  settings.submit({ name: n, sizes: new Map(), tags: new Set(), pairs: [] });
  // @ts-expect-error: a Map holding a future of the wrong type
  settings.submit({ name: 'a', sizes: new Map([['a', f]]), tags: new Set(), pairs: [] });
  // @ts-expect-error: quote keeps the type: a quoted string is no number list
  total.submit(quote('a'));
  // @ts-expect-error: map over a future of a list of the wrong element type
  total.map(cities.submit());
  // @ts-expect-error: map over the future itself is a promise, not the futures
  const notYet: TaskFuture<number>[] = size.map(cities.submit());
  // @ts-expect-error: a function parameter takes a function, not an object that looks like one
  callBack.submit({});

  void [value, values, list, viaResult, state, final, cancelled, mapped, mappedFutures, t, t2, a1, a2, a3, anyFuture, notDone, doneSet, w, p, signal, wrong, notValue];
  void [nested, quoted, tolerant, orderedAfterFailure, mappedLater, notYet];
  return values;
}, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 12 }) });

async function flows(): Promise<void> {
  // Calling a flow gives its value; run() gives a handle whose await is the run record.
  const result: [string, number] = await plumes(2022);
  const run: FlowRun<[string, number]> = plumes.run(2022);
  const record: FlowRunRecord<[string, number]> = await run;
  expectTrue<Equal<Awaited<typeof run>, FlowRunRecord<[string, number]>>>();
  const value: [string, number] = await run.result();
  const id: string = run.id;
  const off: () => void = run.on('task-run:finished', (e) => {
    const s: 'Completed' | 'Failed' | 'Crashed' | 'Cancelled' = e.state;
    void s;
  });
  run.cancel('reason');
  const swapped = plumes.withOptions({ taskRunner: new SequentialTaskRunner() });
  expectTrue<Equal<typeof swapped, typeof plumes>>();
  void swapped;
  const runner: TaskRunner = new ParallelTaskRunner({ scheduler: 'threads' });
  flow(async function hooked() {
    return 1;
  }, {
    onTerminal: (r) => {
      const n: number | undefined = r.result;
      void n;
    },
  });

  // @ts-expect-error: a flow's arguments are checked
  await plumes('2022');
  // @ts-expect-error: the record is not the value
  const notValue: [string, number] = await run;
  // @ts-expect-error: an unknown event
  run.on('task-run:exploded', () => undefined);
  // @ts-expect-error: an unknown scheduler
  new ParallelTaskRunner({ scheduler: 'gpu' });
  // @ts-expect-error: workers is a number
  new ParallelTaskRunner({ workers: '4' });

  // A parameters schema is any Standard Schema: zod's and valibot's fit as they are.
  const withZod = flow(async function zodFlow(pages: number) {
    return pages;
  }, { parameters: z.object({ pages: z.coerce.number() }) });
  const withValibot = withZod.withOptions({ parameters: v.object({ pages: v.number() }) });
  const withoutSchema = withValibot.withOptions({ parameters: null });
  const schema: StandardSchemaV1 = z.string();
  // @ts-expect-error: a parameters schema must implement Standard Schema
  flow(async function notSchema() {}, { parameters: { validate: () => true } });

  void [result, record, value, id, off, runner, notValue, withoutSchema, schema];
}
void flows;

/** `clusterOptions` is typed by the cluster class: LocalCluster's by default, a custom class's own. */
export function clusterOptions(): void {
  class GpuCluster extends LocalCluster {
    constructor(options: { gpus: number }) {
      super({ workers: options.gpus, resources: { GPU: 1 } });
    }
  }
  new DistributedTaskRunner({ clusterOptions: { workers: 2, threadsPerWorker: 4 } });
  new DistributedTaskRunner({ clusterClass: GpuCluster, clusterOptions: { gpus: 2 } });
  new DistributedTaskRunner({ clusterClass: (o: { size: number }) => new LocalCluster({ workers: o.size }), clusterOptions: { size: 1 } });
  new DistributedTaskRunner({ clusterClass: './my-cluster.ts:MyCluster', clusterOptions: { anything: true } });
  // @ts-expect-error: LocalCluster has no option 'workrs'
  new DistributedTaskRunner({ clusterOptions: { workrs: 2 } });
  // @ts-expect-error: GpuCluster takes { gpus }, not LocalCluster's options
  new DistributedTaskRunner({ clusterClass: GpuCluster, clusterOptions: { workers: 2 } });
  // @ts-expect-error: address connects to an existing cluster, clusterOptions configure a temporary one
  new DistributedTaskRunner({ address: 'redis://127.0.0.1:6379', clusterOptions: { workers: 2 } });
}
