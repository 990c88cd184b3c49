import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listResponse } from '@paas/platform/rpc-input';
import { PodRepository } from './pod.repository';

/** Read-only: pods are made and removed by the ReplicationController controller. */
@Injectable()
export class PodsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(PodRepository) private readonly pods: PodRepository,
  ) {}

  onModuleInit() {
    this.rpc.handle('pods.get', ({ namespace, name }) => this.pods.get(namespace, name));
    this.rpc.handle('pods.list', (request) => listResponse('Pod', this.pods, request));
  }
}
