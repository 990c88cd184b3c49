import { Inject, Injectable } from '@nestjs/common';
import { isOwnedBy } from '@paas/contracts/meta';
import { DEPLOYMENT_LABELS, type Pod, type ReplicationController } from '@paas/contracts/deployments';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { randomBytes } from 'node:crypto';
import { ImagePullError, RUNTIME_LABELS, type ContainerRuntime, type RuntimeContainer } from '../adapters/container-runtime';
import { CONTAINER_RUNTIME } from '../adapters/runtime.tokens';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { PodRepository } from '../pods/pod.repository';
import { containerName, isReady, isTerminating, terminatingSince, TERMINATING_ANNOTATION } from '../pods/pod-state';
import { READINESS_TRACKER, type ReadinessTracker } from '../pods/readiness';
import { splitKey, type Store } from '../store';
import { ReplicationControllerRepository } from './replicationcontroller.repository';

/**
 * While a drained pod still shows in Endpoints, look again this soon (the Endpoints change
 * that drops it enqueues the RC anyway; this only covers a change that went unseen).
 */
const ENDPOINTS_RECHECK_MS = 1_000;

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
  constructor(
    @Inject(ReplicationControllerRepository) private readonly rcs: Store<ReplicationController>,
    @Inject(PodRepository) private readonly pods: Store<Pod>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'rcs' | 'pods' | 'endpoints'>,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(READINESS_TRACKER) private readonly readiness: ReadinessTracker,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  readonly kind = 'replicationcontrollers' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const rc = this.cache.rcs.get(namespace, name);
    const containers = await this.runtime.listByOwner({ [RUNTIME_LABELS.namespace]: namespace, [RUNTIME_LABELS.rc]: name });
    const labelled = this.cache.pods.list({ namespace, labels: { [DEPLOYMENT_LABELS.deployment]: name } });
    const owned = labelled.filter((pod) => isOwnedBy(pod, rc));
    const orphans = labelled.filter((pod) => !owned.includes(pod));
    await this.removeOrphans(namespace, orphans, containers, owned);
    if (!rc) return {};

    const byPod = new Map<string, RuntimeContainer[]>();
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
    for (const pod of owned) {
      const mine = byPod.get(pod.metadata.name) ?? [];
      if (!isTerminating(pod)) {
        live.push(await this.syncContainer(rc, pod, mine, budget, errors));
        continue;
      }
      const drainLeft = terminatingSince(pod) + this.settings.drainMs - this.settings.now();
      if (drainLeft > 0) requeue(drainLeft);
      else if (addressed.has(pod.metadata.name)) requeue(ENDPOINTS_RECHECK_MS);
      else if (budget.take()) await this.removePod(pod, mine);
      else requeue(0);
    }

    const surplus = live.length - rc.spec.replicas;
    if (surplus < 0) {
      for (let i = 0; i < -surplus; i++) {
        if (!budget.take()) {
          requeue(0);
          break;
        }
        await this.createPod(rc, errors);
      }
    } else if (surplus > 0) {
      await this.markTerminating(namespace, victims(live, surplus));
      requeue(this.settings.drainMs);
    }

    await this.writeStatus(rc);
    if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /** Pods of an RC that no longer exists (or of an older RC of that name), and containers without a pod. */
  private async removeOrphans(namespace: string, orphans: Pod[], containers: RuntimeContainer[], owned: Pod[]) {
    for (const pod of orphans) {
      await this.pods.delete(namespace, pod.metadata.name).catch(() => undefined);
      this.readiness.forget(namespace, pod.metadata.name);
    }
    const podNames = new Set(owned.map((pod) => pod.metadata.name));
    for (const container of containers) {
      if (!podNames.has(container.labels[RUNTIME_LABELS.pod])) await this.runtime.remove(container.id, { graceSeconds: this.settings.graceSeconds });
    }
  }

  /** Running: adopt its container. Exited or gone: replace it (counted as a restart). */
  private async syncContainer(rc: ReplicationController, pod: Pod, containers: RuntimeContainer[], budget: Budget, errors: Error[]): Promise<Pod> {
    const running = containers.find((c) => c.state === 'running');
    for (const stale of containers.filter((c) => c !== running)) await this.runtime.remove(stale.id, { graceSeconds: 0 });
    if (running) {
      const { containerID, hostPort, podIP, phase } = pod.status;
      if (containerID === running.id && hostPort === running.hostPort && podIP === running.ip && phase === 'Running') {
        this.readiness.watch(pod);
        return pod;
      }
      return this.recordStarted(pod, running, containerID !== undefined && containerID !== running.id);
    }
    if (!budget.take()) return pod;
    const restart = containers.length > 0 || pod.status.containerID !== undefined;
    return this.start(rc, pod, restart, errors);
  }

  private async createPod(rc: ReplicationController, errors: Error[]) {
    const { namespace, name } = rc.metadata;
    const pod = await this.pods.create({
      metadata: {
        name: `${name}-${randomBytes(4).toString('hex').slice(0, 5)}`,
        namespace,
        labels: rc.spec.template.metadata.labels,
        annotations: {},
        ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name, uid: rc.metadata.uid, controller: true }],
      },
      spec: { containers: rc.spec.template.spec.containers, nodeName: this.runtime.nodeName },
      status: {
        phase: 'Pending',
        restartCount: 0,
        conditions: setCondition([], { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, this.settings.now()),
      },
    });
    await this.start(rc, pod, false, errors);
  }

  private async start(rc: ReplicationController, pod: Pod, restart: boolean, errors: Error[]): Promise<Pod> {
    const [container] = pod.spec.containers;
    const { namespace, name } = pod.metadata;
    try {
      const started = await this.runtime.run({
        name: containerName(pod),
        image: container.image,
        env: container.env,
        containerPort: container.ports[0]?.containerPort,
        memoryBytes: container.resources?.limits.memoryBytes,
        cpuMillis: container.resources?.limits.cpuMillis,
        labels: {
          ...pod.metadata.labels,
          [RUNTIME_LABELS.namespace]: namespace,
          [RUNTIME_LABELS.pod]: name,
          [RUNTIME_LABELS.rc]: rc.metadata.name,
          [RUNTIME_LABELS.dc]: rc.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig] ?? '',
        },
      });
      return await this.recordStarted(pod, started, restart);
    } catch (error) {
      const message = (error as Error).message;
      errors.push(new Error(`pod ${name}: ${message}`));
      return this.pods
        .updateStatus(namespace, name, (status) => ({
          ...status,
          phase: 'Pending',
          reason: error instanceof ImagePullError ? 'ErrImagePull' : 'ContainerCreateError',
          message,
        }))
        .catch(() => pod);
    }
  }

  private async recordStarted(pod: Pod, container: RuntimeContainer, restart: boolean): Promise<Pod> {
    const probed = pod.spec.containers[0]?.readinessProbe !== undefined;
    const now = this.settings.now();
    const updated = await this.pods.updateStatus(pod.metadata.namespace, pod.metadata.name, (status) => {
      const { reason: _reason, message: _message, ...rest } = status;
      return {
        ...rest,
        phase: 'Running',
        hostIP: this.runtime.hostIP,
        ...(container.ip ? { podIP: container.ip } : {}),
        ...(container.hostPort ? { hostPort: container.hostPort } : {}),
        containerID: container.id,
        startTime: container.startedAt && !container.startedAt.startsWith('0001') ? container.startedAt : new Date(now).toISOString(),
        restartCount: status.restartCount + (restart ? 1 : 0),
        conditions: setCondition(status.conditions, probed ? { type: 'Ready', status: 'False', reason: 'ContainersNotReady' } : { type: 'Ready', status: 'True' }, now),
      };
    });
    this.readiness.watch(updated);
    return updated;
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

  private async removePod(pod: Pod, containers: RuntimeContainer[]) {
    for (const container of containers) await this.runtime.remove(container.id, { graceSeconds: this.settings.graceSeconds });
    if (!containers.length && pod.status.containerID) await this.runtime.remove(pod.status.containerID, { graceSeconds: this.settings.graceSeconds });
    await this.pods.delete(pod.metadata.namespace, pod.metadata.name).catch(() => undefined);
    this.readiness.forget(pod.metadata.namespace, pod.metadata.name);
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

/** Which pods go first: not ready before ready, then the newest. */
export function victims(pods: Pod[], count: number): Pod[] {
  return [...pods]
    .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp))
    .slice(0, count);
}
