import { expirationOf, tokenLifetimeSeconds } from './tokens.service';

const lifetimes = { defaultSeconds: 86_400, maxSeconds: 30 * 86_400 };

describe('tokenLifetimeSeconds', () => {
  it('gives a user a day and a service account the longest lifetime unless asked', () => {
    expect(tokenLifetimeSeconds(undefined, 'User', lifetimes)).toBe(86_400);
    expect(tokenLifetimeSeconds(undefined, 'ServiceAccount', lifetimes)).toBe(30 * 86_400);
    expect(tokenLifetimeSeconds(600, 'ServiceAccount', lifetimes)).toBe(600);
  });

  it('refuses more than the longest lifetime with a 422 naming expiresInSeconds', () => {
    expect(() => tokenLifetimeSeconds(30 * 86_400 + 1, 'User', lifetimes)).toThrow(
      expect.objectContaining({ status: expect.objectContaining({ code: 422, details: expect.objectContaining({ causes: [{ field: 'expiresInSeconds', message: 'must be at most 2592000 (the longest a token may live)' }] }) }) }),
    );
  });
});

describe('expirationOf', () => {
  it('ends a token made before lifetimes were bounded the longest lifetime after it was made', () => {
    expect(expirationOf({ createdAt: '2026-01-01T00:00:00.000Z' }, lifetimes)).toBe('2026-01-31T00:00:00.000Z');
    expect(expirationOf({ createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z' }, lifetimes)).toBe('2026-01-02T00:00:00.000Z');
  });
});
