import { randomUUID } from 'node:crypto';
import { UsageError } from '../errors.ts';
import type { LifecycleState, RunnerContext, TaskJob, TaskOutcome, TaskRunner } from '../core/task-runner.ts';
import { now } from '../events/events.ts';
import type { Resources } from '../schedule/resources.ts';
import { callerModule } from '../protocol/task-ref.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { ClusterClient } from '../cluster/client.ts';
import { parseAddress } from '../cluster/connection.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { RegistryWatch } from '../cluster/registry.ts';
import { makeCluster, resolveDistributedOptions, type DistributedTaskRunnerOptions, type ResolvedDistributedOptions } from '../cluster/runner-options.ts';

const WEFT_ENTRY = new URL(`../index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

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
export class DistributedTaskRunner implements TaskRunner {
  readonly options: ResolvedDistributedOptions;
  readonly serializes = true;
  /**
   * What one worker of a temporary LocalCluster declares (a task needing more could never run);
   * undefined for a shared cluster, whose workers come and go (the runner warns instead).
   */
  get capacity(): Resources | undefined {
    return this.#cluster instanceof LocalCluster ? this.#cluster.options.resources : undefined;
  }
  readonly #raw: DistributedTaskRunnerOptions | undefined;
  readonly #base: string | undefined;
  #state: LifecycleState = 'idle';
  #cluster: Cluster | undefined;
  #client: ClusterClient | undefined;
  #watch: RegistryWatch | undefined;
  #context: RunnerContext | undefined;
  #onAbort: (() => void) | undefined;
  #cancelling: Promise<void> | undefined;

  constructor(options?: DistributedTaskRunnerOptions, base?: string) {
    this.options = resolveDistributedOptions(options);
    this.#raw = options;
    // A relative 'module:Export' clusterClass resolves from the module that built the runner.
    this.#base = base ?? callerModule(DistributedTaskRunner as unknown as (...args: never[]) => unknown);
  }

  get name(): string {
    return this.options.address ? `distributed(${this.options.address.display})` : 'distributed(temporary cluster)';
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** The cluster's address, once started. */
  get address(): string | undefined {
    return this.#client?.address.url;
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
        if (this.options.adapt) {
          if (!this.#cluster.adapt) throw new UsageError(`The cluster class of this runner has no adapt() method, so \`adapt\` cannot apply: drop \`adapt\` or use a cluster class that scales.`);
          this.#cluster.adapt(this.options.adapt, (from, to) => context.events.emit(to > from ? 'scale:up' : 'scale:down', { from, to, time: now() }));
        }
        address = parseAddress('cluster.address', this.#cluster.address);
      }
      this.#client = await ClusterClient.connect(address, `${context.flowRunId}-${randomUUID().slice(0, 8)}`, this.options.client, context.events);
      this.#watch = new RegistryWatch(this.#client.redis, address.prefix, context.events, () => this.#client?.waitingRequirements() ?? new Map(), () => this.#client?.size ?? 0);
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
    const client = this.#client;
    if (this.#state !== 'running' || !client) {
      return Promise.resolve({ state: 'Failed', error: new UsageError(`The task runner is ${this.#state}, not running: start() it before submitting work.`) });
    }
    return client.submit(job, job.cancellation);
  }

  async shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    await this.#cancelling;
    await this.#stopAll(false);
    this.#state = 'closed';
  }

  duplicate(): DistributedTaskRunner {
    return new DistributedTaskRunner(this.#raw, this.#base);
  }

  async #cancelRun(reason: string): Promise<void> {
    const context = this.#context;
    if (!context || !this.#client) return;
    if (this.#cluster) {
      await this.#client.cancelRun(context.flowRunId, reason);
      await (this.#cluster.kill ?? this.#cluster.close).call(this.#cluster);
    } else {
      await this.#client.cancelRun(context.flowRunId, reason);
    }
  }

  async #stopAll(hard: boolean): Promise<void> {
    if (this.#onAbort) this.#context?.signal.removeEventListener('abort', this.#onAbort);
    this.#watch?.stop();
    await this.#client?.close().catch(() => undefined);
    const cluster = this.#cluster;
    if (cluster) {
      await (hard && cluster.kill ? cluster.kill() : cluster.close()).catch((error: unknown) => console.error('weft: the temporary cluster did not close cleanly:', error));
      this.#watch?.leaveAll('the temporary cluster closed');
    }
  }
}
