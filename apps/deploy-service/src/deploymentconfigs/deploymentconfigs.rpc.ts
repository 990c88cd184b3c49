import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '@paas/platform/events';
import { RpcServer } from '@paas/platform/rpc';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { DeploymentLogs } from './deployment-logs';
import { ImageChangeTriggerController } from './image-change-trigger';

/** `deploymentconfigs.*` requests, and `imagestream.updated` events, which enqueue the DCs whose ImageChange triggers they name. */
@Injectable()
export class DeploymentConfigsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(DeploymentConfigsService) private readonly dcs: DeploymentConfigsService,
    @Inject(DeploymentLogs) private readonly logs: DeploymentLogs,
    @Inject(ImageChangeTriggerController) private readonly imageTriggers: ImageChangeTriggerController,
  ) {}

  async onModuleInit() {
    this.rpc.handle('deploymentconfigs.create', (req) => this.dcs.create(req));
    this.rpc.handle('deploymentconfigs.get', (req) => this.dcs.get(req));
    this.rpc.handle('deploymentconfigs.list', (req) => this.dcs.list(req));
    this.rpc.handle('deploymentconfigs.update', (req) => this.dcs.update(req));
    this.rpc.handle('deploymentconfigs.delete', (req) => this.dcs.delete(req));
    this.rpc.handle('deploymentconfigs.scale', (req) => this.dcs.scale(req));
    this.rpc.handle('deploymentconfigs.instantiate', (req) => this.dcs.instantiate(req));
    this.rpc.handle('deploymentconfigs.rollback', (req) => this.dcs.rollback(req));
    this.rpc.handle('deploymentconfigs.cancel', (req) => this.dcs.cancel(req));
    this.rpc.handle('deploymentconfigs.log', (req) => this.logs.read(req));
    await this.events.subscribe('imagestream.updated', ({ data }) => this.imageTriggers.imageStreamUpdated(data.namespace, data.name, data.tag));
  }
}
