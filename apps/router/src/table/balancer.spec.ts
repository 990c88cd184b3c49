import { aRoute, anEndpoints } from '../testing/factories';
import { Balancer, EJECT_MS, Endpoint, smoothSchedule } from './balancer';
import { RouterState } from './router-state';
import type { RouteSettings } from '../routes/route-settings';

const endpoints = (...ports: number[]) => ports.map((port) => new Endpoint('127.0.0.1', port));
const portsOf = (picked: (Endpoint | undefined)[]) => picked.map((e) => e?.port);
const count = (picked: (Endpoint | undefined)[]) => picked.reduce<Record<number, number>>((acc, e) => ({ ...acc, [e?.port ?? 0]: (acc[e?.port ?? 0] ?? 0) + 1 }), {});

describe('Balancer', () => {
  const now = 1_000_000;

  it('interleaves a weighted round robin without bursts, weight 0 taking nothing', () => {
    const [a, b, c] = endpoints(1, 2, 3);
    expect(portsOf(smoothSchedule([{ endpoint: a, weight: 5 }, { endpoint: b, weight: 1 }, { endpoint: c, weight: 1 }]))).toEqual([1, 1, 2, 1, 3, 1, 1]);
    const balancer = new Balancer('roundrobin', [{ endpoint: a, weight: 3 }, { endpoint: b, weight: 1 }, { endpoint: c, weight: 0 }], { next: 0 });
    expect(count(Array.from({ length: 400 }, () => balancer.pick('c', now)))).toEqual({ 1: 300, 2: 100 });
  });

  it('keeps one client on one endpoint with source balancing, and spreads random by weight', () => {
    const [a, b] = endpoints(1, 2);
    const source = new Balancer('source', [{ endpoint: a, weight: 1 }, { endpoint: b, weight: 1 }], { next: 0 });
    const first = source.pick('192.0.2.7', now);
    expect(Array.from({ length: 20 }, () => source.pick('192.0.2.7', now))).toEqual(Array(20).fill(first));
    expect(new Set(Array.from({ length: 50 }, (_, i) => source.pick(`192.0.2.${i}`, now))).size).toBe(2);

    const random = new Balancer('random', [{ endpoint: a, weight: 9 }, { endpoint: b, weight: 1 }], { next: 0 });
    const share = count(Array.from({ length: 2000 }, () => random.pick('c', now)))[1] / 2000;
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.95);
  });

  it('sends leastconn to the endpoint with the fewest requests in flight per weight', () => {
    const [a, b] = endpoints(1, 2);
    const balancer = new Balancer('leastconn', [{ endpoint: a, weight: 1 }, { endpoint: b, weight: 1 }], { next: 0 });
    a.active = 3;
    b.active = 1;
    expect(balancer.pick('c', now)).toBe(b);
    b.active = 5;
    expect(balancer.pick('c', now)).toBe(a);
  });

  it('skips an ejected endpoint until its time is up, and still tries one when all are ejected', () => {
    const [a, b] = endpoints(1, 2);
    const balancer = new Balancer('roundrobin', [{ endpoint: a, weight: 1 }, { endpoint: b, weight: 1 }], { next: 0 });
    a.eject(now);
    expect(portsOf(Array.from({ length: 4 }, () => balancer.pick('c', now)))).toEqual([2, 2, 2, 2]);
    expect(balancer.alternative(new Set([b]), now)).toBe(a);
    b.eject(now);
    expect(balancer.pick('c', now)).toBeDefined();
    expect(portsOf([balancer.pick('c', now + EJECT_MS), balancer.pick('c', now + EJECT_MS)]).sort()).toEqual([1, 2]);
  });

  it('finds the endpoint a sticky cookie names while it is healthy', () => {
    const [a, b] = endpoints(1, 2);
    const balancer = new Balancer('roundrobin', [{ endpoint: a, weight: 1 }, { endpoint: b, weight: 1 }], { next: 0 });
    expect(balancer.byCookie(b.cookieId, now)).toBe(b);
    expect(balancer.byCookie('unknown', now)).toBeUndefined();
    b.eject(now);
    expect(balancer.byCookie(b.cookieId, now)).toBeUndefined();
    expect(b.cookieId).not.toContain('127.0.0.1');
  });
});

describe('route table features', () => {
  const settings = (overrides: Partial<RouteSettings> = {}) => (): RouteSettings => ({ balance: 'roundrobin', timeoutMs: 30_000, ...overrides });

  it('weights the Services of a route, sharing each weight among its endpoints', () => {
    const state = new RouterState(Date.now, settings());
    const route = aRoute({ name: 'shop', service: 'v1', spec: { to: { kind: 'Service', name: 'v1', weight: 75 }, alternateBackends: [{ kind: 'Service', name: 'v2', weight: 25 }] } });
    state.resyncRoutes([route], Date.now());
    state.applyEndpoints(anEndpoints('v1', [9001, 9002]));
    state.applyEndpoints(anEndpoints('v2', [9003]));
    const target = state.table.match('shop-demo.apps.localhost', '/');
    const picked = count(Array.from({ length: 800 }, () => target?.balancer.pick('c', Date.now())));
    expect(picked).toEqual({ 9001: 300, 9002: 300, 9003: 200 });
  });

  it('keeps the round-robin cursor and endpoint state when the table is rebuilt', () => {
    const state = new RouterState(Date.now, settings());
    state.resyncRoutes([aRoute({ name: 'web' })], Date.now());
    state.applyEndpoints(anEndpoints('web', [9001, 9002]));
    const before = state.table.match('web-demo.apps.localhost', '/');
    const first = before?.balancer.pick('c', Date.now()) as Endpoint;
    first.active = 7;
    state.upsertRoute(aRoute({ name: 'other' }));
    const after = state.table.match('web-demo.apps.localhost', '/');
    const second = after?.balancer.pick('c', Date.now());
    expect(second).not.toBe(first);
    expect(after?.balancer.endpoints.find((w) => w.endpoint.port === first?.port)?.endpoint.active).toBe(7);
  });

  it('serves every host of the parent domain from a Subdomain wildcard route, exact hosts first', () => {
    const state = new RouterState(Date.now, settings());
    const wildcard = aRoute({ name: 'any', host: 'www.example.test', spec: { wildcardPolicy: 'Subdomain' } });
    const exact = aRoute({ name: 'api', host: 'api.example.test' });
    state.resyncRoutes([wildcard, exact], Date.now());
    expect(state.table.match('shop.example.test', '/')?.name).toBe('any');
    expect(state.table.match('www.example.test', '/')?.name).toBe('any');
    expect(state.table.match('api.example.test', '/')?.name).toBe('api');
    expect(state.table.match('a.b.example.test', '/')).toBeUndefined();
  });

  it('answers the TLS settings and a passthrough endpoint by SNI', () => {
    const state = new RouterState(Date.now, settings());
    const passthrough = aRoute({ name: 'secure', spec: { tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } } });
    state.resyncRoutes([passthrough, aRoute({ name: 'plain' })], Date.now());
    state.applyEndpoints(anEndpoints('secure', [9443]));
    const tls = state.table.tlsRoute('SECURE-demo.apps.localhost');
    expect(tls).toMatchObject({ termination: 'passthrough', namespace: 'demo', name: 'secure' });
    expect(tls?.pickBackend('c')).toEqual({ ip: '127.0.0.1', port: 9443 });
    expect(state.table.tlsRoute('plain-demo.apps.localhost')).toBeUndefined();
  });
});
