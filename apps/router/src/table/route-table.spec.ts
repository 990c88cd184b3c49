import { aRoute, anEndpoints } from '../testing/factories';
import { RouterState } from './router-state';
import type { RouteTarget } from './route-table';

function originsOf(target: RouteTarget | undefined): string[] | undefined {
  return target?.balancer.endpoints.map((w) => w.endpoint.origin);
}

function stateWith(...routes: ReturnType<typeof aRoute>[]): RouterState {
  const state = new RouterState();
  state.resyncRoutes(routes, Date.now());
  return state;
}

describe('route table', () => {
  it('serves the longest matching path prefix, on whole path segments', () => {
    const host = 'shop.apps.localhost';
    const state = stateWith(aRoute({ name: 'root', host, path: '/' }), aRoute({ name: 'api', host, path: '/api' }), aRoute({ name: 'v2', host, path: '/api/v2' }));
    const served = (path: string) => state.table.match(host, path)?.name;
    expect(served('/')).toBe('root');
    expect(served('/api')).toBe('api');
    expect(served('/api/users')).toBe('api');
    expect(served('/api/v2/users')).toBe('v2');
    expect(served('/apix')).toBe('root');
    expect(state.table.match('other.apps.localhost', '/')).toBeUndefined();
  });

  it('answers nothing for a path no route of the host covers', () => {
    const host = 'shop.apps.localhost';
    const state = stateWith(aRoute({ name: 'api', host, path: '/api' }));
    expect(state.table.match(host, '/')).toBeUndefined();
  });

  it('leaves routes that are not admitted out of the table', () => {
    const state = stateWith(aRoute({ name: 'waiting', host: 'taken.apps.localhost', admitted: false }));
    expect(state.table.hasHost('taken.apps.localhost')).toBe(false);
  });

  it('chooses the ready endpoints of the routed Service round-robin', () => {
    const state = stateWith(aRoute({ name: 'web', service: 'web' }));
    state.applyEndpoints(anEndpoints('web', [9001, 9002, 9003]));
    const target = state.table.match('web-demo.apps.localhost', '/');
    const next = () => target?.balancer.pick('10.0.0.1', Date.now())?.origin;
    expect([next(), next(), next(), next()]).toEqual([
      'http://127.0.0.1:9001',
      'http://127.0.0.1:9002',
      'http://127.0.0.1:9003',
      'http://127.0.0.1:9001',
    ]);
  });

  it("says whether it still routes to an address and how many requests are in flight there, after the address left the table too (a pod's drain)", () => {
    const state = stateWith(aRoute({ name: 'web', service: 'web' }));
    state.applyEndpoints(anEndpoints('web', [9001, 9002]));
    const leaving = { ip: '127.0.0.1', port: 9002 };
    const endpoint = state.table.match('web-demo.apps.localhost', '/')?.balancer.endpoints.find((w) => w.endpoint.port === 9002)?.endpoint;
    if (!endpoint) throw new Error('9002 is not in the table');
    endpoint.active = 2;
    expect(state.traffic([leaving])).toEqual([{ ...leaving, routed: true, inFlight: 2 }]);

    state.applyEndpoints(anEndpoints('web', [9001], { generation: 2 }));
    expect(state.traffic([leaving])).toEqual([{ ...leaving, routed: false, inFlight: 2 }]);
    endpoint.active = 0;
    expect(state.traffic([leaving])).toEqual([{ ...leaving, routed: false, inFlight: 0 }]);
    expect(state.traffic([{ ip: '127.0.0.1', port: 9999 }])).toEqual([{ ip: '127.0.0.1', port: 9999, routed: false, inFlight: 0 }]);
  });

  it('counts the admitted routes it serves and the endpoints behind them (the router_table_* gauges)', () => {
    const state = stateWith(aRoute({ name: 'web', service: 'web' }), aRoute({ name: 'api', service: 'api' }), aRoute({ name: 'waiting', host: 'taken.apps.localhost', admitted: false }));
    state.applyEndpoints(anEndpoints('web', [9001, 9002]));
    expect(state.table.routeCount).toBe(2);
    expect(state.table.endpointCount).toBe(2);
    state.applyEndpoints(anEndpoints('api', [9003], { generation: 1 }));
    expect(state.table.endpointCount).toBe(3);
  });

  it('answers no upstream for a Service without ready endpoints', () => {
    const state = stateWith(aRoute({ name: 'web' }));
    expect(state.table.match('web-demo.apps.localhost', '/')?.balancer.pick('10.0.0.1', Date.now())).toBeUndefined();
  });

  it('applies endpoint updates only when their generation is newer than the one held', () => {
    const state = stateWith(aRoute({ name: 'web' }));
    const upstreams = () => originsOf(state.table.match('web-demo.apps.localhost', '/'));
    expect(state.applyEndpoints(anEndpoints('web', [9001], { generation: 2 }))).toBe(true);
    expect(state.applyEndpoints(anEndpoints('web', [9009], { generation: 1 }))).toBe(false);
    expect(state.applyEndpoints(anEndpoints('web', [9009], { generation: 2 }))).toBe(false);
    expect(upstreams()).toEqual(['http://127.0.0.1:9001']);
    expect(state.applyEndpoints(anEndpoints('web', [], { generation: 3 }))).toBe(true);
    expect(upstreams()).toEqual([]);
  });

  it('keeps the newer version of a route when an older one arrives after it', () => {
    const state = stateWith();
    const newer = aRoute({ name: 'web', path: '/new' });
    newer.metadata.resourceVersion = '3';
    state.upsertRoute(newer);
    state.upsertRoute({ ...newer, metadata: { ...newer.metadata, resourceVersion: '2' }, spec: { ...newer.spec, path: '/old' } });
    expect(state.table.match('web-demo.apps.localhost', '/new')?.path).toBe('/new');
    expect(state.table.match('web-demo.apps.localhost', '/old')).toBeUndefined();
  });

  it('swaps the table instead of changing the one being read', () => {
    const state = stateWith(aRoute({ name: 'web' }));
    const before = state.table;
    state.applyEndpoints(anEndpoints('web', [9001]));
    expect(state.table).not.toBe(before);
    expect(originsOf(before.match('web-demo.apps.localhost', '/'))).toEqual([]);
  });

  it('heals from a full endpoints list without undoing events that overtook it', () => {
    let now = 1_000;
    const state = new RouterState(() => now);
    state.resyncRoutes([aRoute({ name: 'a' }), aRoute({ name: 'b' }), aRoute({ name: 'c' })], now);
    state.applyEndpoints(anEndpoints('a', [9001], { generation: 1 }));
    state.applyEndpoints(anEndpoints('gone', [9002], { generation: 1 }));
    const listedAt = (now = 2_000);
    now = 3_000;
    state.applyEndpoints(anEndpoints('b', [9003], { generation: 5 }));

    state.resyncEndpoints([anEndpoints('a', [9004], { generation: 2 }), anEndpoints('b', [9005], { generation: 4 }), anEndpoints('c', [9006], { generation: 1 })], listedAt);

    expect(state.endpointsGeneration('demo', 'a')).toBe(2);
    expect(state.endpointsGeneration('demo', 'b')).toBe(5);
    expect(state.endpointsGeneration('demo', 'c')).toBe(1);
    expect(state.endpointsGeneration('demo', 'gone')).toBeUndefined();
  });

  it('heals from a full routes list without undoing routes changed after it was taken', () => {
    let now = 1_000;
    const state = new RouterState(() => now);
    const served = (name: string) => state.table.hasHost(`${name}-demo.apps.localhost`);
    state.resyncRoutes([aRoute({ name: 'kept' }), aRoute({ name: 'gone' }), aRoute({ name: 'deleted' })], now);
    const listedAt = (now = 2_000);
    now = 3_000;
    state.upsertRoute(aRoute({ name: 'created' }));
    state.removeRoute('demo', 'deleted');

    // The list was taken before "created" existed and while "deleted" still did.
    state.resyncRoutes([aRoute({ name: 'kept' }), aRoute({ name: 'deleted' })], listedAt);

    expect(['kept', 'gone', 'created', 'deleted'].filter(served)).toEqual(['kept', 'created']);
    now = 4_000;
    state.resyncRoutes([aRoute({ name: 'kept' }), aRoute({ name: 'deleted' })], now);
    expect(['kept', 'gone', 'created', 'deleted'].filter(served)).toEqual(['kept', 'deleted']);
  });

  it('restores the table from its own snapshot', () => {
    const state = stateWith(aRoute({ name: 'web' }));
    state.applyEndpoints(anEndpoints('web', [9001], { generation: 7 }));
    const restored = new RouterState();
    restored.restore(JSON.parse(JSON.stringify(state.snapshot())));
    expect(restored.loaded).toBe(true);
    expect(originsOf(restored.table.match('web-demo.apps.localhost', '/'))).toEqual(['http://127.0.0.1:9001']);
    expect(restored.applyEndpoints(anEndpoints('web', [9002], { generation: 7 }))).toBe(false);
  });
});
