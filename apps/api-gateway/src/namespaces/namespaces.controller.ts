import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { API_VERSION } from '@paas/contracts/meta';
import { Authorizer } from '../auth/authorizer';
import { Authorize, AuthorizeCluster } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { DeleteNamespaceUseCase } from './delete-namespace.usecase';
import { NamespacesService } from './namespaces.service';

@Controller('api/v1/namespaces')
export class NamespacesController {
  constructor(
    private readonly namespaces: NamespacesService,
    private readonly deleteNamespace: DeleteNamespaceUseCase,
    private readonly authorizer: Authorizer,
  ) {}

  /** The namespaces the caller holds a role in (all of them for a cluster-admin). */
  @Get()
  @AuthorizeCluster('list', 'namespaces')
  async list(@CurrentPrincipal() principal: Principal) {
    const visible = await this.authorizer.namespaceFilter(principal);
    const items = (await this.namespaces.list()).filter((namespace) => visible(namespace.metadata.name));
    return { apiVersion: API_VERSION, kind: 'NamespaceList', metadata: {}, items };
  }

  @Post()
  @HttpCode(201)
  @AuthorizeCluster('create', 'namespaces')
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.namespaces.create(body, principal);
  }

  @Get(':name')
  @Authorize('get', 'namespaces', { namespaceParam: 'name' })
  get(@Param('name') name: string) {
    return this.namespaces.get(name);
  }

  @Put(':name')
  @Authorize('update', 'namespaces', { namespaceParam: 'name' })
  update(@Param('name') name: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.namespaces.update(name, body, principal);
  }

  @Delete(':name')
  @Authorize('delete', 'namespaces', { namespaceParam: 'name' })
  delete(@Param('name') name: string) {
    return this.deleteNamespace.execute(name);
  }
}
