import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { createRequest, instantiateRequest, labelSelector, listRequest, namedRequest, parseRequest, resourceList, updateRequest } from '../rpc-requests';
import { BuildConfigRepository } from './buildconfig.repository';
import { CreateBuildConfig } from './create-buildconfig.usecase';
import { DeleteBuildConfig } from './delete-buildconfig.usecase';
import { InstantiateBuild } from './instantiate-build.usecase';
import { UpdateBuildConfig } from './update-buildconfig.usecase';

/** `buildconfigs.*` over NATS request/reply: parse the request, call the use case. */
@Injectable()
export class BuildConfigsRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly buildConfigs: BuildConfigRepository,
    private readonly create: CreateBuildConfig,
    private readonly update: UpdateBuildConfig,
    private readonly remove: DeleteBuildConfig,
    private readonly instantiate: InstantiateBuild,
  ) {}

  onModuleInit() {
    this.rpc.handle('buildconfigs.create', async (request) => {
      const { namespace, body, dryRun } = parseRequest(createRequest, request, 'BuildConfig');
      return this.create.execute(namespace, body, dryRun);
    });
    this.rpc.handle('buildconfigs.get', async (request) => {
      const { namespace, name } = parseRequest(namedRequest, request, 'BuildConfig');
      return this.buildConfigs.get(namespace, name);
    });
    this.rpc.handle('buildconfigs.list', async (request) => {
      const { namespace, labelSelector: selector } = parseRequest(listRequest, request, 'BuildConfigList');
      return resourceList('BuildConfig', await this.buildConfigs.list({ namespace, labels: labelSelector(selector) }));
    });
    this.rpc.handle('buildconfigs.update', async (request) => {
      const { namespace, name, body } = parseRequest(updateRequest, request, 'BuildConfig');
      return this.update.execute(namespace, name, body);
    });
    this.rpc.handle('buildconfigs.delete', async (request) => {
      const { namespace, name } = parseRequest(namedRequest, request, 'BuildConfig');
      return this.remove.execute(namespace, name);
    });
    this.rpc.handle('buildconfigs.instantiate', async (request) => {
      const { namespace, name, message } = parseRequest(instantiateRequest, request, 'BuildRequest');
      return this.instantiate.execute(namespace, name, message ?? 'Manually triggered');
    });
  }
}
