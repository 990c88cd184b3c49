import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { EcPublicJwk, Jwks } from '@paas/contracts/auth';

/**
 * Compact JWS (JWT) with ES256 over node:crypto, no library: the signature is the raw
 * r‖s pair (`dsaEncoding: 'ieee-p1363'`), as RFC 7518 §3.4 wants, not DER.
 */

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: EcPublicJwk;
}

/** A fresh P-256 key pair; its kid is the RFC 7638 thumbprint of the public key. */
export function generateSigningKey(): { privateKeyPem: string; key: SigningKey } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKeyPem, key: signingKeyFromPem(privateKeyPem) };
}

export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  const privateKey = createPrivateKey(privateKeyPem);
  const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string; y: string };
  const kid = jwkThumbprint({ x, y });
  return { kid, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' } };
}

/** RFC 7638: sha256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: { x: string; y: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x: jwk.x, y: jwk.y })).digest('base64url');
}

export function signJwt(claims: object, key: SigningKey): string {
  const header = { alg: 'ES256', typ: 'JWT', kid: key.kid };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Why a token was refused; the message is safe to show to its holder. */
export class JwtError extends Error {
  constructor(
    message: string,
    /** The token names a key that is not in the key set (perhaps a newer one: fetch the set again). */
    readonly unknownKid?: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

export interface VerifyOptions {
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
  /** Clock skew tolerated on `nbf` and `exp`, seconds. */
  leewaySeconds?: number;
}

/** The claims of a token signed by a key of `jwks`, valid now; throws JwtError otherwise. */
export function verifyJwt<C extends { exp?: number; nbf?: number; iss?: string; aud?: string | string[] }>(token: string, jwks: Jwks, options: VerifyOptions = {}): C {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('malformed token');
  const header = decodePart<{ alg?: string; kid?: string }>(parts[0]);
  if (header.alg !== 'ES256') throw new JwtError(`unsupported algorithm ${String(header.alg)}`);
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new JwtError(`unknown signing key ${String(header.kid)}`, String(header.kid));
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  const signature = Buffer.from(parts[2], 'base64url');
  if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) {
    throw new JwtError('bad signature');
  }
  const claims = decodePart<C>(parts[1]);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const leeway = options.leewaySeconds ?? 30;
  if (typeof claims.exp !== 'number' || claims.exp + leeway < now) throw new JwtError('token expired');
  if (typeof claims.nbf === 'number' && claims.nbf - leeway > now) throw new JwtError('token not yet valid');
  if (options.issuer !== undefined && claims.iss !== options.issuer) throw new JwtError('wrong issuer');
  if (options.audience !== undefined && ![claims.aud].flat().includes(options.audience)) throw new JwtError('wrong audience');
  return claims;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodePart<T>(part: string): T {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as T;
  } catch {
    throw new JwtError('malformed token');
  }
}
