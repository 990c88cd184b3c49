import { accessAllows, REGISTRY_SERVICE, TOKEN_ISSUER, type AccessEntry, type Jwks, type RegistryTokenClaims } from '@paas/contracts/auth';
import { verifyJwt } from '@paas/platform/jwt';
import { RegistryError } from '../distribution/errors';

/** What one request needs: repository actions, the catalog, or only to be authenticated (`/v2/`). */
export type Need = { type: 'repository'; name: string; actions: ('pull' | 'push' | 'delete')[] } | { type: 'registry'; name: 'catalog'; actions: ['*'] } | { type: 'login' };

/** Who is calling and what their token lets them do. */
export interface Caller {
  subject: string;
  /** Milliseconds since the epoch; the token is no good after it. */
  expiresAt: number;
  can(type: AccessEntry['type'], name: string, action: string): boolean;
}

/** Where clients get tokens, as the challenge tells them. */
export interface Challenge {
  realm: string;
  service: string;
}

/** The caller of a registry that checks nothing: may do anything. */
export const UNCHECKED_CALLER: Caller = { subject: 'unchecked', expiresAt: Infinity, can: () => true };

/** The token of `Authorization: Bearer <token>`, if that is what the header holds. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

/**
 * The caller a token stands for: it must be an ES256 JWT of the api-gateway (`iss`), for
 * this registry (`aud`), unexpired and signed by a key of `jwks`. Throws JwtError.
 */
export function verifyRegistryToken(token: string, jwks: Jwks): Caller {
  const claims = verifyJwt<RegistryTokenClaims>(token, jwks, { issuer: TOKEN_ISSUER, audience: REGISTRY_SERVICE });
  const access = Array.isArray(claims.access) ? claims.access : [];
  return { subject: String(claims.sub), expiresAt: claims.exp * 1000, can: (type, name, action) => accessAllows(access, type, name, action) };
}

/** Throws UNAUTHORIZED with `error="insufficient_scope"` unless the caller may do all `need` asks. */
export function requireAccess(caller: Caller, need: Need, challenge: Challenge): void {
  if (need.type === 'login') return;
  if (!need.actions.every((action) => caller.can(need.type, need.name, action))) {
    throw unauthorized(need, challenge, 'insufficient_scope', 'the token does not grant this access');
  }
}

/** UNAUTHORIZED with the `WWW-Authenticate` challenge telling the client where to get a token for `need`. */
export function unauthorized(need: Need, challenge: Challenge, error?: 'invalid_token' | 'insufficient_scope', message?: string): RegistryError {
  const detail = need.type === 'login' ? undefined : need.actions.map((action) => ({ Type: need.type, Name: need.name, Action: action }));
  return new RegistryError('UNAUTHORIZED', message, detail, { 'www-authenticate': challengeHeader(need, challenge, error) });
}

/** RFC 6750's challenge, with Docker's `service` and `scope`. */
export function challengeHeader(need: Need, challenge: Challenge, error?: string): string {
  const parts = [`realm="${challenge.realm}"`, `service="${challenge.service}"`];
  if (need.type !== 'login') parts.push(`scope="${need.type}:${need.name}:${need.actions.join(',')}"`);
  if (error) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(',')}`;
}
