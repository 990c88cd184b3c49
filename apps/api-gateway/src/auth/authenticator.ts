import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { serviceAccountSubject } from '@paas/contracts/auth';
import { ApiError } from '@paas/platform/api-error';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { ServiceAccountRepository } from '../serviceaccounts/serviceaccount.repository';
import { ApiTokenRepository } from '../tokens/api-token.repository';
import { hashToken, looksLikeToken } from '../tokens/token-minter';
import { PasswordRepository, UserRepository } from '../users/user.repository';
import { verifyPassword } from './password-hash';
import type { Principal } from './principal';

/** A checked password is trusted this long without scrypt again (clients send Basic on every call). */
const VERIFIED_PASSWORD_TTL_MS = 60_000;
const VERIFIED_PASSWORDS_MAX = 1_000;

export const unauthorized = (message: string) => ApiError.of('Unauthorized', message);

/**
 * `Authorization: Bearer <token>` (an API or service-account token) or `Basic
 * base64(user:password)` (a user's password, or any name with a token as the password) to
 * the caller. No header: undefined (anonymous). Bad credentials: 401.
 */
@Injectable()
export class Authenticator {
  /** sha256(user, password) → when the check expires; never the password itself. */
  private readonly verifiedPasswords = new Map<string, number>();

  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordRepository,
    private readonly tokens: ApiTokenRepository,
    private readonly serviceAccounts: ServiceAccountRepository,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
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
      const principal = (looksLikeToken(password) ? await this.byToken(password) : undefined) ?? (await this.byPassword(user, password));
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

  private async byPassword(user: string, password: string): Promise<Principal | undefined> {
    const key = createHash('sha256').update(user).update('\0').update(password).digest('hex');
    const verifiedUntil = this.verifiedPasswords.get(key);
    if (verifiedUntil !== undefined && verifiedUntil > Date.now()) return this.userPrincipal(user);
    this.verifiedPasswords.delete(key);
    const hash = await this.passwords.hashOf(user);
    if (!hash || !(await verifyPassword(password, hash))) return undefined;
    const principal = await this.userPrincipal(user);
    if (principal) this.remember(key);
    return principal;
  }

  private remember(key: string): void {
    if (this.verifiedPasswords.size >= VERIFIED_PASSWORDS_MAX) this.verifiedPasswords.delete(this.verifiedPasswords.keys().next().value as string);
    this.verifiedPasswords.set(key, Date.now() + VERIFIED_PASSWORD_TTL_MS);
  }

  /** The user as they are now: a deleted user's password or token opens nothing. */
  private async userPrincipal(name: string): Promise<Principal | undefined> {
    const user = await this.users.find(CLUSTER_SCOPE, name);
    return user ? { kind: 'User', name, clusterAdmin: user.spec.clusterAdmin } : undefined;
  }
}
