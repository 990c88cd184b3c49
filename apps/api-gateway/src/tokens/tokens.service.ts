import { Inject, Injectable } from '@nestjs/common';
import { TOKEN_NAME_PREFIX, serviceAccountSubject, tokenRequest, type ApiTokenInfo, type TokenResponse } from '@paas/contracts/auth';
import { API_VERSION } from '@paas/contracts/meta';
import { successStatus, type Status } from '@paas/contracts/status';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { Authorizer } from '../auth/authorizer';
import type { Principal } from '../auth/principal';
import { GATEWAY_SETTINGS, type GatewaySettings, type TokenLifetimeSettings } from '../gateway-settings';
import { ApiTokenRepository, type ApiToken, type TokenOwner } from './api-token.repository';
import { TokenMinter } from './token-minter';

const TOKEN_NAME = new RegExp(`^${TOKEN_NAME_PREFIX}([0-9a-f]{64})$`);

/**
 * How long a new token lives: what was asked for, up to the maximum (asking for more is a 422
 * naming `expiresInSeconds`); else a day for a user's token and the maximum for a service
 * account's (a CI system renews it).
 */
export function tokenLifetimeSeconds(requested: number | undefined, owner: TokenOwner['kind'], settings: TokenLifetimeSettings): number {
  if (requested !== undefined && requested > settings.maxSeconds) {
    throw ApiError.invalid('Token', undefined, 'expiresInSeconds', `must be at most ${settings.maxSeconds} (the longest a token may live)`);
  }
  return requested ?? (owner === 'User' ? settings.defaultSeconds : settings.maxSeconds);
}

/** When a token ends; one made before lifetimes were bounded ends the maximum lifetime after it was made. */
export function expirationOf(token: Pick<ApiToken, 'createdAt' | 'expiresAt'>, settings: TokenLifetimeSettings): string {
  return token.expiresAt ?? new Date(Date.parse(token.createdAt) + settings.maxSeconds * 1000).toISOString();
}

/** The owner's name as a token's subject. */
export function subjectOf(owner: TokenOwner): string {
  return owner.kind === 'User' ? owner.user : serviceAccountSubject(owner.namespace, owner.serviceAccount);
}

/** API and service-account tokens: minted with a bounded lifetime, listed without their secret, revoked by name. */
@Injectable()
export class TokensService {
  private readonly lifetimes: TokenLifetimeSettings;

  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly minter: TokenMinter,
    private readonly authorizer: Authorizer,
    @Inject(GATEWAY_SETTINGS) settings: GatewaySettings,
  ) {
    this.lifetimes = settings.tokens;
  }

  /** `{expiresInSeconds?}` → a new token for `owner`, shown this once. */
  async mint(owner: TokenOwner, body: unknown): Promise<TokenResponse> {
    const input = validate(tokenRequest, body ?? {}, 'Token');
    if (!input.ok) throw new ApiError(input.status);
    const minted = await this.minter.mint(owner, tokenLifetimeSeconds(input.value.expiresInSeconds, owner.kind, this.lifetimes));
    return { apiVersion: API_VERSION, kind: 'Token', metadata: { name: nameOf(minted.hash) }, subject: subjectOf(owner), token: minted.token, expiresAt: minted.expiresAt };
  }

  async list(owner: TokenOwner): Promise<ApiTokenInfo[]> {
    const now = new Date().toISOString();
    return (await this.tokens.listOf(owner)).map((token) => this.infoOf(token)).filter((info) => info.spec.expirationTimestamp > now);
  }

  /** Its owner (a user, or the service account itself), an admin of a service account's namespace, or a cluster-admin; to anyone else it does not exist. */
  async revoke(principal: Principal, name: string): Promise<Status> {
    const hash = TOKEN_NAME.exec(name)?.[1];
    const token = hash ? await this.tokens.findByHash(hash) : undefined;
    if (!token || !(await this.mayRevoke(principal, token))) throw ApiError.notFound('Token', name);
    await this.tokens.delete(token.hash);
    return successStatus(`token "${name}" of ${subjectOf(token)} revoked`, { kind: 'APIToken', name });
  }

  private async mayRevoke(principal: Principal, token: ApiToken): Promise<boolean> {
    if (principal.clusterAdmin || principal.name === subjectOf(token)) return true;
    return token.kind === 'ServiceAccount' && (await this.authorizer.roleIn(principal, token.namespace)) === 'admin';
  }

  private infoOf(token: ApiToken): ApiTokenInfo {
    return {
      apiVersion: API_VERSION,
      kind: 'APIToken',
      metadata: { name: nameOf(token.hash), creationTimestamp: token.createdAt },
      spec: { subject: subjectOf(token), expirationTimestamp: expirationOf(token, this.lifetimes) },
      status: token.lastUsedAt ? { lastUsedTimestamp: token.lastUsedAt } : {},
    };
  }
}

function nameOf(hash: string): string {
  return `${TOKEN_NAME_PREFIX}${hash}`;
}
