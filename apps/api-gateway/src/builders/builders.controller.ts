import { Controller, Get, Param } from '@nestjs/common';
import type { CatalogBuilder } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import { AuthorizeCluster } from '../auth/authorize.decorator';

/**
 * `/api/v1/builders`: the builder catalog new-app picks from (cluster-scoped, readable by
 * every user and service account), each with its image's description and s2i usage text.
 */
@Controller('api/v1/builders')
export class BuildersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @AuthorizeCluster('list', 'builders')
  list() {
    return this.rpc.request('buildconfigs.builders', {});
  }

  @Get(':name')
  @AuthorizeCluster('get', 'builders')
  async get(@Param('name') name: string): Promise<CatalogBuilder & { apiVersion: 'v1'; kind: 'Builder' }> {
    const builder = (await this.rpc.request('buildconfigs.builders', {})).items.find((item) => item.name === name);
    if (!builder) throw ApiError.notFound('Builder', name);
    return { apiVersion: 'v1', kind: 'Builder', ...builder };
  }
}
