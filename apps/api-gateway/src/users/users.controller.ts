import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { API_VERSION } from '@paas/contracts/meta';
import { successStatus } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { resourceList } from '@paas/platform/rpc-input';
import type { FastifyRequest } from 'fastify';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { forbiddenMessage } from '../auth/policy';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { TokensService } from '../tokens/tokens.service';
import { ChangePassword, userOf } from './change-password.usecase';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

/**
 * `/api/v1/users`: cluster-admins manage users; `GET /api/v1/users/~` tells anyone who they
 * are; a user (`~` or their own name) lists their tokens and changes their password, a
 * cluster-admin anyone's.
 */
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly userRepository: UserRepository,
    private readonly tokens: TokensService,
    private readonly changePassword: ChangePassword,
  ) {}

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

  @Get(':name/tokens')
  @AuthorizeCluster('list', 'users/tokens')
  async listTokens(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    const { user, self } = userOf(principal, name);
    if (!self && !principal.clusterAdmin) throw ApiError.of('Forbidden', forbiddenMessage(principal, { verb: 'list', resource: 'users/tokens' }), { kind: 'User', name: user });
    if (!self) await this.userRepository.get(CLUSTER_SCOPE, user);
    return { apiVersion: API_VERSION, kind: 'APITokenList', metadata: {}, items: await this.tokens.list({ kind: 'User', user }) };
  }

  @Put(':name/password')
  @AuthorizeCluster('update', 'users/password')
  setPassword(@Param('name') name: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    return this.changePassword.execute(principal, name, body, request);
  }

  @Delete(':name')
  @AuthorizeCluster('delete', 'users')
  async delete(@Param('name') name: string) {
    await this.users.delete(name);
    return successStatus(`user "${name}" deleted`, { kind: 'User', name });
  }
}
