import { Inject, Injectable } from '@nestjs/common';
import type { EndpointAddress, Pod, Service } from '@paas/contracts/deployments';
import { EventBus } from '@paas/platform/events';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { isDeepStrictEqual } from 'node:util';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { PodRepository } from '../pods/pod.repository';
import { isReady } from '../pods/pod-state';
import { ServiceRepository } from '../services/service.repository';
import { splitKey, type Store } from '../store';
import { EndpointsRepository, type EndpointsRecord, type EndpointsSubsets } from './endpoints.repository';

/**
 * Endpoints of a Service (same name): its selector's Ready pods as `addresses`, the others
 * (starting, failing, draining) as `notReadyAddresses`. Every change gets a new generation
 * and is published as `endpoints.changed`; a generation not yet published is published on
 * the next reconcile, so a failed publish is never lost.
 */
@Injectable()
export class EndpointsReconciler implements Controller {
  constructor(
    @Inject(ServiceRepository) private readonly services: Store<Service>,
    @Inject(PodRepository) private readonly pods: Store<Pod>,
    @Inject(EndpointsRepository) private readonly endpoints: Store<EndpointsRecord>,
    @Inject(EventBus) private readonly events: Pick<EventBus, 'publish'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  readonly kind = 'endpoints' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const service = await this.services.find(namespace, name);
    const current = await this.endpoints.find(namespace, name);
    if (!service) {
      if (current) {
        // Published before the record goes, so a retry after a failed publish still finds it.
        await this.publish(namespace, name, this.nextGeneration(current), []);
        await this.endpoints.delete(namespace, name).catch(() => undefined);
      }
      return {};
    }

    const desired = await this.subsets(service);
    let record = current;
    if (!record) {
      record = await this.endpoints.create({
        metadata: { name, namespace, labels: service.metadata.labels ?? {} },
        spec: desired,
        status: { generation: this.nextGeneration(undefined), publishedGeneration: 0 },
      });
    } else if (!isDeepStrictEqual(record.spec, desired)) {
      record = await this.endpoints.update(namespace, name, (latest) => ({
        ...latest,
        spec: desired,
        status: { ...latest.status, generation: this.nextGeneration(latest) },
      }));
    }
    if (record.status.publishedGeneration < record.status.generation) {
      const generation = record.status.generation;
      await this.publish(namespace, name, generation, record.spec.addresses);
      await this.endpoints.updateStatus(namespace, name, (status) => ({ ...status, publishedGeneration: Math.max(status.publishedGeneration, generation) }));
    }
    return {};
  }

  private async subsets(service: Service): Promise<EndpointsSubsets> {
    const selector = service.spec.selector;
    // An empty selector selects nothing, as for a Kubernetes Service without one.
    const pods = Object.keys(selector).length ? await this.pods.list({ namespace: service.metadata.namespace, labels: selector }) : [];
    const addressOf = (pod: Pod): EndpointAddress => ({
      ip: pod.status.podIP ?? '127.0.0.1',
      port: pod.status.hostPort as number,
      targetRef: { kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    });
    const published = pods
      // A pod publishes its one container port; that is the Service's targetPort.
      .filter((pod) => pod.status.hostPort)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    return {
      addresses: published.filter(isReady).map(addressOf),
      notReadyAddresses: published.filter((pod) => !isReady(pod)).map(addressOf),
    };
  }

  private nextGeneration(record: EndpointsRecord | undefined): number {
    return Math.max((record?.status.generation ?? 0) + 1, this.settings.now());
  }

  private async publish(namespace: string, name: string, generation: number, addresses: EndpointAddress[]) {
    await this.events.publish(
      'endpoints.changed',
      { namespace, name, generation, addresses: addresses.map((a) => ({ ip: a.ip, port: a.port, pod: a.targetRef.name })) },
      { id: `endpoints:${namespace}/${name}:${generation}` },
    );
  }
}
