/**
 * weft: a workflow engine for TypeScript. Tasks and flows are plain async functions; a flow's
 * task runner decides where the tasks run.
 *
 * @example
 * import { flow, task, ParallelTaskRunner, isMain } from 'weftjs';
 *
 * export const double = task(async function double(x: number) { return 2 * x; });
 * export const main = flow(async function main(n: number) {
 *   return Promise.all(double.map(Array.from({ length: n }, (_, i) => i)));
 * }, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 8 }) });
 *
 * if (isMain(import.meta)) console.log(await main(10));
 *
 * @module
 */
import { setDefaultTaskRunner, setRunObserver } from './core/flow.ts';
import { printTaskLogs } from './events/task-logs.ts';
import { SequentialTaskRunner } from './runners/sequential.ts';

setDefaultTaskRunner(() => new SequentialTaskRunner());
setRunObserver(printTaskLogs);

export { task, unmapped } from './core/task.ts';
export type { Task, Arg, Args, MapArgs, MapResult, Unmapped } from './core/task.ts';
export { quote, allowFailure } from './core/arguments.ts';
export type { Quoted, AllowFailure } from './core/arguments.ts';
export { flow, FlowRun } from './core/flow.ts';
export type { Flow } from './core/flow.ts';
export { TaskFuture, asCompleted, wait } from './core/future.ts';
export type { CompletedFuture, CompletedView } from './core/future.ts';
export { annotate, getRunContext } from './core/context.ts';
export type { Annotations, RunContext, RunLogger } from './core/context.ts';
export { isMain } from './core/is-main.ts';
export type { TaskOptions, SubmitOptions, FlowOptions, ResolvedTaskOptions } from './core/options.ts';
export { TaskRunState, FlowRunState } from './core/states.ts';
export type { TaskRunRecord, FlowRunRecord, FinalTaskRunState } from './core/states.ts';
export type { TaskRunner, RunnerContext, TaskJob, TaskOutcome, LifecycleState, Lend } from './core/task-runner.ts';
export type { Cancellation } from './core/run-signal.ts';
export type { TaskRef } from './protocol/task-ref.ts';
export { SequentialTaskRunner } from './runners/sequential.ts';
export type { SequentialTaskRunnerOptions } from './runners/sequential.ts';
export { ParallelTaskRunner, Scheduler } from './runners/parallel.ts';
export type { ParallelTaskRunnerOptions } from './runners/parallel.ts';
export { transfer } from './protocol/serialize.ts';
export { serializable } from './protocol/serializable.ts';
export type { SerializationProblem } from './errors.ts';
export { DistributedTaskRunner } from './runners/distributed.ts';
export type { DistributedTaskRunnerOptions, ClientOptions, ClusterClass } from './cluster/runner-options.ts';
export { LocalCluster } from './cluster/local-cluster.ts';
export type { LocalClusterOptions } from './cluster/local-cluster.ts';
export { SpecCluster } from './cluster/spec-cluster.ts';
export { CommandCluster } from './cluster/command-cluster.ts';
export type { CommandClusterOptions } from './cluster/command-cluster.ts';
export type { ClusterSpec, WorkerLauncher, WorkerProcess, WorkerExit } from './cluster/spec-cluster.ts';
export type { Cluster, AdaptOptions } from './cluster/cluster.ts';
export { getClient } from './cluster/get-client.ts';
export type { Client } from './cluster/get-client.ts';
export type { Resources } from './schedule/resources.ts';
export type { WeftEvents, WeftEventName, LogLevel, EventSink } from './events/events.ts';
export { RunFold } from './events/fold.ts';
export { keepRunLog } from './report/run-log.ts';
export type { TaskAttempt, TaskAttemptState } from './events/fold.ts';
export {
  WeftError, ErrorCode, TaskRunError, FlowRunError, WorkerCrashedError, TaskNotFoundError, SerializationError,
  ClusterConnectionError, ClusterModeError, CancelledError, TaskTimeoutError, UpstreamFailedError, InvalidOptionError, UsageError,
  FlowParametersError, UnguardedModuleError,
  AsCompletedTimeoutError, WorkerStartError, CodeVersionError,
} from './errors.ts';
export type { ParameterIssue } from './errors.ts';
export type { StandardSchemaV1 } from './core/standard-schema.ts';
