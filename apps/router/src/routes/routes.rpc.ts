import { Injectable, type OnModuleInit } from '@nestjs/common';
import { API_VERSION, parseLabelSelector, type Labels } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import { RpcServer } from '@paas/platform/rpc';
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
      const items = await this.routes.list({ namespace, labels: labelsOf(request.labelSelector) });
      return { apiVersion: API_VERSION, kind: 'RouteList', metadata: {}, items };
    });
  }
}

function labelsOf(selector: string | undefined): Labels {
  try {
    return parseLabelSelector(selector);
  } catch (error) {
    throw ApiError.of('BadRequest', `invalid labelSelector: ${(error as Error).message}`);
  }
}
