import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { labelSelectorOf, resourceList } from '@paas/platform/rpc-input';
import { ReplicationControllerRepository } from './replicationcontroller.repository';

/** Read-only: ReplicationControllers are made and scaled by the DeploymentConfig controller. */
@Injectable()
export class ReplicationControllersRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ReplicationControllerRepository) private readonly rcs: ReplicationControllerRepository,
  ) {}

  onModuleInit() {
    this.rpc.handle('replicationcontrollers.get', ({ namespace, name }) => this.rcs.get(namespace, name));
    this.rpc.handle('replicationcontrollers.list', async ({ namespace, labelSelector }) =>
      resourceList('ReplicationController', await this.rcs.list({ namespace, labels: labelSelectorOf(labelSelector) })),
    );
  }
}
