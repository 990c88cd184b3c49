import { REGISTRY_SERVICE, TOKEN_ISSUER } from '@paas/contracts/auth';
import { generateSigningKey, signJwt } from '@paas/platform/jwt';
import { challengeHeader, requireAccess, verifyRegistryToken } from './token-access';

const challenge = { realm: 'http://gw/auth/token', service: REGISTRY_SERVICE };
const key = generateSigningKey().key;
const now = Math.floor(Date.now() / 1000);
const claims = { iss: TOKEN_ISSUER, sub: 'alice', aud: REGISTRY_SERVICE, iat: now, nbf: now, exp: now + 60, jti: 'j' };

describe('registry token access', () => {
  it('reads who the caller is and what the access claim grants, `*` granting every action', () => {
    const token = signJwt({ ...claims, access: [{ type: 'repository', name: 'ns/app', actions: ['pull'] }, { type: 'repository', name: 'ns/all', actions: ['*'] }] }, key);
    const caller = verifyRegistryToken(token, { keys: [key.publicJwk] });
    expect([caller.subject, caller.expiresAt]).toEqual(['alice', (now + 60) * 1000]);
    expect([caller.can('repository', 'ns/app', 'pull'), caller.can('repository', 'ns/app', 'push'), caller.can('repository', 'ns/all', 'delete')]).toEqual([true, false, true]);
    expect(caller.can('repository', 'ns/other', 'pull')).toBe(false);
  });

  it('treats a token without an access claim as granting nothing', () => {
    const caller = verifyRegistryToken(signJwt(claims, key), { keys: [key.publicJwk] });
    expect(() => requireAccess(caller, { type: 'repository', name: 'ns/app', actions: ['pull'] }, challenge)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => requireAccess(caller, { type: 'login' }, challenge)).not.toThrow();
  });

  it('writes the challenge with realm, service, the scope needed and the error', () => {
    expect(challengeHeader({ type: 'repository', name: 'ns/app', actions: ['pull', 'push'] }, challenge, 'insufficient_scope')).toBe(
      'Bearer realm="http://gw/auth/token",service="paas-registry",scope="repository:ns/app:pull,push",error="insufficient_scope"',
    );
    expect(challengeHeader({ type: 'login' }, challenge)).toBe('Bearer realm="http://gw/auth/token",service="paas-registry"');
  });
});
