import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { API_VERSION } from '@paas/contracts/meta';
import { DeleteNamespaceUseCase } from './delete-namespace.usecase';
import { NamespacesService } from './namespaces.service';

@Controller('api/v1/namespaces')
export class NamespacesController {
  constructor(
    private readonly namespaces: NamespacesService,
    private readonly deleteNamespace: DeleteNamespaceUseCase,
  ) {}

  @Get()
  async list() {
    return { apiVersion: API_VERSION, kind: 'NamespaceList', metadata: {}, items: await this.namespaces.list() };
  }

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.namespaces.create(body);
  }

  @Get(':name')
  get(@Param('name') name: string) {
    return this.namespaces.get(name);
  }

  @Delete(':name')
  delete(@Param('name') name: string) {
    return this.deleteNamespace.execute(name);
  }
}
