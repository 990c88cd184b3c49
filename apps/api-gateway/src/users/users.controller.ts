import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { successStatus } from '@paas/contracts/status';
import { resourceList } from '@paas/platform/rpc-input';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { UsersService } from './users.service';

/** `/api/v1/users`: cluster-admins manage users; `GET /api/v1/users/~` tells anyone who they are. */
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @HttpCode(201)
  @AuthorizeCluster('create', 'users')
  create(@Body() body: unknown) {
    return this.users.create(body);
  }

  @Get()
  @AuthorizeCluster('list', 'users')
  async list() {
    return resourceList('User', await this.users.list());
  }

  /** The caller, as OpenShift's `oc whoami` asks it. */
  @Get('~')
  @AuthorizeCluster('get', 'users/~')
  whoami(@CurrentPrincipal() principal: Principal) {
    return { apiVersion: 'v1', kind: 'Identity', name: principal.name, type: principal.kind, clusterAdmin: principal.clusterAdmin };
  }

  @Get(':name')
  @AuthorizeCluster('get', 'users')
  get(@Param('name') name: string) {
    return this.users.get(name);
  }

  @Delete(':name')
  @AuthorizeCluster('delete', 'users')
  async delete(@Param('name') name: string) {
    await this.users.delete(name);
    return successStatus(`user "${name}" deleted`, { kind: 'User', name });
  }
}
