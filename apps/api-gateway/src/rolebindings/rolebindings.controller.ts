import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { resourceList } from '@paas/platform/rpc-input';
import { Authorize } from '../auth/authorize.decorator';
import { RoleBindingsService } from './rolebindings.service';

/** `/api/v1/namespaces/{ns}/rolebindings[/{name}]`: viewers read them, admins change them. */
@Controller('api/v1/namespaces/:namespace/rolebindings')
export class RoleBindingsController {
  constructor(private readonly roleBindings: RoleBindingsService) {}

  @Post()
  @HttpCode(201)
  @Authorize('create', 'rolebindings')
  create(@Param('namespace') namespace: string, @Body() body: unknown) {
    return this.roleBindings.create(namespace, body);
  }

  @Get()
  @Authorize('list', 'rolebindings')
  async list(@Param('namespace') namespace: string) {
    return resourceList('RoleBinding', await this.roleBindings.list(namespace));
  }

  @Get(':name')
  @Authorize('get', 'rolebindings')
  get(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.roleBindings.get(namespace, name);
  }

  @Put(':name')
  @Authorize('update', 'rolebindings')
  update(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body: unknown) {
    return this.roleBindings.update(namespace, name, body);
  }

  @Delete(':name')
  @Authorize('delete', 'rolebindings')
  delete(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.roleBindings.delete(namespace, name);
  }
}
