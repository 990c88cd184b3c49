import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listResponse } from '@paas/platform/rpc-input';
import { EndpointsRepository, endpointsView } from './endpoints.repository';

/** Read-only; `endpoints.list` without a namespace answers every namespace (routers bootstrap from it). */
@Injectable()
export class EndpointsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(EndpointsRepository) private readonly endpoints: EndpointsRepository,
  ) {}

  onModuleInit() {
    this.rpc.handle('endpoints.get', async ({ namespace, name }) => endpointsView(await this.endpoints.get(namespace, name)));
    this.rpc.handle('endpoints.list', (request) => listResponse('Endpoints', this.endpoints, request, endpointsView));
  }
}
