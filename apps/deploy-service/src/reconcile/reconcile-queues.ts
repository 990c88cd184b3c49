import { Inject, Injectable, type FactoryProvider, type OnApplicationShutdown } from '@nestjs/common';
import type { Service } from '@paas/contracts/deployments';
import { matchesLabels, type Labels } from '@paas/contracts/meta';
import { WorkQueue } from '@paas/platform/work-queue';
import type { Controller, ControllerKind } from './controller';
import { ServiceRepository } from '../services/service.repository';
import { keyOf, type Store } from '../store';
import type { Enqueuer } from './enqueuer';


const CONCURRENCY: Record<ControllerKind, number> = { deploymentconfigs: 2, replicationcontrollers: 4, endpoints: 4 };

/** One work queue per controller; keys are `<namespace>/<name>`. */
@Injectable()
export class ReconcileQueues implements Enqueuer, OnApplicationShutdown {
  private readonly controllers = new Map<ControllerKind, Controller>();
  readonly queues: Record<ControllerKind, WorkQueue>;

  constructor(@Inject(ServiceRepository) private readonly services: Store<Service>) {
    const queue = (kind: ControllerKind) =>
      new WorkQueue(
        async (key) => {
          const controller = this.controllers.get(kind);
          if (!controller) throw new Error(`no ${kind} controller registered yet`);
          return controller.reconcile(key);
        },
        { name: kind, concurrency: CONCURRENCY[kind], baseBackoffMs: 200, maxBackoffMs: 30_000 },
      );
    this.queues = { deploymentconfigs: queue('deploymentconfigs'), replicationcontrollers: queue('replicationcontrollers'), endpoints: queue('endpoints') };
  }

  register(controller: Controller): void {
    this.controllers.set(controller.kind, controller);
  }

  deploymentConfig(namespace: string, name: string): void {
    this.queues.deploymentconfigs.add(keyOf(namespace, name));
  }

  replicationController(namespace: string, name: string): void {
    this.queues.replicationcontrollers.add(keyOf(namespace, name));
  }

  endpoints(namespace: string, service: string): void {
    this.queues.endpoints.add(keyOf(namespace, service));
  }

  async endpointsSelecting(namespace: string, podLabels: Labels[]): Promise<void> {
    for (const service of await this.services.list({ namespace })) {
      const selector = service.spec.selector;
      if (Object.keys(selector).length && podLabels.some((labels) => matchesLabels(labels, selector))) this.endpoints(namespace, service.metadata.name);
    }
  }

  /** Resolves once every queue is idle at the same moment (tests). */
  async whenIdle(): Promise<void> {
    const all = Object.values(this.queues);
    await Promise.all(all.map((q) => q.whenIdle()));
  }

  onApplicationShutdown() {
    for (const queue of Object.values(this.queues)) queue.stop();
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
