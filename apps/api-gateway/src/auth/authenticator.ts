import { Injectable } from '@nestjs/common';
import { serviceAccountSubject } from '@paas/contracts/auth';
import { ApiError } from '@paas/platform/api-error';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { ServiceAccountRepository } from '../serviceaccounts/serviceaccount.repository';
import { ApiTokenRepository } from '../tokens/api-token.repository';
import { hashToken, looksLikeToken } from '../tokens/token-minter';
import { UserRepository } from '../users/user.repository';
import { PasswordLogin, type LoginRequest } from './password-login.usecase';
import type { Principal } from './principal';

/** What authentication reads of a request: its credentials, and for a password check where it came from. */
export type AuthenticationRequest = LoginRequest & { headers: { authorization?: string } };

export const unauthorized = (message: string) => ApiError.of('Unauthorized', message);

/**
 * `Authorization: Bearer <token>` (an API or service-account token) or `Basic
 * base64(user:password)` (a user's password, or any name with a token as the password) to
 * the caller. No header: undefined (anonymous). Bad credentials: 401; a password check
 * during a login penalty: 429 (tokens are never throttled).
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly users: UserRepository,
    private readonly passwordLogin: PasswordLogin,
    private readonly tokens: ApiTokenRepository,
    private readonly serviceAccounts: ServiceAccountRepository,
  ) {}

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
    if (stored.expiresAt && Date.parse(stored.expiresAt) <= Date.now()) {
      await this.tokens.delete(stored.hash);
      return undefined;
    }
    if (stored.kind === 'User') return this.userPrincipal(stored.user);
    const { namespace, serviceAccount } = stored;
    if (!(await this.serviceAccounts.find(namespace, serviceAccount))) return undefined;
    return { kind: 'ServiceAccount', name: serviceAccountSubject(namespace, serviceAccount), namespace, serviceAccount, clusterAdmin: false };
  }

  private async byPassword(user: string, password: string, request: LoginRequest): Promise<Principal | undefined> {
    return (await this.passwordLogin.check(user, password, request)) ? this.userPrincipal(user) : undefined;
  }

  /** The user as they are now: a deleted user's password or token opens nothing. */
  private async userPrincipal(name: string): Promise<Principal | undefined> {
    const user = await this.users.find(CLUSTER_SCOPE, name);
    return user ? { kind: 'User', name, clusterAdmin: user.spec.clusterAdmin } : undefined;
  }
}
