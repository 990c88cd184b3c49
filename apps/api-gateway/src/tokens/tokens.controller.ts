import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { tokenRequest, type TokenResponse } from '@paas/contracts/auth';
import { API_VERSION } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import type { TokenOwner } from './api-token.repository';
import { TokenMinter } from './token-minter';

/** A user's API tokens default to a day; `expiresInSeconds` asks for another lifetime. */
const DEFAULT_API_TOKEN_SECONDS = 24 * 3600;

/** `POST /api/v1/tokens`: a Bearer token for the caller, shown once. */
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly minter: TokenMinter) {}

  @Post()
  @HttpCode(201)
  @AuthorizeCluster('create', 'tokens')
  async create(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<TokenResponse> {
    const input = validate(tokenRequest, body ?? {}, 'Token');
    if (!input.ok) throw new ApiError(input.status);
    const minted = await this.minter.mint(ownerOf(principal), input.value.expiresInSeconds ?? DEFAULT_API_TOKEN_SECONDS);
    return { apiVersion: API_VERSION, kind: 'Token', subject: principal.name, ...minted };
  }
}

function ownerOf(principal: Principal): TokenOwner {
  if (principal.kind === 'User') return { kind: 'User', user: principal.name };
  if (principal.kind === 'ServiceAccount') return { kind: 'ServiceAccount', namespace: principal.namespace, serviceAccount: principal.serviceAccount };
  throw ApiError.of('Forbidden', 'anonymous callers get no tokens');
}
