import { createPublicKey, verify } from 'node:crypto';
import { generateSigningKey, JwtError, jwkThumbprint, signingKeyFromPem, signJwt, verifyJwt } from './jwt';

describe('ES256 JWT', () => {
  const { privateKeyPem, key } = generateSigningKey();
  const jwks = { keys: [key.publicJwk] };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'paas-api-gateway', aud: 'paas-registry', sub: 'ann', iat: now, nbf: now, exp: now + 300, access: [] };

  it('signs a token whose header names the key and that verifies with the key set', () => {
    const token = signJwt(claims, key);
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT', kid: key.kid });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual(claims);
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64); // r‖s, not DER
    expect(verifyJwt(token, jwks, { issuer: 'paas-api-gateway', audience: 'paas-registry' })).toEqual(claims);
  });

  it('signs in the JWS encoding any verifier expects (raw r‖s over header.payload)', () => {
    const token = signJwt(claims, key);
    const [header, payload, signature] = token.split('.');
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y }, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('keeps its kid across a reload from PEM (the RFC 7638 thumbprint)', () => {
    expect(signingKeyFromPem(privateKeyPem).kid).toBe(key.kid);
    expect(key.kid).toBe(jwkThumbprint(key.publicJwk));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a tampered payload', () => {
    const [header, , signature] = signJwt(claims, key).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    expect(() => verifyJwt(`${header}.${forged}.${signature}`, jwks)).toThrow(new JwtError('bad signature'));
  });

  it('refuses a token of another key, and says which kid it did not know', () => {
    const other = generateSigningKey().key;
    try {
      verifyJwt(signJwt(claims, other), jwks);
      throw new Error('verified');
    } catch (error) {
      expect(error).toBeInstanceOf(JwtError);
      expect((error as JwtError).unknownKid).toBe(other.kid);
    }
  });

  it('refuses expired, not yet valid, wrong audience and malformed tokens', () => {
    expect(() => verifyJwt(signJwt({ ...claims, exp: now - 60 }, key), jwks)).toThrow('token expired');
    expect(() => verifyJwt(signJwt({ ...claims, nbf: now + 120 }, key), jwks)).toThrow('not yet valid');
    expect(() => verifyJwt(signJwt(claims, key), jwks, { audience: 'elsewhere' })).toThrow('wrong audience');
    expect(() => verifyJwt('a.b', jwks)).toThrow('malformed');
    expect(() => verifyJwt('e30.e30.AAAA', jwks)).toThrow('unsupported algorithm');
  });
});
