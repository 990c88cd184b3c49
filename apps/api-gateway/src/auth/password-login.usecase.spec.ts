import type { FastifyRequest } from 'fastify';
import { ApiError } from '@paas/platform/api-error';
import type { AuditTrail } from '../audit/audit-trail';
import type { PasswordRepository } from '../users/user.repository';
import type { LoginThrottle } from './login-throttle';
import { hashPassword } from './password-hash';
import { PasswordLogin } from './password-login.usecase';

/** A throttle that counts what it is asked, and refuses while `refusing`. */
function fakes(hash: string) {
  const seen = { begun: 0, failed: 0, succeeded: 0, asserted: 0, audited: [] as { statusCode: number; reason: string }[] };
  let refusing = false;
  const throttle = {
    begin: async () => {
      if (refusing) throw ApiError.of('TooManyRequests', 'wait', { retryAfterSeconds: 1 });
      seen.begun++;
      return { succeeded: async () => void seen.succeeded++, failed: async () => void seen.failed++ };
    },
    assertMayTry: async () => {
      seen.asserted++;
      if (refusing) throw ApiError.of('TooManyRequests', 'wait', { retryAfterSeconds: 1 });
    },
  } as unknown as LoginThrottle;
  const passwords = { hashOf: async (user: string) => (user === 'ann' ? hash : undefined) } as unknown as PasswordRepository;
  const trail = { recordLogin: async (_request: unknown, outcome: { statusCode: number; reason: string }) => void seen.audited.push(outcome) } as unknown as AuditTrail;
  return { login: new PasswordLogin(passwords, throttle, trail), seen, refuse: () => (refusing = true) };
}

const request = { ip: '10.0.0.1', method: 'GET', url: '/api/v1/namespaces' } as FastifyRequest;

describe('PasswordLogin', () => {
  let hash: string;
  beforeAll(async () => (hash = await hashPassword('the right one')));

  it('checks a client\'s parallel calls with the same password once, then trusts it', async () => {
    const { login, seen } = fakes(hash);
    expect(await Promise.all(Array.from({ length: 10 }, () => login.check('ann', 'the right one', request)))).toEqual(Array(10).fill(true));
    expect([seen.begun, seen.succeeded]).toEqual([1, 1]);
    expect(await login.check('ann', 'the right one', request)).toBe(true);
    expect([seen.begun, seen.asserted]).toEqual([1, 1]);
  });

  it('counts different guesses as attempts each, and audits every failed request', async () => {
    const { login, seen } = fakes(hash);
    const answers = await Promise.all([...Array.from({ length: 3 }, (_, i) => login.check('ann', `guess ${i}`, request)), login.check('ann', 'guess 0', request)]);
    expect(answers).toEqual([false, false, false, false]);
    expect(seen.failed).toBe(3);
    expect(seen.audited).toEqual(Array(4).fill({ user: 'ann', statusCode: 401, reason: 'LoginFailed' }));
    expect(await login.check('nobody', 'the right one', request)).toBe(false);
  });

  it('refuses a trusted password too during a penalty, and audits the refusal', async () => {
    const { login, seen, refuse } = fakes(hash);
    await login.check('ann', 'the right one', request);
    refuse();
    await expect(login.check('ann', 'the right one', request)).rejects.toMatchObject({ status: { code: 429 } });
    expect(seen.audited).toEqual([{ user: 'ann', statusCode: 429, reason: 'LoginThrottled' }]);
  });
});
