import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { buildContainerResources, type Build } from '@paas/contracts/builds';
import { Informer } from '@paas/platform/informer';
import { Leases } from '@paas/platform/leases';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { notWorkedHere, ShardOwnership, shardOf } from '@paas/platform/shard-ownership';
import { WorkQueue, type ReconcileResult } from '@paas/platform/work-queue';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository, type BuildStore } from './build.repository';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { chooseBuildNode } from '../nodes/choose-node';
import { attemptOf, lostNodeOf, MAX_ATTEMPTS, nextAttempt } from './build-attempts';
import { removeBuildContainer } from './build-containers';
import { BUILD_CONFIG_LABEL, BUILD_NUMBER_ANNOTATION } from '../buildconfigs/instantiate-build.usecase';
import { DeleteBuild } from './delete-build.usecase';
import { buildEvent, CANCELLED_MESSAGE, RunBuild } from './run-build.usecase';

/** The replica that claimed a build (`<host>/<pid>/<random>`). */
export const RUNNER_ANNOTATION = 'paas.dev/build-runner';
/** Since when a New build has waited for a node to run on (ISO time); gone once it is placed. */
export const WAITING_FOR_NODE_ANNOTATION = 'paas.dev/waiting-for-node-since';
/** How soon a build waiting for a node looks again (a node's change, or a build's end, wakes it sooner). */
const NODE_WAIT_RECHECK_MS = 5_000;
/** How the status of a waiting build starts (for a node, or for the builds before it); the claim clears it. */
const WAITING_PREFIX = 'waiting for ';
const WAITING_FOR_NODE_MESSAGE = `${WAITING_PREFIX}a node to run on: `;

const IN_FLIGHT: Build['status']['phase'][] = ['Pending', 'Running'];
const TERMINAL: Build['status']['phase'][] = ['Complete', 'Failed', 'Error', 'Cancelled'];

export const runnerLease = (build: Build) => `build:${build.metadata.uid}`;

/**
 * Builds as a level-triggered controller, like the deploy-service's: a Build's key is worked
 * by the replica that owns its namespace's shard, and every change of a Build (or a
 * `build.requested`) only enqueues its key. `reconcile` claims a New build for this replica
 * when it has a free slot and a node can take it (nodes/choose-node.ts): the runner lease
 * `build:<uid>` first, then Pending with `status.nodeName` in the record; it then runs in the
 * background on that node's engine, the lease renewed while it runs. With no node to run on,
 * the build stays New saying why, and fails as NoNodeAvailable after `nodeWaitMs` (unless
 * only the memory the builds in flight hold keeps it waiting); a change of any node, or the end
 * of a build, looks at the waiting builds again. An in-flight build
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
  /** The uid of each ended Binary build (by `<ns>/<name>`) whose upload was let go: its resyncs ask the bucket no more. */
  private readonly uploadsReleased = new Map<string, string>();

  constructor(
    @Inject(BuildRepository) private readonly store: BuildStore & BuildRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(ShardOwnership) private readonly ownership: ShardOwnership,
    @Inject(Leases) private readonly leases: Leases,
    @Inject(RunBuild) private readonly runBuild: RunBuild,
    @Inject(BUILD_NODES) private readonly nodes: BuildNodes,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
    @Inject(DeleteBuild) private readonly deleteBuild: Pick<DeleteBuild, 'execute' | 'releaseUpload'>,
  ) {
    this.builds = new Informer(store, feed, { resyncMs: settings.resyncMs });
    this.queue = new WorkQueue((key) => this.reconcile(key), { name: 'builds', concurrency: 4 });
  }

  async onModuleInit() {
    this.builds.onChange(({ type, object, previous }) => {
      this.enqueue(object.metadata.namespace, object.metadata.name);
      // A build that ends (or goes) leaves room on its node for a build that waits for memory there.
      const left = type === 'DELETED' ? IN_FLIGHT.includes(object.status.phase) : IN_FLIGHT.includes(previous?.status.phase ?? 'New') && !IN_FLIGHT.includes(object.status.phase);
      // So does one that ends before it ran (cancelled): the next of its BuildConfig may go (runPolicy).
      const ended = type === 'DELETED' || (!TERMINAL.includes(previous?.status.phase ?? 'New') && TERMINAL.includes(object.status.phase));
      if (left || ended) this.enqueueWaiting();
    });
    // A node that comes, turns Ready or is uncordoned may take the builds that wait.
    this.nodes.onChange(() => this.enqueueWaiting());
    await this.builds.start();
  }

  private enqueueWaiting(): void {
    for (const build of this.builds.list()) if (build.status.phase === 'New') this.enqueue(build.metadata.namespace, build.metadata.name);
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
    if (this.ownership.standing(namespace) !== 'elsewhere') this.queue.add(`${namespace}/${name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    // A lease not trusted this moment (a slow renewal) keeps its keys: no acquisition lists them again if it recovers.
    const elsewhere = notWorkedHere(this.ownership.standing(namespace));
    if (elsewhere) return elsewhere;
    const build = this.builds.get(namespace, name);
    if (!build) {
      // Deleted: a run of it here stops.
      this.runBuild.abort(namespace, name);
      this.uploadsReleased.delete(key);
      return {};
    }
    if (TERMINAL.includes(build.status.phase)) {
      await this.releaseUploadOnce(key, build);
      return this.pruneHistory(build);
    }
    if (build.status.cancelled) return this.cancel(build);
    if (this.runBuild.isRunning(namespace, name)) return {};
    if (build.status.phase === 'New') return (await this.heldByRunPolicy(build)) ?? this.claim(build);
    if (IN_FLIGHT.includes(build.status.phase)) return this.checkRunner(build);
    return {};
  }

  /** Once per ended Binary build in this process (a restarted replica asks once more: deleting an upload twice is harmless). */
  private async releaseUploadOnce(key: string, build: Build) {
    if (!build.spec.binary || this.uploadsReleased.get(key) === build.metadata.uid) return;
    await this.deleteBuild.releaseUpload(build);
    this.uploadsReleased.set(key, build.metadata.uid);
  }

  /** Places it, takes the runner lease, then records the claim (Pending, its node), then runs it; a full replica asks again soon. */
  private async claim(build: Build): Promise<ReconcileResult> {
    // A slot is taken before the first await, so that claims running side by side never exceed the limit.
    if (this.runBuild.active + this.claiming >= this.settings.concurrency) {
      await this.sayWaiting(build, `${WAITING_PREFIX}a free build slot (each build-service replica runs ${this.settings.concurrency} builds at once, BUILD_CONCURRENCY)`);
      return { requeueAfterMs: 1_000 };
    }
    this.claiming++;
    try {
      return await this.claimWithSlot(build);
    } finally {
      this.claiming--;
    }
  }

  private async claimWithSlot(build: Build): Promise<ReconcileResult> {
    const { namespace, name } = build.metadata;
    const inFlight = this.builds.list().filter((other) => IN_FLIGHT.includes(other.status.phase));
    const memoryOf = (which: Build) => buildContainerResources(which.spec).memoryBytes ?? this.settings.containerLimits.memoryBytes;
    const placement = chooseBuildNode(this.nodes.list(), inFlight, memoryOf(build), lostNodeOf(build), memoryOf);
    if ('waiting' in placement) return this.waitForNode(build, placement.waiting, placement.busy ?? false);
    const lease = runnerLease(build);
    if (!(await this.leases.acquire(lease))) return { requeueAfterMs: this.leases.timing.leaseMs };
    let claimed: Build | undefined;
    let stored: Build | undefined;
    try {
      stored = await this.store.update(namespace, name, (current) => {
        // Called again on fresh state after a lost race: only the write that lands counts.
        claimed = undefined;
        if (current.status.phase !== 'New' || current.metadata.uid !== build.metadata.uid) return undefined;
        const { [WAITING_FOR_NODE_ANNOTATION]: _waited, ...annotations } = current.metadata.annotations ?? {};
        const waited = current.status.message?.startsWith(WAITING_PREFIX);
        claimed = {
          ...current,
          metadata: { ...current.metadata, annotations: { ...annotations, [RUNNER_ANNOTATION]: this.leases.identity } },
          // The waiting message goes with the wait; an attempt's message stays.
          status: { ...current.status, phase: 'Pending', nodeName: placement.node, ...(waited ? { message: undefined } : {}) },
        };
        return claimed;
      });
    } finally {
      if (!claimed) await this.leases.release(lease, { forget: true });
    }
    if (!claimed || !stored) return {};
    void this.runBuild
      .run(stored)
      .catch((error: Error) => this.logger.error({ msg: `build ${namespace}/${name} failed to run: ${error.message}` }))
      .finally(async () => {
        await this.leases.release(lease, { forget: true }).catch(() => undefined);
        // A run that ended by asking for another attempt (its node was lost) left it New while it still ran here.
        this.enqueue(namespace, name);
      });
    return {};
  }

  /**
   * No node can take the build now: it stays New, saying why (written once per reason), and
   * looks again soon (or when a node changes, or a build ends); after `nodeWaitMs` of waiting it
   * fails as NoNodeAvailable. A build that waits only for the builds in flight to leave room
   * (`busy`) waits as long as it takes, as for a free slot of this replica: the nodes are there,
   * and its wait for a node (the annotation) starts again should one be missing later.
   */
  private async waitForNode(build: Build, why: string, busy: boolean): Promise<ReconcileResult> {
    const { namespace, name, uid } = build.metadata;
    const now = Date.now();
    const since = Date.parse(build.metadata.annotations?.[WAITING_FOR_NODE_ANNOTATION] ?? '') || now;
    const waitedMs = now - since;
    const waiting = (current: Build) => current.metadata.uid === uid && current.status.phase === 'New';
    if (!busy && waitedMs >= this.settings.nodeWaitMs) {
      const message = `no node could run the build within ${Math.round(this.settings.nodeWaitMs / 1000)} s: ${why}`;
      await this.appendLog(build, `error: build error: ${message}\n`);
      await this.store.update(
        namespace,
        name,
        (current) => (waiting(current) ? { ...current, status: { ...current.status, phase: 'Failed', reason: 'NoNodeAvailable', message, completionTimestamp: new Date().toISOString() } } : undefined),
        { outbox: (failed) => [buildEvent('build.failed', failed, { reason: 'NoNodeAvailable', message })] },
      );
      this.logger.warn({ msg: `build ${key(build)}: ${message}` });
      return {};
    }
    const message = `${WAITING_FOR_NODE_MESSAGE}${why}`;
    // Waiting for a node is timed from the annotation; waiting for room is not.
    const timed = Boolean(build.metadata.annotations?.[WAITING_FOR_NODE_ANNOTATION]);
    if (build.status.message !== message || timed === busy) {
      await this.store.update(namespace, name, (current) => {
        if (!waiting(current)) return undefined;
        const { [WAITING_FOR_NODE_ANNOTATION]: _since, ...others } = current.metadata.annotations ?? {};
        const annotations = busy ? others : { [WAITING_FOR_NODE_ANNOTATION]: new Date(since).toISOString(), ...current.metadata.annotations };
        return { ...current, metadata: { ...current.metadata, annotations }, status: { ...current.status, message } };
      });
    }
    return { requeueAfterMs: busy ? NODE_WAIT_RECHECK_MS : Math.max(100, Math.min(NODE_WAIT_RECHECK_MS, this.settings.nodeWaitMs - waitedMs)) };
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
    await removeBuildContainer(this.nodes, build).catch(() => undefined);
    if (attempt < MAX_ATTEMPTS) {
      await this.appendLog(build, `---> ${why}; running the build again (attempt ${attempt + 1} of ${MAX_ATTEMPTS})\n`);
      await this.store.update(build.metadata.namespace, build.metadata.name, (current) => nextAttempt(current, build.metadata.uid, why));
      this.logger.warn({ msg: `build ${key(build)}: ${why}; attempt ${attempt + 1}` });
    } else {
      await this.appendLog(build, `error: build error: ${why}, and it was its last attempt\n`);
      await this.store.update(
        build.metadata.namespace,
        build.metadata.name,
        (current) =>
          current.metadata.uid === build.metadata.uid && IN_FLIGHT.includes(current.status.phase)
            ? { ...current, status: { ...current.status, phase: 'Error', reason: 'BuildPodDeleted', message: why, completionTimestamp: new Date().toISOString() } }
            : undefined,
        {
          outbox: (failed) => [buildEvent('build.failed', failed, { reason: 'BuildPodDeleted', message: why })],
        },
      );
    }
    return {};
  }

  /**
   * A cancelled build that has not ended: a run of it here is stopped (it records Cancelled
   * once its container is gone); one that runs elsewhere is left to its runner while the runner
   * holds its lease; one that nobody runs (New, or its runner gone) is Cancelled here, its
   * container (an earlier attempt's) removed first.
   */
  private async cancel(build: Build, message = CANCELLED_MESSAGE): Promise<ReconcileResult> {
    const { namespace, name, uid } = build.metadata;
    if (this.runBuild.cancel(namespace, name)) return {};
    if (build.status.phase !== 'New' && this.leases.stateOf(runnerLease(build)) === 'held') return { requeueAfterMs: this.leases.timing.leaseMs };
    if (build.status.phase !== 'New') await removeBuildContainer(this.nodes, build).catch(() => undefined);
    await this.appendLog(build, `---> ${message}\n`);
    const end = { completionTimestamp: new Date().toISOString(), reason: 'CancelledBuild' as const, message };
    await this.store.update(
      namespace,
      name,
      (current) => (current.metadata.uid === uid && !TERMINAL.includes(current.status.phase) ? { ...current, status: { ...current.status, phase: 'Cancelled', ...end } } : undefined),
      { outbox: (cancelled) => [buildEvent('build.failed', cancelled, { reason: 'CancelledBuild', message })] },
    );
    return {};
  }

  /**
   * Keeps the newest ended builds of a BuildConfig, as many as its history limits say (the
   * limits of the newest build, which carries its BuildConfig's current spec), and deletes the
   * older ones with their logs and containers. Builds without a number or BuildConfig are kept.
   */
  private async pruneHistory(build: Build): Promise<ReconcileResult> {
    const config = build.metadata.labels?.[BUILD_CONFIG_LABEL];
    if (!config) return {};
    const { namespace } = build.metadata;
    const ended = this.buildsOf(namespace, config)
      .filter((other) => TERMINAL.includes(other.status.phase) && buildNumber(other) > 0)
      .sort((a, b) => buildNumber(b) - buildNumber(a));
    const newest = ended[0]?.spec;
    const limit = { successful: newest?.successfulBuildsHistoryLimit ?? 5, failed: newest?.failedBuildsHistoryLimit ?? 5 };
    const successful = ended.filter((other) => other.status.phase === 'Complete');
    const failed = ended.filter((other) => other.status.phase !== 'Complete');
    for (const old of [...successful.slice(limit.successful), ...failed.slice(limit.failed)]) {
      await this.deleteBuild.execute(namespace, old.metadata.name).catch((error: Error) => this.logger.warn({ msg: `could not prune build ${key(old)}: ${error.message}` }));
    }
    return {};
  }

  /**
   * What the BuildConfig's `runPolicy` makes a New build do before it may be claimed: nothing
   * under Parallel; under Serial it waits (saying for which build) while another build of its
   * BuildConfig is in flight or an older one is still New, so they run one at a time in order;
   * under SerialLatestOnly a New build with a newer one behind it is cancelled instead. The end
   * of any build looks at the waiting ones again.
   */
  private async heldByRunPolicy(build: Build): Promise<ReconcileResult | undefined> {
    const policy = build.spec.runPolicy ?? 'Serial';
    const config = build.metadata.labels?.[BUILD_CONFIG_LABEL];
    if (policy === 'Parallel' || !config) return undefined;
    const { namespace, uid } = build.metadata;
    const number = buildNumber(build);
    const siblings = this.buildsOf(namespace, config).filter((other) => other.metadata.uid !== uid);
    const newer = siblings.find((other) => other.status.phase === 'New' && buildNumber(other) > number);
    if (policy === 'SerialLatestOnly' && newer) return this.cancel(build, `Cancelled: build ${newer.metadata.name} was started after it (runPolicy SerialLatestOnly).`);
    const ahead = siblings.find((other) => IN_FLIGHT.includes(other.status.phase) || (other.status.phase === 'New' && buildNumber(other) < number));
    if (!ahead) return undefined;
    await this.sayWaiting(build, `${WAITING_PREFIX}build ${ahead.metadata.name} of the same BuildConfig to finish (runPolicy ${policy})`);
    return { requeueAfterMs: NODE_WAIT_RECHECK_MS };
  }

  /** Writes why a New build waits into its `status.message`, once (the claim clears it). */
  private async sayWaiting(build: Build, message: string): Promise<void> {
    if (build.status.message === message) return;
    const { namespace, name, uid } = build.metadata;
    await this.store.update(namespace, name, (current) => (current.metadata.uid === uid && current.status.phase === 'New' ? { ...current, status: { ...current.status, message } } : undefined));
  }

  /** The builds of one BuildConfig, from the cache (its namespace index). */
  private buildsOf(namespace: string, config: string): Build[] {
    return this.builds.list({ namespace, labels: { [BUILD_CONFIG_LABEL]: config } });
  }

  /** One line (or more) added to a build's log. */
  private async appendLog(build: Build, text: string): Promise<void> {
    const log = await this.logs.open(build.metadata.namespace, build.metadata.name);
    try {
      await log.write(text);
    } finally {
      await log.close();
    }
  }

  /** Resolves once nothing is queued or being reconciled (tests). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }
}

/** A build's number among its BuildConfig's (0 when it has none: first in line). */
function buildNumber(build: Build): number {
  return Number(build.metadata.annotations?.[BUILD_NUMBER_ANNOTATION] ?? 0) || 0;
}

function key(build: Build): string {
  return `${build.metadata.namespace}/${build.metadata.name}`;
}
