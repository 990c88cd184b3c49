import { Inject, Injectable } from '@nestjs/common';
import type { ResourceList } from '@paas/contracts/meta';
import { limitRangeInput, resourceQuotaInput, type LimitRange, type ResourceQuota } from '@paas/contracts/quotas';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import type { Informer } from '@paas/platform/informer';
import { listsFromCache } from '@paas/platform/informer';
import type { AnyResource } from '@paas/platform/resource-repository';
import { dryRunPreview, listResponse, parseBody, updatedFrom } from '@paas/platform/rpc-input';
import type { z } from 'zod';
import { DeployInformers } from '../informers';
import type { Store } from '../store';
import { QuotaAdmission } from './quota-admission';
import { LimitRangeRepository, ResourceQuotaRepository } from './quota.repositories';

type Input = z.ZodType<{ metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string }; spec: unknown }>;

/** CRUD of a namespaced kind whose objects are a spec (the same for ResourceQuotas and LimitRanges); `view` what a read shows. */
class SpecResourceApi<R extends AnyResource> {
  constructor(
    private readonly kind: R['kind'],
    private readonly schema: Input,
    private readonly store: Store<R>,
    private readonly informer: Informer<R>,
    private readonly view: (resource: R) => R = (resource) => resource,
  ) {}

  async get({ namespace, name }: GetRequest): Promise<R> {
    return this.view(await this.store.get(namespace, name));
  }

  list(request: ListRequest): Promise<ResourceList<R>> {
    return listResponse(this.kind, listsFromCache(this.informer, this.store), request, this.view);
  }

  async create({ namespace, body, dryRun }: CreateRequest): Promise<R> {
    const input = parseBody(this.schema, body, this.kind, namespace);
    const resource = {
      metadata: { name: input.metadata.name, namespace, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
      spec: input.spec as R['spec'],
      status: {} as R['status'],
    };
    if (dryRun) {
      if (await this.store.find(namespace, input.metadata.name)) throw ApiError.alreadyExists(this.kind, input.metadata.name);
      return this.view(dryRunPreview<R>(this.kind, resource));
    }
    return this.view(await this.store.create(resource));
  }

  async update({ namespace, name, body }: UpdateRequest): Promise<R> {
    const input = parseBody(this.schema, body, this.kind, namespace);
    const updated = await this.store.update(namespace, name, (current) => updatedFrom(current, input as { metadata: typeof input.metadata; spec: R['spec'] }), { resourceVersion: input.metadata.resourceVersion });
    return this.view(updated);
  }

  async delete({ namespace, name }: DeleteRequest): Promise<Status> {
    await this.store.delete(namespace, name);
    return successStatus(`${this.kind.toLowerCase()} "${name}" deleted`, { kind: this.kind, name });
  }
}

/** ResourceQuotas: `status.hard` is the spec's, `status.used` what the namespace's DeploymentConfigs ask now. */
@Injectable()
export class ResourceQuotasService extends SpecResourceApi<ResourceQuota> {
  constructor(
    @Inject(ResourceQuotaRepository) store: Store<ResourceQuota>,
    @Inject(DeployInformers) informers: Pick<DeployInformers, 'resourceQuotas'>,
    @Inject(QuotaAdmission) admission: Pick<QuotaAdmission, 'used'>,
  ) {
    super('ResourceQuota', resourceQuotaInput, store, informers.resourceQuotas, (quota) => {
      const used = admission.used(quota.metadata.namespace);
      const named = Object.fromEntries(Object.keys(quota.spec.hard).map((resource) => [resource, used[resource as keyof typeof used]]));
      return { ...quota, status: { hard: quota.spec.hard, used: named } };
    });
  }
}

@Injectable()
export class LimitRangesService extends SpecResourceApi<LimitRange> {
  constructor(@Inject(LimitRangeRepository) store: Store<LimitRange>, @Inject(DeployInformers) informers: Pick<DeployInformers, 'limitRanges'>) {
    super('LimitRange', limitRangeInput, store, informers.limitRanges);
  }
}
