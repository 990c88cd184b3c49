import { loadGatewaySettings } from './gateway-settings';

describe('loadGatewaySettings', () => {
  it('has defaults for one small cluster', () => {
    expect(loadGatewaySettings({})).toEqual({
      corsOrigins: [],
      login: { freeFailuresPerUser: 5, freeFailuresPerAddress: 20, basePenaltyMs: 1000, maxPenaltyMs: 900_000, failureMemoryMs: 3_600_000 },
      binaryMaxBytes: 100 * 1024 * 1024,
      tokens: { defaultSeconds: 86_400, maxSeconds: 2_592_000 },
      events: { ttlMs: 3_600_000, pruneIntervalMs: 300_000 },
    });
  });

  it('reads the origins as a list and ignores values it cannot use', () => {
    const settings = loadGatewaySettings({ PAAS_CORS_ORIGINS: ' https://a.test/ ,,https://b.test:8443', PAAS_LOGIN_FREE_FAILURES_PER_USER: 'many', PAAS_TOKEN_MAX_LIFETIME_SECONDS: '3600' });
    expect(settings.corsOrigins).toEqual(['https://a.test', 'https://b.test:8443']);
    expect(settings.login.freeFailuresPerUser).toBe(5);
    expect(settings.tokens).toEqual({ defaultSeconds: 3600, maxSeconds: 3600 });
  });

  it('keeps Events as long as PAAS_EVENT_TTL_SECONDS says, pruning a twelfth of that apart', () => {
    expect(loadGatewaySettings({ PAAS_EVENT_TTL_SECONDS: '600' }).events).toEqual({ ttlMs: 600_000, pruneIntervalMs: 50_000 });
    expect(loadGatewaySettings({ PAAS_EVENT_TTL_SECONDS: '0' }).events.ttlMs).toBe(3_600_000);
  });
});
