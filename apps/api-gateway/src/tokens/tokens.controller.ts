import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import type { TokenResponse } from '@paas/contracts/auth';
import { API_VERSION } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import type { TokenOwner } from './api-token.repository';
import { TokensService } from './tokens.service';

/** `/api/v1/tokens`: the caller's own Bearer tokens: mint one (shown once), list them, revoke one by name. */
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @HttpCode(201)
  @AuthorizeCluster('create', 'tokens')
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<TokenResponse> {
    return this.tokens.mint(ownerOf(principal), body);
  }

  @Get()
  @AuthorizeCluster('list', 'tokens')
  async list(@CurrentPrincipal() principal: Principal) {
    return { apiVersion: API_VERSION, kind: 'APITokenList', metadata: {}, items: await this.tokens.list(ownerOf(principal)) };
  }

  /** Cluster-admins revoke anyone's, namespace admins their service accounts'. */
  @Delete(':name')
  @AuthorizeCluster('delete', 'tokens')
  revoke(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    return this.tokens.revoke(principal, name);
  }
}

export function ownerOf(principal: Principal): TokenOwner {
  if (principal.kind === 'User') return { kind: 'User', user: principal.name };
  if (principal.kind === 'ServiceAccount') return { kind: 'ServiceAccount', namespace: principal.namespace, serviceAccount: principal.serviceAccount };
  throw ApiError.of('Forbidden', 'anonymous callers have no tokens');
}
