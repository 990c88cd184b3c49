import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listsFromCache } from '@paas/platform/informer';
import { listResponse } from '@paas/platform/rpc-input';
import { DeployInformers } from '../informers';
import { EndpointsRepository, endpointsView } from './endpoints.repository';

/** Read-only; `endpoints.list` without a namespace answers every namespace (routers bootstrap from it). */
@Injectable()
export class EndpointsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(EndpointsRepository) private readonly endpoints: EndpointsRepository,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'endpoints'>,
  ) {}

  onModuleInit() {
    this.rpc.handle('endpoints.get', async ({ namespace, name }) => endpointsView(await this.endpoints.get(namespace, name)));
    this.rpc.handle('endpoints.list', (request) => listResponse('Endpoints', listsFromCache(this.informers.endpoints, this.endpoints), request, endpointsView));
  }
}
