import { loadGatewaySettings, type GatewaySettings } from '../gateway-settings';
import type { LoginAttempt, LoginAttemptRepository } from './login-attempt.repository';
import { LoginThrottle, waitBeforeNextAttempt } from './login-throttle';

/** The repository in memory: inserts and deletes, as the real one. */
class FakeAttempts implements Pick<LoginAttemptRepository, 'add' | 'list' | 'remove' | 'markFailed' | 'forgetBefore'> {
  rows: LoginAttempt[] = [];
  private next = 0;

  async add(key: string, at: number) {
    const attempt = { id: String(++this.next), key, at, failed: false };
    this.rows.push(attempt);
    return attempt;
  }
  async list(keys: string[], since: number) {
    return this.rows.filter((row) => keys.includes(row.key) && row.at >= since);
  }
  async remove(ids: string[]) {
    this.rows = this.rows.filter((row) => !ids.includes(row.id));
  }
  async markFailed(ids: string[]) {
    for (const row of this.rows) if (ids.includes(row.id)) row.failed = true;
  }
  async forgetBefore(before: number) {
    this.rows = this.rows.filter((row) => row.at >= before);
  }
}

const settings = (login: Partial<GatewaySettings['login']> = {}): GatewaySettings => {
  const defaults = loadGatewaySettings({});
  return { ...defaults, login: { ...defaults.login, freeFailuresPerUser: 3, freeFailuresPerAddress: 5, basePenaltyMs: 1000, maxPenaltyMs: 8000, ...login } };
};

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { status: { code: number; details: { retryAfterSeconds: number } } };
  }
  throw new Error('expected a refusal');
}

describe('waitBeforeNextAttempt', () => {
  const penalty = { basePenaltyMs: 1000, maxPenaltyMs: 8000 };
  it('lets the free attempts go at once, then doubles the wait after the last one, up to the maximum', () => {
    expect(waitBeforeNextAttempt([0, 0], 3, penalty, 0)).toBe(0);
    expect(waitBeforeNextAttempt([0, 0, 100], 3, penalty, 100)).toBe(1000);
    expect(waitBeforeNextAttempt([0, 0, 0, 100], 3, penalty, 600)).toBe(1500);
    expect(waitBeforeNextAttempt(Array(3 + 50).fill(0), 3, penalty, 0)).toBe(8000);
    expect(waitBeforeNextAttempt(Array(3 + 5000).fill(0), 3, penalty, 0)).toBe(8000);
    expect(waitBeforeNextAttempt([0, 0, 100], 3, penalty, 5000)).toBe(0);
  });
});

describe('LoginThrottle', () => {
  let attempts: FakeAttempts;
  let throttle: LoginThrottle;
  beforeEach(() => {
    attempts = new FakeAttempts();
    throttle = new LoginThrottle(attempts as unknown as LoginAttemptRepository, settings());
  });

  const fail = async (user = 'ann', address = '10.0.0.1') => (await (await throttle.begin(user, address)).failed());

  it('refuses the user after the free failures, with a Retry-After, even with the right password', async () => {
    for (let i = 0; i < 3; i++) await fail();
    const refused = await refusal(throttle.begin('ann', '10.0.0.2'));
    expect(refused.status).toMatchObject({ code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    await expect(refusal(throttle.assertMayTry('ann', '10.0.0.3'))).resolves.toMatchObject({ status: { code: 429 } });
    // A refused attempt is not counted.
    expect(attempts.rows).toHaveLength(6);
    await expect(throttle.begin('bob', '10.0.0.2')).resolves.toBeDefined();
  });

  it('counts a check before its password is compared, so parallel guesses get no more than the free ones', async () => {
    const burst = async (size: number) => {
      const outcomes = await Promise.allSettled(Array.from({ length: size }, () => throttle.begin('ann', '10.0.0.1')));
      const tickets = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      for (const ticket of tickets) await ticket.failed();
      return [tickets.length, outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason.status.details.retryAfterSeconds)];
    };
    // Parallel checks within the free ones all go; a larger burst is told to retry in a second, not punished.
    expect(await burst(2)).toEqual([2, []]);
    expect(await burst(20)).toEqual([0, Array(20).fill(1)]);
    expect(attempts.rows.filter((row) => row.failed && row.key === 'user:ann')).toHaveLength(2);
  });

  it('lets only one check past the free failures be under way at a time', async () => {
    for (let i = 0; i < 3; i++) await fail();
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 5000);
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => throttle.begin('ann', '10.0.0.1')));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeLessThanOrEqual(1);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('forgets an attempt whose password was right', async () => {
    for (let i = 0; i < 10; i++) await (await throttle.begin('ann', '10.0.0.1')).succeeded();
    expect(attempts.rows).toEqual([]);
  });

  it('refuses an address that failed for many users, whoever it asks for next', async () => {
    for (const user of ['a', 'b', 'c', 'd', 'e']) await fail(user, '10.0.0.9');
    expect((await refusal(throttle.begin('f', '10.0.0.9'))).status.code).toBe(429);
    await expect(throttle.begin('f', '10.0.0.10')).resolves.toBeDefined();
  });

  it('doubles the wait with each further failure', async () => {
    const base = Date.now();
    let now = base;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      for (let i = 0; i < 3; i++) await fail();
      const waits = [];
      for (let i = 0; i < 4; i++) {
        waits.push((await refusal(throttle.begin('ann', '10.0.0.1'))).status.details.retryAfterSeconds);
        now += waits[i] * 1000;
        await fail();
      }
      expect(waits).toEqual([1, 2, 4, 8]);
      expect((await refusal(throttle.begin('ann', '10.0.0.1'))).status.details.retryAfterSeconds).toBe(8);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('sees the waits another replica caused, through the database', async () => {
    const other = new LoginThrottle(attempts as unknown as LoginAttemptRepository, settings());
    for (let i = 0; i < 3; i++) await (await other.begin('ann', '10.0.0.1')).failed();
    expect(attempts.rows.every((row) => row.failed)).toBe(true);
    expect((await refusal(throttle.assertMayTry('ann', '10.0.0.7'))).status.code).toBe(429);
  });
});
