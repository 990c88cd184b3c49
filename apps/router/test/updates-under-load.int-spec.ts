import http from 'node:http';
import { backend, ControlClient, get, RouterHarness, RouterProcess, until, type Backend } from './support/router-processes';

const CLIENTS = 8;
const UPDATES = 100;

interface ServedRoute {
  path: string;
  to: string;
  alternateBackends: { name: string; weight: number }[];
}

/**
 * The shapes the served route takes in turn: path, Service and weighted alternate backends.
 * The last one applied (the 20th route update, ROUTE_SHAPES[19 % 4]) splits the traffic so
 * that every backend of the final table answers some of 40 requests: with web at weight 1
 * beside web2's 100 it would hardly ever be seen.
 */
const ROUTE_SHAPES: ServedRoute[] = [
  { path: '/app', to: 'web2', alternateBackends: [] },
  { path: '/', to: 'web2', alternateBackends: [{ name: 'web', weight: 1 }] },
  { path: '/app', to: 'web', alternateBackends: [] },
  { path: '/', to: 'web', alternateBackends: [{ name: 'web2', weight: 50 }] },
];

/**
 * The route table changes atomically, with no dropped request: a router process under
 * continuous keep-alive load from several clients while 100 route and endpoint updates are
 * applied (endpoints moving between backends, routes of other hosts created and deleted,
 * the served route's path, Service and weighted backends replaced). Every request must be
 * answered 200 by one of the backends.
 */
describe('router under load while routes and endpoints change', () => {
  const harness = new RouterHarness();
  const namespace = 'churn';
  const host = `web-${namespace}.apps.localhost`;
  let router: RouterProcess;
  let control: ControlClient;
  let backends: Record<'alpha' | 'beta' | 'gamma' | 'delta', Backend>;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

  beforeAll(async () => {
    const [alpha, beta, gamma, delta] = await Promise.all(['alpha', 'beta', 'gamma', 'delta'].map((name) => backend(name)));
    backends = { alpha, beta, gamma, delta };
    ({ router, control } = await harness.start());
  });

  afterAll(async () => {
    agent.destroy();
    await harness.stop();
    await Promise.all(Object.values(backends ?? {}).map((b) => b.close()));
  });

  it(`answers every request while ${UPDATES} route and endpoint updates are applied`, async () => {
    const { alpha, beta, gamma, delta } = backends;
    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { host, to: { name: 'web' } } } });
    await until(
      async () => {
        await control.endpoints(namespace, 'web', [alpha, beta]);
        await control.endpoints(namespace, 'web2', [gamma, delta]);
        return get(router.httpPort, host, '/app/item');
      },
      (a) => a.status === 200,
      'the route to serve',
    );

    // Load: CLIENTS keep-alive clients in a loop until told to stop.
    let stop = false;
    let answered = 0;
    const failures: string[] = [];
    const seen = new Map<string, number>();
    const names = new Set(Object.keys(backends));
    const client = async () => {
      while (!stop) {
        try {
          const answer = await get(router.httpPort, host, '/app/item', agent);
          if (answer.status !== 200 || !names.has(answer.body)) failures.push(`${answer.status} ${answer.body.slice(0, 120)}`);
          else seen.set(answer.body, (seen.get(answer.body) ?? 0) + 1);
        } catch (error) {
          failures.push((error as Error).message);
        }
        answered++;
      }
    };
    const load = Array.from({ length: CLIENTS }, client);
    let answeredDuringUpdates = 0;
    // The load stops however the test ends: a client still looping would keep Jest from exiting.
    try {
      const webSets = [[alpha], [beta], [alpha, beta]];
      const web2Sets = [[gamma], [delta], [gamma, delta]];
      let applied = 0;
      let lastShape = ROUTE_SHAPES[ROUTE_SHAPES.length - 1];
      const answeredBefore = answered;
      for (let i = 0; applied < UPDATES; i++) {
        switch (i % 5) {
          case 0:
            await control.endpoints(namespace, 'web', webSets[i % 3]);
            break;
          case 1:
            await control.endpoints(namespace, 'web2', web2Sets[i % 3]);
            break;
          case 2:
            await control.rpc.request('routes.create', { namespace, body: { metadata: { name: `other-${i}` }, spec: { host: `other-${i}-${namespace}.apps.localhost`, to: { name: 'web' } } } });
            break;
          case 3:
            await control.rpc.request('routes.delete', { namespace, name: `other-${i - 1}` });
            break;
          case 4: {
            lastShape = ROUTE_SHAPES[Math.floor(i / 5) % ROUTE_SHAPES.length];
            await control.rpc.request('routes.update', {
              namespace,
              name: 'web',
              body: { metadata: { name: 'web' }, spec: { path: lastShape.path, to: { name: lastShape.to }, alternateBackends: lastShape.alternateBackends } },
            });
            break;
          }
        }
        applied++;
      }
      answeredDuringUpdates = answered - answeredBefore;

      // The last updates are applied by the router: web's endpoints are webSets[95 % 3], web2's web2Sets[96 % 3], and the route has lastShape.
      const expected = new Set([...(lastShape.to === 'web' || lastShape.alternateBackends.some((b) => b.name === 'web') ? webSets[95 % 3] : []), ...(lastShape.to === 'web2' || lastShape.alternateBackends.some((b) => b.name === 'web2') ? web2Sets[96 % 3] : [])].map((b) => b.name));
      const settled = await until(
        async () => {
          const bodies = new Set<string>();
          for (let i = 0; i < 40; i++) bodies.add((await get(router.httpPort, host, '/app/item', agent)).body);
          return { status: 200, body: [...bodies].sort().join(','), headers: {} };
        },
        (a) => a.body === [...expected].sort().join(','),
        `the final table (${[...expected].join(', ')})`,
        15_000,
      );
      expect(settled.body.split(',')).toEqual([...expected].sort());
    } finally {
      stop = true;
      await Promise.all(load);
    }

    expect(failures).toEqual([]);
    expect(answeredDuringUpdates).toBeGreaterThan(UPDATES);
    // Both Services served while the route moved between them.
    expect([...seen.keys()].sort()).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    // The routes of other hosts were really created and deleted: the last one created is gone.
    expect((await get(router.httpPort, `other-97-${namespace}.apps.localhost`)).status).toBe(404);
    expect(router.running).toBe(true);
  });
});
