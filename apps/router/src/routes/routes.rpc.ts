import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listResponse } from '@paas/platform/rpc-input';
import { CreateRoute } from './create-route.usecase';
import { DeleteRoute } from './delete-route.usecase';
import { assertKey, assertNamespace } from './route-input';
import { RouteRepository } from './route.repository';
import { UpdateRoute } from './update-route.usecase';

/** `routes.*` over NATS request/reply: thin, the use cases hold the logic. */
@Injectable()
export class RoutesRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly routes: RouteRepository,
    private readonly createRoute: CreateRoute,
    private readonly updateRoute: UpdateRoute,
    private readonly deleteRoute: DeleteRoute,
  ) {}

  onModuleInit() {
    this.rpc.handle('routes.create', (request) => this.createRoute.execute(request));
    this.rpc.handle('routes.update', (request) => this.updateRoute.execute(request));
    this.rpc.handle('routes.delete', (request) => this.deleteRoute.execute(request));
    this.rpc.handle('routes.get', async (request) => {
      const { namespace, name } = assertKey(request);
      return this.routes.get(namespace, name);
    });
    this.rpc.handle('routes.list', async (request) => {
      const namespace = request.namespace === undefined ? undefined : assertNamespace(request.namespace);
      return listResponse('Route', this.routes, { ...request, namespace });
    });
  }
}
