import { randomUUID } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { submitThen, type DirectSubmit, type LifecycleState, type RunnerContext, type TaskJob, type TaskOutcome, type TaskRunner } from '../core/task-runner.ts';
import { now } from '../events/events.ts';
import type { FlowRunState } from '../core/states.ts';
import type { Resources } from '../schedule/resources.ts';
import { callerModule } from '../protocol/task-ref.ts';
import { sibling } from '../util/sibling.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { ClusterSession } from '../cluster/session.ts';
import { parseAddress } from '../cluster/connection.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { RegistryWatch } from '../cluster/registry.ts';
import { makeCluster, resolveDistributedOptions, type ClusterClass, type DistributedTaskRunnerOptions, type ResolvedDistributedOptions } from '../cluster/runner-options.ts';

const WEFT_ENTRY = sibling(import.meta.url, '../index').href;

/**
 * Runs a flow's tasks on a cluster of worker processes and machines, through Redis (Prefect's
 * `DaskTaskRunner`). With `address`, it connects to an existing cluster that many flow runs may
 * share; without, each flow run gets a temporary cluster (a `LocalCluster` by default) that lives
 * exactly as long as the run.
 *
 * @example
 * // A temporary cluster of 2 worker processes for each run:
 * const onCluster = plumes.withOptions({ taskRunner: new DistributedTaskRunner({ clusterOptions: { workers: 2 } }) });
 * // An existing cluster (`weft cluster up` prints its address):
 * const shared = plumes.withOptions({ taskRunner: new DistributedTaskRunner({ address: 'redis://10.0.0.5:6379' }) });
 */
export class DistributedTaskRunner<C extends ClusterClass = typeof LocalCluster> implements TaskRunner, DirectSubmit {
  readonly options: ResolvedDistributedOptions;
  readonly serializes = true;
  /**
   * What one worker of a temporary cluster declares (`Cluster.workerResources`; a task needing
   * more could never run); undefined for a shared cluster, whose workers come and go (the runner
   * warns instead), and for a cluster class that does not say.
   */
  get capacity(): Resources | undefined {
    return this.#cluster?.workerResources;
  }
  readonly #raw: DistributedTaskRunnerOptions<C> | undefined;
  readonly #base: string | undefined;
  #state: LifecycleState = 'idle';
  #cluster: Cluster | undefined;
  #session: ClusterSession | undefined;
  #watch: RegistryWatch | undefined;
  #context: RunnerContext | undefined;
  #onAbort: (() => void) | undefined;
  #cancelling: Promise<void> | undefined;

  constructor(options?: DistributedTaskRunnerOptions<C>, base?: string) {
    this.options = resolveDistributedOptions(options as DistributedTaskRunnerOptions<ClusterClass> | undefined);
    this.#raw = options;
    // A relative 'module:Export' clusterClass resolves from the module that built the runner.
    this.#base = base ?? callerModule(DistributedTaskRunner as unknown as (...args: never[]) => unknown);
  }

  get performanceReport(): string | undefined {
    return this.options.performanceReport;
  }

  get name(): string {
    return this.options.address ? `distributed(${this.options.address.display})` : 'distributed(temporary cluster)';
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** The cluster's address, once started. */
  get address(): string | undefined {
    return this.#session?.address.url;
  }

  /** The temporary cluster, if this runner started one. */
  get cluster(): Cluster | undefined {
    return this.#cluster;
  }

  async start(context: RunnerContext): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    this.#context = context;
    try {
      let address = this.options.address;
      if (!address) {
        const cls = this.options.clusterClass;
        this.#cluster = cls === undefined ? new LocalCluster(this.options.clusterOptions) : await makeCluster(cls, this.options.clusterOptions, this.#base, WEFT_ENTRY);
        await this.#cluster.start();
        if (this.#cluster.dashboardUrl) console.error(`weft: the temporary cluster's dashboard: ${this.#cluster.dashboardUrl}`);
        if (this.options.adapt) {
          if (!this.#cluster.adapt) throw new UsageError(`The cluster class of this runner has no adapt() method, so \`adapt\` cannot apply: drop \`adapt\` or use a cluster class that scales.`);
          this.#cluster.adapt(this.options.adapt, (from, to, reason) => context.events.emit(to > from ? 'scale:up' : 'scale:down', { from, to, reason, time: now() }));
        }
        address = parseAddress('cluster.address', this.#cluster.address);
      }
      // The session (and its submitter, ring, outbox, result reader, dashboard feed) loads here, on
      // first use: every program that imports weft, each worker importing a task module included,
      // would otherwise load it for nothing.
      const { ClusterSession } = await import('../cluster/session.ts');
      this.#session = await ClusterSession.connect(address, `${context.flowRunId}-${randomUUID().slice(0, 8)}`, this.options.client, context.events, { flowName: context.flowName, flowRunId: context.flowRunId });
      this.#session.feed.flowStarted(context.flowRunId, context.flowName);
      this.#watch = new RegistryWatch(this.#session.redis, address.prefix, context.events, () => this.#session?.waitingRequirements() ?? new Map(), () => this.#session?.size ?? 0);
      await this.#watch.start();
      // Cancelling the flow run: a temporary cluster stops hard (its workers go); a shared one is told to drop this run.
      const signal = context.signal;
      this.#onAbort = () => {
        this.#cancelling = this.#cancelRun(signal.reason instanceof Error ? signal.reason.message : 'the flow run was cancelled');
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
      this.#state = 'running';
    } catch (error) {
      this.#state = 'failed';
      await this.#stopAll(true);
      throw error;
    }
  }

  submit(job: TaskJob): Promise<TaskOutcome> {
    const session = this.#session;
    if (this.#state !== 'running' || !session) {
      return Promise.resolve({ state: 'Failed', error: new UsageError(`The task runner is ${this.#state}, not running: start() it before submitting work.`) });
    }
    return session.submit(job, job.cancellation);
  }

  /** The engine's path (see {@link DirectSubmit}): the session calls back, no promise per run. */
  [submitThen](job: TaskJob, done: (outcome: TaskOutcome, job: TaskJob) => void): boolean {
    // A subclass that overrides submit() sees every job, as it would without this path.
    const session = this.#session;
    if (this.submit !== DistributedTaskRunner.prototype.submit || this.#state !== 'running' || !session) return false;
    session.submitThen(job, job.cancellation, done);
    return true;
  }

  async shutdown(ending?: { readonly state: FlowRunState }): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    await this.#cancelling;
    await this.#stopAll(false, ending?.state);
    this.#state = 'closed';
  }

  duplicate(): DistributedTaskRunner<C> {
    return new DistributedTaskRunner<C>(this.#raw, this.#base);
  }

  async #cancelRun(reason: string): Promise<void> {
    const context = this.#context;
    if (!context || !this.#session) return;
    if (this.#cluster) {
      await this.#session.cancelRun(context.flowRunId, reason);
      await (this.#cluster.kill ?? this.#cluster.close).call(this.#cluster);
    } else {
      await this.#session.cancelRun(context.flowRunId, reason);
    }
  }

  /** `state`: how the flow run ended, for the dashboard (without it: Cancelled if it was, else Ended). */
  async #stopAll(hard: boolean, state?: FlowRunState): Promise<void> {
    if (this.#onAbort) this.#context?.signal.removeEventListener('abort', this.#onAbort);
    this.#watch?.stop();
    if (this.#context) this.#session?.feed.flowFinished(this.#context.flowRunId, state ?? (this.#context.signal.aborted ? 'Cancelled' : 'Ended'));
    await this.#session?.close().catch(() => undefined);
    const cluster = this.#cluster;
    if (cluster) {
      await (hard && cluster.kill ? cluster.kill() : cluster.close()).catch((error: unknown) => console.error('weft: the temporary cluster did not close cleanly:', error));
      this.#watch?.leaveAll('the temporary cluster closed');
    }
  }
}
