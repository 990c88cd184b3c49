import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listResponse } from '@paas/platform/rpc-input';
import { binaryBuildRequest, createRequest, detectRequest, handleParsed, instantiateRequest, listRequest, namedRequest, updateRequest, webhookRequest } from '../rpc-requests';
import { BuildConfigCache } from './buildconfig-cache';
import { BuildConfigRepository } from './buildconfig.repository';
import { CreateBuildConfig } from './create-buildconfig.usecase';
import { DeleteBuildConfig } from './delete-buildconfig.usecase';
import { DescribeBuilders } from './describe-builders.usecase';
import { DetectBuildStrategy } from './detect-strategy.usecase';
import { InstantiateBuild } from './instantiate-build.usecase';
import { ReceiveWebhook } from './receive-webhook.usecase';
import { UpdateBuildConfig } from './update-buildconfig.usecase';

/** `buildconfigs.*` over NATS request/reply: parse the request, call the use case. */
@Injectable()
export class BuildConfigsRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly buildConfigs: BuildConfigRepository,
    private readonly cache: BuildConfigCache,
    private readonly create: CreateBuildConfig,
    private readonly update: UpdateBuildConfig,
    private readonly remove: DeleteBuildConfig,
    private readonly instantiate: InstantiateBuild,
    private readonly webhook: ReceiveWebhook,
    private readonly detect: DetectBuildStrategy,
    private readonly builders: DescribeBuilders,
  ) {}

  onModuleInit() {
    const kind = 'BuildConfig';
    handleParsed(this.rpc, 'buildconfigs.create', createRequest, kind, (r) => this.create.execute(r.namespace, r.body, r.dryRun));
    handleParsed(this.rpc, 'buildconfigs.get', namedRequest, kind, (r) => this.buildConfigs.get(r.namespace, r.name));
    handleParsed(this.rpc, 'buildconfigs.list', listRequest, kind, (r) => listResponse(kind, this.cache.pages, r));
    handleParsed(this.rpc, 'buildconfigs.update', updateRequest, kind, (r) => this.update.execute(r.namespace, r.name, r.body));
    handleParsed(this.rpc, 'buildconfigs.delete', namedRequest, kind, (r) => this.remove.execute(r.namespace, r.name));
    handleParsed(this.rpc, 'buildconfigs.instantiate', instantiateRequest, 'BuildRequest', (r) =>
      this.instantiate.execute(r.namespace, r.name, r.message ?? 'Manually triggered'),
    );
    handleParsed(this.rpc, 'buildconfigs.instantiatebinary', binaryBuildRequest, 'BinaryBuildRequest', (r) => this.instantiate.forUpload(r));
    this.rpc.handle('buildconfigs.builders', () => this.builders.execute());
    handleParsed(this.rpc, 'buildconfigs.detect', detectRequest, 'App', (r) => this.detect.execute(r));
    handleParsed(this.rpc, 'buildconfigs.webhook', webhookRequest, 'WebhookRequest', (r) => this.webhook.execute(r));
  }
}
