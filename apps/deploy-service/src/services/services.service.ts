import { Inject, Injectable } from '@nestjs/common';
import { serviceInput, type Service } from '@paas/contracts/deployments';
import type { ResourceList } from '@paas/contracts/meta';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { listsFromCache } from '@paas/platform/informer';
import { dryRunPreview, listResponse, parseBody, updatedFrom } from '@paas/platform/rpc-input';
import { DeployInformers } from '../informers';
import type { Store } from '../store';
import { ServiceRepository } from './service.repository';

const KIND = 'Service';

/** The Service API; every change reaches the Endpoints controller as a change of the Service (deleted with it). */
@Injectable()
export class ServicesService {
  constructor(
    @Inject(ServiceRepository) private readonly services: Store<Service>,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'services'>,
  ) {}

  get({ namespace, name }: GetRequest): Promise<Service> {
    return this.services.get(namespace, name);
  }

  list(request: ListRequest): Promise<ResourceList<Service>> {
    return listResponse(KIND, listsFromCache(this.informers.services, this.services), request);
  }

  async create({ namespace, body, dryRun }: CreateRequest): Promise<Service> {
    const input = parseBody(serviceInput, body, KIND, namespace);
    const resource = {
      metadata: { name: input.metadata.name, namespace, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
      spec: input.spec,
      status: {},
    };
    if (dryRun) {
      if (await this.services.find(namespace, input.metadata.name)) throw ApiError.alreadyExists(KIND, input.metadata.name);
      return dryRunPreview<Service>(KIND, resource);
    }
    return this.services.create(resource);
  }

  async update({ namespace, name, body }: UpdateRequest): Promise<Service> {
    const input = parseBody(serviceInput, body, KIND, namespace);
    if (input.metadata.name !== name) throw ApiError.invalid(KIND, name, 'metadata.name', `must be "${name}", the name being updated`);
    return this.services.update(namespace, name, (current) => updatedFrom(current, input), { resourceVersion: input.metadata.resourceVersion });
  }

  async delete({ namespace, name }: DeleteRequest): Promise<Status> {
    await this.services.delete(namespace, name);
    return successStatus(`service "${name}" deleted`, { kind: KIND, name });
  }
}
