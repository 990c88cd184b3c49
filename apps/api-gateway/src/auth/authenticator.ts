import { Inject, Injectable } from '@nestjs/common';
import { serviceAccountSubject } from '@paas/contracts/auth';
import { ApiError } from '@paas/platform/api-error';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { GATEWAY_SETTINGS, type GatewaySettings, type TokenLifetimeSettings } from '../gateway-settings';
import { ServiceAccountRepository } from '../serviceaccounts/serviceaccount.repository';
import { ApiTokenRepository, type ApiToken } from '../tokens/api-token.repository';
import { expirationOf } from '../tokens/tokens.service';
import { hashToken, looksLikeToken } from '../tokens/token-minter';
import { UserRepository } from '../users/user.repository';
import { PasswordLogin, type LoginRequest } from './password-login.usecase';
import type { Principal } from './principal';

/** What authentication reads of a request: its credentials, and for a password check where it came from. */
export type AuthenticationRequest = LoginRequest & { headers: { authorization?: string } };

export const unauthorized = (message: string) => ApiError.of('Unauthorized', message);

/** A token's `lastUsedAt` is written at most this often: a write per Bearer call would slow every call. */
const LAST_USED_GRANULARITY_MS = 5 * 60_000;

/**
 * `Authorization: Bearer <token>` (an API or service-account token) or `Basic
 * base64(user:password)` (a user's password, or any name with a token as the password) to
 * the caller. No header: undefined (anonymous). Bad credentials: 401; a password check
 * during a login penalty: 429 (tokens are never throttled).
 */
@Injectable()
export class Authenticator {
  private readonly lifetimes: TokenLifetimeSettings;
  /** token hash → when this replica last wrote its `lastUsedAt`, so a burst of calls writes it once. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly users: UserRepository,
    private readonly passwordLogin: PasswordLogin,
    private readonly tokens: ApiTokenRepository,
    private readonly serviceAccounts: ServiceAccountRepository,
    @Inject(GATEWAY_SETTINGS) settings: GatewaySettings,
  ) {
    this.lifetimes = settings.tokens;
  }

  async authenticate(request: AuthenticationRequest): Promise<Principal | undefined> {
    const { authorization } = request.headers;
    if (!authorization) return undefined;
    const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization.trim());
    const [scheme, credentials] = match ? [match[1].toLowerCase(), match[2]] : [authorization.trim().toLowerCase(), ''];
    if (scheme === 'bearer') {
      const principal = await this.byToken(credentials);
      if (!principal) throw unauthorized('the token is invalid or has expired');
      return principal;
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw unauthorized('malformed Basic credentials: expected base64(user:password)');
      const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      const principal = (looksLikeToken(password) ? await this.byToken(password) : undefined) ?? (await this.byPassword(user, password, request));
      if (!principal) throw unauthorized('invalid username or password');
      return principal;
    }
    throw unauthorized(`unsupported authorization scheme "${scheme}": use Basic or Bearer`);
  }

  private async byToken(token: string): Promise<Principal | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const stored = await this.tokens.findByHash(hashToken(token));
    if (!stored) return undefined;
    const now = Date.now();
    if (Date.parse(expirationOf(stored, this.lifetimes)) <= now) {
      await this.tokens.delete(stored.hash);
      return undefined;
    }
    this.noteUse(stored, now);
    if (stored.kind === 'User') return this.userPrincipal(stored.user);
    const { namespace, serviceAccount } = stored;
    if (!(await this.serviceAccounts.find(namespace, serviceAccount))) return undefined;
    return { kind: 'ServiceAccount', name: serviceAccountSubject(namespace, serviceAccount), namespace, serviceAccount, clusterAdmin: false };
  }

  private async byPassword(user: string, password: string, request: LoginRequest): Promise<Principal | undefined> {
    return (await this.passwordLogin.check(user, password, request)) ? this.userPrincipal(user) : undefined;
  }

  /** Not awaited: the call does not wait for the write, which comes at most every few minutes per token. */
  private noteUse(token: ApiToken, now: number): void {
    const last = Math.max(token.lastUsedAt ? Date.parse(token.lastUsedAt) : 0, this.touched.get(token.hash) ?? 0);
    if (now - last < LAST_USED_GRANULARITY_MS) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(token.hash, now);
    void this.tokens.touch(token.hash, new Date(now)).catch(() => undefined);
  }

  /** The user as they are now: a deleted user's password or token opens nothing. */
  private async userPrincipal(name: string): Promise<Principal | undefined> {
    const user = await this.users.find(CLUSTER_SCOPE, name);
    return user ? { kind: 'User', name, clusterAdmin: user.spec.clusterAdmin } : undefined;
  }
}
