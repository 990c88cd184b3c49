import { Inject, Injectable, type FactoryProvider, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CREATE_CONTAINER_CONFIG_ERROR } from '@paas/contracts/config';
import { DEPLOYMENT_LABELS } from '@paas/contracts/deployments';
import { matchesLabels, type Labels } from '@paas/contracts/meta';
import { notWorkedHere, ShardOwnership } from '@paas/platform/shard-ownership';
import { WorkQueue } from '@paas/platform/work-queue';
import { DeployInformers } from '../informers';
import { keyOf, splitKey } from '../store';
import type { Controller, ControllerKind } from './controller';
import type { Enqueuer } from './enqueuer';

const CONCURRENCY: Record<ControllerKind, number> = { deploymentconfigs: 2, replicationcontrollers: 4, endpoints: 4 };

/** What the queues need of shard ownership (ShardOwnership; unit tests own everything). */
export type Ownership = Pick<ShardOwnership, 'standing' | 'listen'>;

/**
 * One work queue per controller; keys are `<namespace>/<name>`, and only keys of namespaces
 * this replica owns are queued or reconciled (shard-ownership.ts), so no two replicas work
 * one object. Every change the informers see enqueues the keys it concerns: a pod's RC, its
 * DeploymentConfig (whose rollout its health gates) and the Services selecting it, an RC's
 * DeploymentConfig, a Service's Endpoints. Work is driven
 * by changes; the rare resync (resync.ts) only heals what was missed.
 */
@Injectable()
export class ReconcileQueues implements Enqueuer, OnModuleInit, OnApplicationShutdown {
  private readonly controllers = new Map<ControllerKind, Controller>();
  readonly queues: Record<ControllerKind, WorkQueue>;

  constructor(
    @Inject(DeployInformers) private readonly informers: DeployInformers,
    @Inject(ShardOwnership) private readonly ownership: Ownership,
  ) {
    const queue = (kind: ControllerKind) =>
      new WorkQueue(
        async (key) => {
          const controller = this.controllers.get(kind);
          if (!controller) throw new Error(`no ${kind} controller registered yet`);
          // Ownership may have moved since the key was queued; a lease not trusted this moment keeps its keys.
          return notWorkedHere(this.ownership.standing(splitKey(key).namespace)) ?? controller.reconcile(key);
        },
        { name: kind, concurrency: CONCURRENCY[kind], baseBackoffMs: 200, maxBackoffMs: 30_000 },
      );
    this.queues = { deploymentconfigs: queue('deploymentconfigs'), replicationcontrollers: queue('replicationcontrollers'), endpoints: queue('endpoints') };
  }

  /** Routes every change to the keys it concerns; before the shards are taken, so that no change is missed. */
  onModuleInit() {
    const { dcs, rcs, pods, services, endpoints, nodes, configMaps, secrets } = this.informers;
    dcs.onChange(({ object }) => this.deploymentConfig(object.metadata.namespace, object.metadata.name));
    rcs.onChange(({ object }) => {
      const { namespace, name, labels } = object.metadata;
      this.replicationController(namespace, name);
      const dc = labels?.[DEPLOYMENT_LABELS.deploymentConfig];
      if (dc) this.deploymentConfig(namespace, dc);
    });
    pods.onChange(({ object, previous }) => {
      const { namespace, labels } = object.metadata;
      const rc = labels?.[DEPLOYMENT_LABELS.deployment];
      if (rc) this.replicationController(namespace, rc);
      const dc = rc ? rcs.get(namespace, rc)?.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig] : undefined;
      if (dc) this.deploymentConfig(namespace, dc);
      this.endpointsSelecting(namespace, [labels ?? {}, ...(previous ? [previous.metadata.labels ?? {}] : [])]);
    });
    services.onChange(({ object }) => this.endpoints(object.metadata.namespace, object.metadata.name));
    endpoints.onChange(({ object, previous }) => {
      // A pod that left the addresses may be waiting for exactly that to stop its container.
      const now = new Set(object.spec.addresses.map((address) => address.targetRef.name));
      for (const address of previous?.spec.addresses ?? []) {
        if (now.has(address.targetRef.name)) continue;
        const rc = pods.get(object.metadata.namespace, address.targetRef.name)?.metadata.labels?.[DEPLOYMENT_LABELS.deployment];
        if (rc) this.replicationController(object.metadata.namespace, rc);
      }
    });
    nodes.onChange(({ object, previous }) => {
      // A node lost or drained moves its pods; one that is back may hold containers whose pods moved away.
      const came = (node?: typeof object) => node?.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const everyRc = came(object) && !came(previous);
      for (const rc of everyRc ? rcs.list() : []) this.replicationController(rc.metadata.namespace, rc.metadata.name);
      for (const pod of pods.list().filter((p) => p.spec.nodeName === object.metadata.name)) {
        const rc = pod.metadata.labels?.[DEPLOYMENT_LABELS.deployment];
        if (rc) this.replicationController(pod.metadata.namespace, rc);
        this.endpointsSelecting(pod.metadata.namespace, [pod.metadata.labels ?? {}]);
      }
    });
    // A ConfigMap or Secret that comes (or gains a key) may be what a waiting pod lacks.
    const waitingOn = ({ object }: { object: { metadata: { namespace: string } } }) => {
      for (const pod of pods.list({ namespace: object.metadata.namespace })) {
        const rc = pod.metadata.labels?.[DEPLOYMENT_LABELS.deployment];
        if (rc && pod.status.reason === CREATE_CONTAINER_CONFIG_ERROR) this.replicationController(object.metadata.namespace, rc);
      }
    };
    configMaps.onChange(waitingOn);
    secrets.onChange(waitingOn);
  }

  register(controller: Controller): void {
    this.controllers.set(controller.kind, controller);
  }

  deploymentConfig(namespace: string, name: string): void {
    this.add('deploymentconfigs', namespace, name);
  }

  replicationController(namespace: string, name: string): void {
    this.add('replicationcontrollers', namespace, name);
  }

  endpoints(namespace: string, service: string): void {
    this.add('endpoints', namespace, service);
  }

  endpointsSelecting(namespace: string, podLabels: Labels[]): void {
    for (const service of this.informers.services.list({ namespace })) {
      const selector = service.spec.selector;
      if (Object.keys(selector).length && podLabels.some((labels) => matchesLabels(labels, selector))) this.endpoints(namespace, service.metadata.name);
    }
  }

  /** Resolves once every queue is idle at the same moment (tests). */
  async whenIdle(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.whenIdle()));
  }

  onApplicationShutdown() {
    for (const queue of Object.values(this.queues)) queue.stop();
  }

  private add(kind: ControllerKind, namespace: string, name: string) {
    if (this.ownership.standing(namespace) !== 'elsewhere') this.queues[kind].add(keyOf(namespace, name));
  }
}

/** A provider that hands a controller to its work queue when the module starts. */
export function registeredController(controller: new (...args: never[]) => Controller): FactoryProvider {
  return {
    provide: Symbol(`register ${controller.name}`),
    useFactory: (queues: ReconcileQueues, instance: Controller) => queues.register(instance),
    inject: [ReconcileQueues, controller],
  };
}
