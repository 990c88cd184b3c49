import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Build } from '@paas/contracts/builds';
import { Informer } from '@paas/platform/informer';
import { Leases } from '@paas/platform/leases';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { ShardOwnership, shardOf } from '@paas/platform/shard-ownership';
import { WorkQueue, type ReconcileResult } from '@paas/platform/work-queue';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository, type BuildStore } from './build.repository';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';
import { buildContainerName } from './pipeline/s2i-roles';
import { RunBuild } from './run-build.usecase';

/** The replica that claimed a build (`<host>/<pid>/<random>`), and which attempt it runs. */
export const RUNNER_ANNOTATION = 'paas.dev/build-runner';
export const ATTEMPT_ANNOTATION = 'paas.dev/build-attempt';
/** A build whose runner died is run once more; after that it ends as Error. */
export const MAX_ATTEMPTS = 2;

const IN_FLIGHT: Build['status']['phase'][] = ['Pending', 'Running'];
const TERMINAL: Build['status']['phase'][] = ['Complete', 'Failed', 'Error', 'Cancelled'];

export const runnerLease = (build: Build) => `build:${build.metadata.uid}`;
export const attemptOf = (build: Build) => Number(build.metadata.annotations?.[ATTEMPT_ANNOTATION] ?? 1);

/**
 * Builds as a level-triggered controller, like the deploy-service's: a Build's key is worked
 * by the replica that owns its namespace's shard, and every change of a Build (or a
 * `build.requested`) only enqueues its key. `reconcile` claims a New build for this replica
 * when it has a free slot (the runner lease `build:<uid>` first, then Pending in the
 * record) and runs it in the background; the lease is renewed while it runs. An in-flight build
 * whose runner lease has expired lost its runner (a killed replica, a lost node): it is run
 * again as attempt 2 by whichever replica owns it now, or ends as Error after that.
 */
@Injectable()
export class BuildController implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BuildController.name);
  readonly builds: Informer<Build>;
  private readonly queue: WorkQueue;
  private resyncTimer?: NodeJS.Timeout;
  /** Claims under way: slots taken before their builds run. */
  private claiming = 0;

  constructor(
    @Inject(BuildRepository) private readonly store: BuildStore & BuildRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(ShardOwnership) private readonly ownership: ShardOwnership,
    @Inject(Leases) private readonly leases: Leases,
    @Inject(RunBuild) private readonly runBuild: RunBuild,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {
    this.builds = new Informer(store, feed, { resyncMs: settings.resyncMs });
    this.queue = new WorkQueue((key) => this.reconcile(key), { name: 'builds', concurrency: 4 });
  }

  async onModuleInit() {
    this.builds.onChange(({ object }) => this.enqueue(object.metadata.namespace, object.metadata.name));
    await this.builds.start();
  }

  onApplicationBootstrap() {
    this.ownership.listen({
      acquired: (shard) => {
        for (const build of this.builds.list()) if (shardOf(build.metadata.namespace, this.ownership.shards) === shard) this.enqueue(build.metadata.namespace, build.metadata.name);
      },
      lost: () => undefined,
    });
    this.resyncTimer = setInterval(() => this.builds.list().forEach((build) => this.enqueue(build.metadata.namespace, build.metadata.name)), this.settings.resyncMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.resyncTimer);
    this.queue.stop();
    this.builds.stop();
  }

  /** Whether this replica works builds of `namespace` now. */
  owns(namespace: string): boolean {
    return this.ownership.ownsNamespace(namespace);
  }

  enqueue(namespace: string, name: string): void {
    if (this.owns(namespace)) this.queue.add(`${namespace}/${name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!this.owns(namespace)) return {};
    const build = this.builds.get(namespace, name);
    if (!build) {
      // Deleted: a run of it here stops.
      this.runBuild.abort(namespace, name);
      return {};
    }
    if (TERMINAL.includes(build.status.phase) || this.runBuild.isRunning(namespace, name)) return {};
    if (build.status.phase === 'New') return this.claim(build);
    if (IN_FLIGHT.includes(build.status.phase)) return this.checkRunner(build);
    return {};
  }

  /** Takes the runner lease, then records the claim (Pending), then runs it; a full replica asks again soon. */
  private async claim(build: Build): Promise<ReconcileResult> {
    // A slot is taken before the first await, so that claims running side by side never exceed the limit.
    if (this.runBuild.active + this.claiming >= this.settings.concurrency) return { requeueAfterMs: 1_000 };
    this.claiming++;
    try {
      return await this.claimWithSlot(build);
    } finally {
      this.claiming--;
    }
  }

  private async claimWithSlot(build: Build): Promise<ReconcileResult> {
    const { namespace, name } = build.metadata;
    const lease = runnerLease(build);
    if (!(await this.leases.acquire(lease))) return { requeueAfterMs: this.leases.timing.leaseMs };
    let claimed: Build | undefined;
    try {
      await this.store.update(namespace, name, (current) => {
        // Called again on fresh state after a lost race: only the write that lands counts.
        claimed = undefined;
        if (current.status.phase !== 'New' || current.metadata.uid !== build.metadata.uid) return undefined;
        claimed = {
          ...current,
          metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [RUNNER_ANNOTATION]: this.leases.identity } },
          status: { ...current.status, phase: 'Pending' },
        };
        return claimed;
      });
    } finally {
      if (!claimed) await this.leases.release(lease, { forget: true });
    }
    if (!claimed) return {};
    const running = await this.store.get(namespace, name);
    void this.runBuild
      .run(running)
      .catch((error: Error) => this.logger.error({ msg: `build ${namespace}/${name} failed to run: ${error.message}` }))
      .finally(() => void this.leases.release(lease, { forget: true }));
    return {};
  }

  /**
   * A build in flight that this replica does not run: while its runner renews the lease, look
   * again a lease period later; once the lease is free, its runner is gone.
   */
  private async checkRunner(build: Build): Promise<ReconcileResult> {
    if (this.leases.stateOf(runnerLease(build)) === 'held') return { requeueAfterMs: this.leases.timing.leaseMs };
    const attempt = attemptOf(build);
    const runner = build.metadata.annotations?.[RUNNER_ANNOTATION] ?? 'unknown';
    const why = `the build-service replica running attempt ${attempt} (${runner}) stopped before the build finished`;
    // Its container may still be there (the engine outlives the replica): it must go before a new one of that name.
    await this.runtime.remove(buildContainerName(build)).catch(() => undefined);
    const log = await this.logs.open(build.metadata.namespace, build.metadata.name);
    try {
      if (attempt < MAX_ATTEMPTS) {
        await log.write(`---> ${why}; running the build again (attempt ${attempt + 1} of ${MAX_ATTEMPTS})\n`);
        await this.store.update(build.metadata.namespace, build.metadata.name, (current) =>
          current.metadata.uid === build.metadata.uid && IN_FLIGHT.includes(current.status.phase)
            ? {
                ...current,
                metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [ATTEMPT_ANNOTATION]: String(attempt + 1) } },
                status: { ...current.status, phase: 'New', stages: [], message: `attempt ${attempt + 1}: ${why}` },
              }
            : undefined,
        );
        this.logger.warn({ msg: `build ${key(build)}: ${why}; attempt ${attempt + 1}` });
      } else {
        await log.write(`error: build error: ${why}, and it was its last attempt\n`);
        await this.store.update(
          build.metadata.namespace,
          build.metadata.name,
          (current) =>
            current.metadata.uid === build.metadata.uid && IN_FLIGHT.includes(current.status.phase)
              ? { ...current, status: { ...current.status, phase: 'Error', reason: 'BuildPodDeleted', message: why, completionTimestamp: new Date().toISOString() } }
              : undefined,
          {
            outbox: (failed) => [
              { id: `build.failed:${failed.metadata.uid}`, type: 'build.failed', data: { namespace: failed.metadata.namespace, name: failed.metadata.name, uid: failed.metadata.uid, buildConfig: failed.metadata.labels?.buildconfig ?? '', reason: 'BuildPodDeleted', message: why } },
            ],
          },
        );
      }
    } finally {
      await log.close();
    }
    return {};
  }

  /** Resolves once nothing is queued or being reconciled (tests). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }
}

function key(build: Build): string {
  return `${build.metadata.namespace}/${build.metadata.name}`;
}
