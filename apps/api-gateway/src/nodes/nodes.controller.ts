import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { RpcClient } from '@paas/platform/rpc';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { CREATE_TIMEOUT_MS } from '../timeouts';

/**
 * `/api/v1/nodes`: the Docker engines pods run on (cluster-scoped, cluster-admins only). A
 * node is registered by its engine's URL; `spec.unschedulable` cordons it, `drain` moves its
 * pods elsewhere, each replaced before it stops.
 */
@Controller('api/v1/nodes')
export class NodesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @AuthorizeCluster('create', 'nodes')
  create(@Body() body: unknown, @Query('dryRun') dryRun?: string) {
    return this.rpc.request('nodes.create', { body, dryRun: dryRun === 'All' }, { timeoutMs: CREATE_TIMEOUT_MS });
  }

  @Get()
  @AuthorizeCluster('list', 'nodes')
  list() {
    return this.rpc.request('nodes.list', {});
  }

  @Get(':name')
  @AuthorizeCluster('get', 'nodes')
  get(@Param('name') name: string) {
    return this.rpc.request('nodes.get', { name });
  }

  @Put(':name')
  @AuthorizeCluster('update', 'nodes')
  update(@Param('name') name: string, @Body() body: unknown) {
    return this.rpc.request('nodes.update', { name, body }, { timeoutMs: CREATE_TIMEOUT_MS });
  }

  @Post(':name/drain')
  @AuthorizeCluster('update', 'nodes')
  drain(@Param('name') name: string) {
    return this.rpc.request('nodes.drain', { name });
  }

  @Delete(':name')
  @AuthorizeCluster('delete', 'nodes')
  delete(@Param('name') name: string) {
    return this.rpc.request('nodes.delete', { name });
  }
}
