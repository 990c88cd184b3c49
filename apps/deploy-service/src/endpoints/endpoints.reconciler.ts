import { Inject, Injectable } from '@nestjs/common';
import type { EndpointAddress, Pod } from '@paas/contracts/deployments';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { isDeepStrictEqual } from 'node:util';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { isNodeReady, NODE_SCOPE } from '@paas/contracts/nodes';
import { isReady, podAddress } from '../pods/pod-state';
import { splitKey, type Store } from '../store';
import { EndpointsRepository, type EndpointsRecord, type EndpointsSubsets } from './endpoints.repository';

/**
 * Endpoints of a Service (same name): its selector's Ready pods as `addresses`, the others
 * (starting, failing, draining) as `notReadyAddresses`, read from the informers. Every change
 * gets a new generation and owes `endpoints.changed` through its write's outbox, so the
 * routers hear of it even when this replica dies right after the write.
 */
@Injectable()
export class EndpointsReconciler implements Controller {
  constructor(
    @Inject(EndpointsRepository) private readonly endpoints: Store<EndpointsRecord>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'services' | 'pods' | 'endpoints' | 'nodes'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  readonly kind = 'endpoints' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const service = this.cache.services.get(namespace, name);
    const current = this.cache.endpoints.get(namespace, name);
    if (!service) {
      if (current) await this.endpoints.delete(namespace, name, { outbox: (last) => [changed(last, this.nextGeneration(last), [])] }).catch(notFoundIsFine);
      return {};
    }
    const desired = this.subsets(namespace, service.spec.selector);
    if (!current) {
      const generation = this.nextGeneration(undefined);
      await this.endpoints.create(
        { metadata: { name, namespace, labels: service.metadata.labels ?? {} }, spec: desired, status: { generation } },
        { outbox: (created) => [changed(created, generation, created.spec.addresses)] },
      );
    } else if (!isDeepStrictEqual(current.spec, desired)) {
      await this.endpoints.update(namespace, name, (latest) => ({ ...latest, spec: desired, status: { generation: this.nextGeneration(latest) } }), {
        outbox: (next) => [changed(next, next.status.generation, next.spec.addresses)],
      });
    }
    return {};
  }

  private subsets(namespace: string, selector: Record<string, string>): EndpointsSubsets {
    // An empty selector selects nothing, as for a Kubernetes Service without one.
    const pods = Object.keys(selector).length ? this.cache.pods.list({ namespace, labels: selector }) : [];
    // A pod publishes its one container port; that is the Service's targetPort.
    const published = pods
      .flatMap((pod): { pod: Pod; address: EndpointAddress }[] => {
        const address = podAddress(pod);
        return address ? [{ pod, address: { ...address, targetRef: { kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } } }] : [];
      })
      .sort((a, b) => a.pod.metadata.name.localeCompare(b.pod.metadata.name));
    // A pod whose node stopped answering serves nothing, whatever it last reported.
    const serving = (pod: Pod) => isReady(pod) && isNodeReady(this.cache.nodes.get(NODE_SCOPE, pod.spec.nodeName));
    return {
      addresses: published.filter(({ pod }) => serving(pod)).map(({ address }) => address),
      notReadyAddresses: published.filter(({ pod }) => !serving(pod)).map(({ address }) => address),
    };
  }

  /**
   * Monotonic across the Service's deletion and re-creation (never below the wall clock in
   * ms), so a router holding an older generation of the same name always takes a newer one.
   */
  private nextGeneration(record: EndpointsRecord | undefined): number {
    return Math.max((record?.status.generation ?? 0) + 1, this.settings.now());
  }
}

/** The `endpoints.changed` a write of `record` owes, its id unique to that generation. */
function changed(record: EndpointsRecord, generation: number, addresses: EndpointAddress[]): OutboxEvent<'endpoints.changed'> {
  const { namespace, name } = record.metadata;
  return {
    id: `endpoints:${namespace}/${name}:${generation}`,
    type: 'endpoints.changed',
    data: { namespace, name, generation, addresses: addresses.map((a) => ({ ip: a.ip, port: a.port, pod: a.targetRef.name })) },
  };
}

function notFoundIsFine(error: { status?: { code?: number } }) {
  if (error.status?.code !== 404) throw error;
}
