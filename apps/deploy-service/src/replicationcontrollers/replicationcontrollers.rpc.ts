import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listsFromCache } from '@paas/platform/informer';
import { listResponse } from '@paas/platform/rpc-input';
import { DeployInformers } from '../informers';
import { ReplicationControllerRepository } from './replicationcontroller.repository';

/** Read-only: ReplicationControllers are made and scaled by the DeploymentConfig controller. */
@Injectable()
export class ReplicationControllersRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ReplicationControllerRepository) private readonly rcs: ReplicationControllerRepository,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'rcs'>,
  ) {}

  onModuleInit() {
    this.rpc.handle('replicationcontrollers.get', ({ namespace, name }) => this.rcs.get(namespace, name));
    this.rpc.handle('replicationcontrollers.list', (request) => listResponse('ReplicationController', listsFromCache(this.informers.rcs, this.rcs), request));
  }
}
