import { ClientLimits, CONNECTION_WINDOW_MS, REQUEST_WINDOW_MS } from './client-limits';

describe('ClientLimits', () => {
  const t0 = 1_000_000;

  it('counts requests per client over 10 s and connections over 3 s, each client on its own', () => {
    const limits = new ClientLimits({ rateHttp: 2, rateTcp: 1 });
    const admit = (client: string, newConnection: boolean, at: number) => {
      const exceeded = limits.admit(client, newConnection, at);
      if (!exceeded) limits.release(client);
      return exceeded;
    };
    expect([admit('a', true, t0), admit('a', true, t0 + 1)]).toEqual([undefined, 'connections']);
    expect(admit('a', false, t0 + 2)).toBeUndefined();
    expect(admit('a', false, t0 + 3)).toBe('requests');
    expect(admit('b', true, t0 + 3)).toBeUndefined();
    expect(admit('a', true, t0 + CONNECTION_WINDOW_MS)).toBe('requests');
    expect(admit('a', true, t0 + REQUEST_WINDOW_MS)).toBeUndefined();
  });

  it('limits requests in flight until they are released', () => {
    const limits = new ClientLimits({ concurrentTcp: 1 });
    expect(limits.admit('a', true, t0)).toBeUndefined();
    expect(limits.admit('a', false, t0)).toBe('concurrent');
    limits.release('a');
    expect(limits.admit('a', false, t0)).toBeUndefined();
  });
});
