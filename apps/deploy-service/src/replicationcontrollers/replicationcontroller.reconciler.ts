import { Inject, Injectable, Logger } from '@nestjs/common';
import { isOwnedBy } from '@paas/contracts/meta';
import { CREATE_CONTAINER_CONFIG_ERROR } from '@paas/contracts/config';
import { CRASH_LOOP_BACK_OFF, DEPLOYMENT_LABELS, type ContainerTermination, type Pod, type ReplicationController } from '@paas/contracts/deployments';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { randomBytes } from 'node:crypto';
import { isNodeDraining, isNodeReady, NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import { ImagePullError, RUNTIME_LABELS, type RuntimeContainer } from '../adapters/container-runtime';
import { CLUSTER, type Cluster, type NodeContainer } from '../nodes/cluster';
import { placePod, type Placement } from '../nodes/scheduler';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { ContainerConfigError, ContainerEnvironment } from '../pods/container-env';
import { PodRepository } from '../pods/pod.repository';
import { terminationOf } from '../pods/pod-view';
import { containerName, isReady, isTerminating, podAddress, podChanged, terminatingSince, TERMINATING_ANNOTATION } from '../pods/pod-state';
import { READINESS_TRACKER, type ReadinessTracker } from '../pods/readiness';
import { splitKey, type Store } from '../store';
import { ReplicationControllerRepository } from './replicationcontroller.repository';
import { ROUTER_DRAIN, type RouterDrain } from './router-drain';

/**
 * While a drained pod still shows in Endpoints, look again this soon (the Endpoints change
 * that drops it enqueues the RC anyway; this only covers a change that went unseen).
 */
const ENDPOINTS_RECHECK_MS = 1_000;
/** While a router replica still sends a drained pod traffic (or has requests in flight to it), ask again this soon. */
const ROUTERS_RECHECK_MS = 250;
/** A pod no node can take is placed again this soon (a node may come back, or be uncordoned). */
const UNSCHEDULABLE_RETRY_MS = 5_000;
/** A container that ran this long before it stopped starts again at once, its back-off forgotten (the kubelet's 10 minutes). */
const BACKOFF_RESET_AFTER_MS = 10 * 60_000;
/** How much of a stopped container's output its pod's status quotes. */
const OUTPUT_LINES = 2;
const OUTPUT_CHARS = 300;

/** A cap on the containers one reconcile starts or stops. */
class Budget {
  constructor(private left: number) {}
  take(): boolean {
    return this.left-- > 0;
  }
}

/**
 * Keeps `spec.replicas` pods of a ReplicationController running, after Kubernetes'
 * ReplicaSet controller: pods are records in Mongo, each backed by one container found by
 * its owner labels. Missing pods are created, exited containers replaced (restartCount),
 * surplus pods leave Endpoints and drain before their container is stopped; status last.
 * It reads the informers' caches; its own writes reach them before the write returns, and
 * each write's change enqueues whatever depends on it (the RC's DeploymentConfig, the
 * Endpoints of the Services selecting a pod).
 */
@Injectable()
export class ReplicationControllerReconciler implements Controller {
  private readonly logger = new Logger(ReplicationControllerReconciler.name);

  constructor(
    @Inject(ReplicationControllerRepository) private readonly rcs: Store<ReplicationController>,
    @Inject(PodRepository) private readonly pods: Store<Pod>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'rcs' | 'pods' | 'endpoints' | 'nodes'>,
    @Inject(CLUSTER) private readonly cluster: Cluster,
    @Inject(READINESS_TRACKER) private readonly readiness: ReadinessTracker,
    @Inject(ContainerEnvironment) private readonly environment: Pick<ContainerEnvironment, 'resolve'>,
    @Inject(ROUTER_DRAIN) private readonly routers: RouterDrain,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  readonly kind = 'replicationcontrollers' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const rc = this.cache.rcs.get(namespace, name);
    const labelled = this.cache.pods.list({ namespace, labels: { [DEPLOYMENT_LABELS.deployment]: name } });
    const owned = labelled.filter((pod) => isOwnedBy(pod, rc));
    const orphans = labelled.filter((pod) => !owned.includes(pod));
    // Placing pods asks the nodes which hold the image: once a reconcile, and while they list
    // their containers when the cache already shows a pod to place (a scale up, a new revision).
    const askedEarly = rc && this.placesPods(rc, owned) ? this.nodesHoldingImage(rc) : undefined;
    const containers = await this.cluster.listByOwner({ [RUNTIME_LABELS.namespace]: namespace, [RUNTIME_LABELS.rc]: name });
    await this.removeOrphans(namespace, orphans, containers, owned);
    if (!rc) return {};
    const imageHolders = once(() => askedEarly ?? this.nodesHoldingImage(rc));

    const byPod = new Map<string, NodeContainer[]>();
    for (const container of containers) {
      const pod = container.labels[RUNTIME_LABELS.pod];
      byPod.set(pod, [...(byPod.get(pod) ?? []), container]);
    }
    const budget = new Budget(this.settings.batchSize);
    const errors: Error[] = [];
    let requeueAfterMs: number | undefined;
    const requeue = (ms: number) => (requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms));

    const addressed = this.addressedPods(namespace);
    const live: Pod[] = [];
    /** Terminating, drained and out of every Endpoints: stopped once no router holds them. */
    const drained: Pod[] = [];
    for (const pod of owned) {
      const mine = byPod.get(pod.metadata.name) ?? [];
      if (this.isLost(pod)) {
        // Its node stopped answering (or was removed): the pod goes at once and is replaced elsewhere.
        await this.forgetPod(pod);
        continue;
      }
      if (!isTerminating(pod)) {
        const synced = pod.spec.nodeName ? await this.syncContainer(rc, pod, mine, budget, errors, requeue) : await this.schedule(rc, pod, imageHolders, errors);
        if (!synced.spec.nodeName) requeue(UNSCHEDULABLE_RETRY_MS);
        live.push(synced);
        continue;
      }
      const drainLeft = terminatingSince(pod) + this.settings.drainMs - this.settings.now();
      if (drainLeft > 0) requeue(drainLeft);
      else if (addressed.has(pod.metadata.name)) requeue(ENDPOINTS_RECHECK_MS);
      else drained.push(pod);
    }
    // The routers are asked once about every drained pod of this reconcile.
    const routed = await this.stillRouted(drained);
    for (const pod of drained) {
      if (routed.has(pod)) requeue(ROUTERS_RECHECK_MS);
      else if (budget.take()) await this.removePod(pod, byPod.get(pod.metadata.name) ?? []);
      else requeue(0);
    }

    // Pods on a node being drained stay until their replacements elsewhere are all ready.
    const leaving = live.filter((pod) => isNodeDraining(this.node(pod.spec.nodeName)));
    const staying = live.filter((pod) => !leaving.includes(pod));
    const missing = rc.spec.replicas - staying.length;
    if (missing > 0) {
      const placed: Pod[] = [];
      for (let i = 0; i < missing; i++) {
        if (!budget.take()) {
          requeue(0);
          break;
        }
        const pod = await this.createPod(rc, imageHolders);
        if (pod.spec.nodeName) placed.push(pod);
        else requeue(UNSCHEDULABLE_RETRY_MS);
      }
      // Placed one after another (each placement counts the pods before it), started side by
      // side: the engines' work is most of a pod's start.
      await Promise.all(placed.map((pod) => this.start(rc, pod, false, errors)));
    } else if (missing < 0) {
      await this.markTerminating(namespace, [...leaving, ...victims(staying, -missing)]);
      requeue(this.settings.drainMs);
    } else if (leaving.length && staying.every(isReady)) {
      await this.markTerminating(namespace, leaving);
      requeue(this.settings.drainMs);
    }

    await this.writeStatus(rc);
    if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /** Whether the cache shows a pod of `rc` to place: one not placed yet, or fewer placed than asked for. */
  private placesPods(rc: ReplicationController, owned: Pod[]): boolean {
    const placed = owned.filter((pod) => !isTerminating(pod) && pod.spec.nodeName && !this.isLost(pod));
    return placed.length < rc.spec.replicas || owned.some((pod) => !isTerminating(pod) && !pod.spec.nodeName);
  }

  /** With more than one Ready node, those that hold the image of `rc` (a pod placed there needs no pull). */
  private async nodesHoldingImage(rc: ReplicationController): Promise<Set<string>> {
    const [container] = rc.spec.template.spec.containers;
    const ready = this.cache.nodes.list({ namespace: NODE_SCOPE }).filter(isNodeReady).map((node) => node.metadata.name);
    return container && ready.length > 1 ? this.cluster.nodesHolding(container.image, ready) : new Set();
  }

  private node(name: string): Node | undefined {
    return this.cache.nodes.get(NODE_SCOPE, name);
  }

  /** On a node that is gone or NotReady (a pod not yet placed is not lost). */
  private isLost(pod: Pod): boolean {
    return pod.spec.nodeName !== '' && !this.cluster.isReady(pod.spec.nodeName);
  }

  /** Pods of an RC that no longer exists (or of an older RC of that name), and containers without a pod. */
  private async removeOrphans(namespace: string, orphans: Pod[], containers: NodeContainer[], owned: Pod[]) {
    for (const pod of orphans) {
      await this.pods.delete(namespace, pod.metadata.name).catch(() => undefined);
      this.readiness.forget(namespace, pod.metadata.name);
    }
    const podNodes = new Map(owned.map((pod) => [pod.metadata.name, pod.spec.nodeName]));
    for (const container of containers) {
      // A container of another node than its pod's is a leftover of a node that came back.
      if (podNodes.get(container.labels[RUNTIME_LABELS.pod]) !== container.node) await this.removeContainer(container, this.settings.graceSeconds);
    }
  }

  /**
   * Running: adopt its container. Stopped or gone: start it again (counted as a restart), at
   * once the first time and after a back-off from then on, the pod saying meanwhile why
   * (`CrashLoopBackOff`, with the exit code and the end of its output).
   */
  private async syncContainer(rc: ReplicationController, pod: Pod, containers: NodeContainer[], budget: Budget, errors: Error[], requeue: (ms: number) => void): Promise<Pod> {
    pod = await this.correctOomKilled(pod);
    const here = containers.filter((c) => c.node === pod.spec.nodeName);
    const running = here.find((c) => c.state === 'running');
    for (const stale of here.filter((c) => c !== running && !isStopped(c))) await this.removeContainer(stale, 0);
    if (running) {
      for (const stopped of here.filter(isStopped)) await this.removeContainer(stopped, 0);
      const { containerID, hostPort, podIP, phase } = pod.status;
      if (containerID === running.id && hostPort === running.hostPort && podIP === running.ip && phase === 'Running') {
        this.readiness.watch(pod);
        return pod;
      }
      return this.recordStarted(pod, running, containerID !== undefined && containerID !== running.id);
    }
    const stopped = here.filter(isStopped);
    const last = stopped.find((c) => c.id === pod.status.containerID) ?? stopped[0];
    // How its last run ended (exit code, OOMKilled): the pod's lastState, and a crash loop's message.
    const inspected = last && ((await this.cluster.runtimeOf(pod.spec.nodeName)?.inspect(last.id)) ?? last);
    const ended = inspected && this.cluster.wasOomKilled(inspected.id) ? { ...inspected, oomKilled: true } : inspected;
    if (ended) {
      const backOff = await this.backOff(pod, ended);
      if (backOff) {
        requeue(backOff.waitMs);
        return backOff.pod;
      }
    }
    if (!budget.take()) return pod;
    for (const container of stopped) await this.removeContainer(container, 0);
    const restart = here.length > 0 || pod.status.containerID !== undefined;
    return this.start(rc, pod, restart, errors, ended && terminationOf(ended));
  }

  /**
   * Whether a stopped container must wait before it starts again: not after its first stop, nor
   * after a long run; otherwise `restartBackoffMs` doubling per restart, up to
   * `restartBackoffMaxMs`, from when it stopped. While it waits the pod is not ready and its
   * status says why, once per stopped container.
   */
  private async backOff(pod: Pod, stopped: RuntimeContainer): Promise<{ pod: Pod; waitMs: number } | undefined> {
    const restarts = pod.status.restartCount;
    if (restarts === 0) return undefined;
    const now = this.settings.now();
    const finished = Date.parse(stopped.finishedAt ?? '') || now;
    // The engine may stamp a container that dies at once as finished a hair before it started.
    const ran = Math.max(0, finished - (Date.parse(stopped.startedAt ?? '') || finished));
    if (ran >= BACKOFF_RESET_AFTER_MS) return undefined;
    const delay = Math.min(this.settings.restartBackoffMs * 2 ** (restarts - 1), this.settings.restartBackoffMaxMs);
    const waitMs = finished + delay - now;
    if (waitMs <= 0) return undefined;
    if (pod.status.reason === CRASH_LOOP_BACK_OFF && pod.status.containerID === stopped.id) return { pod, waitMs };
    const output = (await this.cluster.runtimeOf(pod.spec.nodeName)?.logs(stopped.id, { tail: OUTPUT_LINES + 1 })) ?? '';
    const message = crashMessage(stopped, ran, delay, output);
    this.readiness.forget(pod.metadata.namespace, pod.metadata.name);
    const updated = await this.pods
      .update(
        pod.metadata.namespace,
        pod.metadata.name,
        (current) => ({
          ...current,
          status: {
            ...current.status,
            reason: CRASH_LOOP_BACK_OFF,
            message,
            containerID: stopped.id,
            lastTermination: terminationOf(stopped),
            conditions: setCondition(current.status.conditions, { type: 'Ready', status: 'False', reason: CRASH_LOOP_BACK_OFF, message }, now),
          },
        }),
        // Announced once per stop: the Warning Event a user reads (BackOff), and the rollout's health gate.
        { outbox: (next) => [podChanged(next, false)] },
      )
      .catch(() => pod);
    return { pod: updated, waitMs };
  }

  /** A pod created while no node could take it: placed once one can. */
  private async schedule(rc: ReplicationController, pod: Pod, imageHolders: () => Promise<Set<string>>, errors: Error[]): Promise<Pod> {
    const placement = await this.place(rc, imageHolders);
    if (!('node' in placement)) return pod;
    const placed = await this.pods.update(pod.metadata.namespace, pod.metadata.name, (current) => ({
      ...current,
      spec: { ...current.spec, nodeName: placement.node },
      status: { ...current.status, conditions: setCondition(current.status.conditions, { type: 'PodScheduled', status: 'True' }, this.settings.now()) },
    }));
    return this.start(rc, placed, false, errors);
  }

  /** Where the scheduler places a new pod of `rc`; the nodes that hold its image (`imageHolders`) are asked for first. */
  private async place(rc: ReplicationController, imageHolders: () => Promise<Set<string>>): Promise<Placement> {
    const [container] = rc.spec.template.spec.containers;
    const dc = rc.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig] ?? rc.metadata.name;
    const { nodeSelector } = rc.spec.template.spec;
    const nodes = this.cache.nodes.list({ namespace: NODE_SCOPE });
    const withImage = await imageHolders();
    return placePod(nodes, this.cache.pods.list(), dc, container?.resources?.limits.memoryBytes ?? this.settings.podMemoryBytes, nodeSelector, this.settings.podMemoryBytes, withImage);
  }

  /** Creates a pod where the scheduler places it (`spec.nodeName` empty when no node can take it yet). */
  private async createPod(rc: ReplicationController, imageHolders: () => Promise<Set<string>>): Promise<Pod> {
    const { namespace, name } = rc.metadata;
    const placement = await this.place(rc, imageHolders);
    const now = this.settings.now();
    const scheduled =
      'node' in placement
        ? { type: 'PodScheduled', status: 'True' as const }
        : { type: 'PodScheduled', status: 'False' as const, reason: 'Unschedulable', message: placement.unschedulable };
    // A pod no node can take says so (a FailedScheduling Warning Event); a placed one is not announced.
    const outbox = 'node' in placement ? {} : { outbox: (pod: Pod) => [podChanged(pod, false)] };
    return this.pods.create({
      metadata: {
        name: `${name}-${randomBytes(4).toString('hex').slice(0, 5)}`,
        namespace,
        labels: rc.spec.template.metadata.labels,
        annotations: {},
        ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name, uid: rc.metadata.uid, controller: true }],
      },
      spec: { ...rc.spec.template.spec, nodeName: 'node' in placement ? placement.node : '' },
      status: {
        phase: 'Pending',
        restartCount: 0,
        ...('node' in placement ? {} : { reason: 'Unschedulable', message: placement.unschedulable }),
        conditions: setCondition(setCondition([], scheduled, now), { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, now),
      },
    }, outbox);
  }

  /** Runs the pod's container; `ended`: how the run before it ended, when this is a restart of a stopped one. */
  private async start(rc: ReplicationController, pod: Pod, restart: boolean, errors: Error[], ended?: ContainerTermination): Promise<Pod> {
    const [container] = pod.spec.containers;
    const { namespace, name } = pod.metadata;
    try {
      const runtime = this.cluster.runtimeOf(pod.spec.nodeName);
      if (!runtime) throw new Error(`node ${pod.spec.nodeName} is not registered`);
      const started = await runtime.run({
        name: containerName(pod),
        hostname: name,
        namespace,
        image: container.image,
        env: this.environment.resolve(namespace, container),
        containerPort: container.ports[0]?.containerPort,
        memoryBytes: container.resources?.limits.memoryBytes ?? this.settings.podMemoryBytes,
        cpuMillis: container.resources?.limits.cpuMillis,
        pidsLimit: this.settings.podPidsLimit,
        readOnlyRootFilesystem: container.securityContext?.readOnlyRootFilesystem,
        labels: {
          ...pod.metadata.labels,
          [RUNTIME_LABELS.namespace]: namespace,
          [RUNTIME_LABELS.pod]: name,
          [RUNTIME_LABELS.rc]: rc.metadata.name,
          [RUNTIME_LABELS.dc]: rc.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig] ?? '',
        },
      });
      return await this.recordStarted(pod, started, restart, runtime.hostIP, ended);
    } catch (error) {
      const message = (error as Error).message;
      errors.push(new Error(`pod ${name}: ${message}`));
      const reason = error instanceof ImagePullError ? 'ErrImagePull' : error instanceof ContainerConfigError ? CREATE_CONTAINER_CONFIG_ERROR : 'ContainerCreateError';
      // Each failed try is announced: a Warning Event whose count says how often it failed.
      return this.pods
        .update(namespace, name, (current) => ({ ...current, status: { ...current.status, phase: 'Pending', reason, message } }), { outbox: (next) => [podChanged(next, false)] })
        .catch(() => pod);
    }
  }

  /** A pod whose last run is recorded as a plain exit although the engine's `oom` event (which came after the exit) says OOMKilled. */
  private async correctOomKilled(pod: Pod): Promise<Pod> {
    const last = pod.status.lastTermination;
    if (!last || last.reason === 'OOMKilled' || !this.cluster.wasOomKilled(last.containerID.replace(/^docker:\/\//, ''))) return pod;
    return this.pods.updateStatus(pod.metadata.namespace, pod.metadata.name, (status) =>
      status.lastTermination?.containerID === last.containerID ? { ...status, lastTermination: { ...status.lastTermination, reason: 'OOMKilled' } } : status,
    );
  }

  private async recordStarted(pod: Pod, container: RuntimeContainer, restart: boolean, hostIP = this.cluster.runtimeOf(pod.spec.nodeName)?.hostIP, ended?: ContainerTermination): Promise<Pod> {
    // Ready at once unless a probe must say so first: readiness, or startup (PodProber records it).
    const probed = pod.spec.containers[0]?.readinessProbe !== undefined || pod.spec.containers[0]?.startupProbe !== undefined;
    const now = this.settings.now();
    const updated = await this.pods.updateStatus(pod.metadata.namespace, pod.metadata.name, (status) => {
      const { reason: _reason, message: _message, ...rest } = status;
      return {
        ...rest,
        phase: 'Running',
        ...(hostIP ? { hostIP } : {}),
        ...(container.ip ? { podIP: container.ip } : {}),
        ...(container.hostPort ? { hostPort: container.hostPort } : {}),
        containerID: container.id,
        startTime: container.startedAt && !container.startedAt.startsWith('0001') ? container.startedAt : new Date(now).toISOString(),
        restartCount: status.restartCount + (restart ? 1 : 0),
        ...(ended ? { lastTermination: ended } : {}),
        conditions: setCondition(status.conditions, probed ? { type: 'Ready', status: 'False', reason: 'ContainersNotReady' } : { type: 'Ready', status: 'True' }, now),
      };
    });
    this.readiness.watch(updated);
    return updated;
  }

  /**
   * The pods a router replica still sends traffic or has requests in flight to: a pod's
   * container is stopped only once none does (docs/architecture.md, "Drain"), or
   * once it has drained for `drainTimeoutMs` whatever holds it (a router cut off from NATS,
   * a request that never ends), which the log then names.
   */
  private async stillRouted(pods: Pod[]): Promise<Set<Pod>> {
    const addressed = pods.flatMap((pod) => {
      const address = podAddress(pod);
      return address ? [{ pod, address }] : [];
    });
    if (!addressed.length) return new Set();
    const holding = await this.routers.holding(addressed.map(({ address }) => address));
    const routed = new Set<Pod>();
    addressed.forEach(({ pod }, i) => {
      if (!holding[i]) return;
      const drainingMs = this.settings.now() - terminatingSince(pod);
      if (drainingMs < this.settings.drainTimeoutMs) routed.add(pod);
      else this.logger.warn({ msg: `stopping pod ${pod.metadata.namespace}/${pod.metadata.name} after ${drainingMs} ms of drain although ${holding[i]}` });
    });
    return routed;
  }

  /** Step one of removal: not ready, out of Endpoints; the container stops once drained. */
  private async markTerminating(namespace: string, pods: Pod[]) {
    const since = new Date(this.settings.now()).toISOString();
    for (const pod of pods) {
      this.readiness.forget(namespace, pod.metadata.name);
      await this.pods.update(namespace, pod.metadata.name, (current) => ({
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [TERMINATING_ANNOTATION]: since } },
        status: {
          ...current.status,
          conditions: setCondition(current.status.conditions, { type: 'Ready', status: 'False', reason: 'Terminating' }, this.settings.now()),
        },
      }));
    }
  }

  private async removePod(pod: Pod, containers: NodeContainer[]) {
    for (const container of containers) await this.removeContainer(container, this.settings.graceSeconds);
    if (!containers.length && pod.status.containerID) await this.cluster.runtimeOf(pod.spec.nodeName)?.remove(pod.status.containerID, { graceSeconds: this.settings.graceSeconds });
    await this.forgetPod(pod);
  }

  private async forgetPod(pod: Pod) {
    await this.pods.delete(pod.metadata.namespace, pod.metadata.name).catch(() => undefined);
    this.readiness.forget(pod.metadata.namespace, pod.metadata.name);
  }

  private async removeContainer(container: NodeContainer, graceSeconds: number) {
    await this.cluster.runtimeOf(container.node)?.remove(container.id, { graceSeconds });
  }

  private addressedPods(namespace: string): Set<string> {
    const records = this.cache.endpoints.list({ namespace });
    return new Set(records.flatMap((record) => record.spec.addresses.map((address) => address.targetRef.name)));
  }

  /** The counts as the cache has them now (this reconcile's own writes included); written only when they changed. */
  private async writeStatus(rc: ReplicationController) {
    const { namespace, name } = rc.metadata;
    const pods = this.cache.pods.list({ namespace, labels: { [DEPLOYMENT_LABELS.deployment]: name } }).filter((pod) => isOwnedBy(pod, rc));
    const status = { replicas: pods.length, readyReplicas: pods.filter(isReady).length, observedGeneration: rc.metadata.generation };
    const before = rc.status;
    if (before.replicas === status.replicas && before.readyReplicas === status.readyReplicas && before.observedGeneration === status.observedGeneration) return;
    await this.rcs.updateStatus(namespace, name, () => status);
  }
}

/** `produce`, called the first time only: later calls get the same promise. */
function once<T>(produce: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= produce());
}

function isStopped(container: NodeContainer): boolean {
  return container.state === 'exited' || container.state === 'dead';
}

/** Why a pod waits to start again, in words a user can act on. */
export function crashMessage(container: RuntimeContainer, ranMs: number, delayMs: number, output: string): string {
  const lines = output.trim().split('\n').filter(Boolean).slice(-OUTPUT_LINES).join(' | ');
  const quoted = lines.length > OUTPUT_CHARS ? `…${lines.slice(-OUTPUT_CHARS)}` : lines;
  const ran = `after ${(ranMs / 1000).toFixed(1)} s`;
  const why = container.oomKilled
    ? `it was killed for going over its memory limit (OOMKilled, exit code ${container.exitCode ?? 'unknown'}) ${ran} (raise resources.limits.memoryBytes, or make it use less)`
    : `it exited with code ${container.exitCode ?? 'unknown'} ${ran}, running as user ${container.user ?? 'of its image'} without capabilities (pods never run as root; an image that needs root or a capability to start cannot run here)`;
  return `back-off ${Math.round(delayMs / 1000)} s before starting the container again: ${why}` + (quoted ? `; its last output: ${quoted}` : '');
}

/** Which pods go first: not ready before ready, then the newest. */
export function victims(pods: Pod[], count: number): Pod[] {
  return [...pods]
    .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp))
    .slice(0, count);
}
