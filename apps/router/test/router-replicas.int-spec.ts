import path from 'node:path';
import { freePort } from '@paas/platform/testing';
import { backend, buildRouter, ControlClient, get, Isolation, NatsProcess, RouterProcess, until, type Backend } from './support/router-processes';

/**
 * Several router instances side by side agree: two router processes on one bus and one
 * database. Each change is made through the Routes API (answered by whichever replica) or
 * published as an endpoints event, and both routers then serve every host from the same
 * backends (or both answer 404).
 */
describe('two router instances on the same bus', () => {
  const isolation = new Isolation();
  const namespace = 'pair';
  const web = `web-${namespace}.apps.localhost`;
  const api = `api-${namespace}.apps.localhost`;
  let nats: NatsProcess;
  let control: ControlClient;
  const routers: RouterProcess[] = [];
  let backends: Record<'alpha' | 'beta' | 'gamma', Backend>;

  /** The backends `router` answers `host` from (over 30 requests), or `404`/`503`. */
  async function servedBy(router: RouterProcess, host: string): Promise<string> {
    const bodies = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const answer = await get(router.httpPort, host);
      bodies.add(answer.status === 200 ? answer.body : String(answer.status));
    }
    return [...bodies].sort().join(',');
  }

  /** Waits until both routers serve `host` from exactly `expected`. */
  async function bothServe(host: string, expected: string[]): Promise<void> {
    const want = [...expected].sort().join(',');
    for (const router of routers) {
      await until(async () => ({ status: 200, body: await servedBy(router, host), headers: {} }), (a) => a.body === want, `router ${router.pid} to serve ${host} from ${want}`);
    }
    // Agreement, asked again of both now that both have converged.
    expect(await Promise.all(routers.map((r) => servedBy(r, host)))).toEqual(routers.map(() => want));
  }

  beforeAll(async () => {
    buildRouter();
    const [alpha, beta, gamma] = await Promise.all(['alpha', 'beta', 'gamma'].map((name) => backend(name)));
    backends = { alpha, beta, gamma };
    nats = new NatsProcess(await freePort(), path.join(isolation.home, 'jetstream'));
    await nats.start();
    for (let i = 0; i < 2; i++) {
      // Each router its own snapshot, as on two machines.
      const router = new RouterProcess({ home: isolation.home, natsUrl: nats.url, dbPrefix: isolation.dbPrefix, env: { PAAS_HOME: path.join(isolation.home, `replica-${i}`) } });
      routers.push(router);
    }
    await Promise.all(routers.map((r) => r.start()));
    await Promise.all(routers.map((r) => r.ready()));
    control = await ControlClient.connect(nats.url);
  });

  afterAll(async () => {
    await control?.close();
    for (const router of routers) await router.stop(2_000);
    await nats?.kill();
    await Promise.all(Object.values(backends ?? {}).map((b) => b.close()));
    await isolation.remove();
  });

  it('serve the same hosts from the same backends after each route and endpoint change', async () => {
    const { alpha, beta, gamma } = backends;
    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { host: web, to: { name: 'web' } } } });
    // Each replica's per-replica consumer exists once it is ready; republish until both have applied.
    await until(
      async () => {
        await control.endpoints(namespace, 'web', [alpha, beta]);
        const answers = await Promise.all(routers.map((r) => get(r.httpPort, web)));
        return { status: answers.every((a) => a.status === 200) ? 200 : 0, body: '', headers: {} };
      },
      (a) => a.status === 200,
      'both routers to serve the route',
    );
    await bothServe(web, ['alpha', 'beta']);

    await control.endpoints(namespace, 'web', [beta]);
    await bothServe(web, ['beta']);

    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'api' }, spec: { host: api, to: { name: 'api' } } } });
    await bothServe(api, ['503']);
    await control.endpoints(namespace, 'api', [gamma]);
    await bothServe(api, ['gamma']);

    await control.rpc.request('routes.update', { namespace, name: 'web', body: { metadata: { name: 'web' }, spec: { to: { name: 'api' }, alternateBackends: [{ name: 'web', weight: 100 }] } } });
    await bothServe(web, ['beta', 'gamma']);

    await control.rpc.request('routes.delete', { namespace, name: 'api' });
    await bothServe(api, ['404']);
    await bothServe(web, ['beta', 'gamma']);

    await control.endpoints(namespace, 'web', [alpha]);
    await bothServe(web, ['alpha', 'gamma']);
    expect(routers.every((r) => r.running)).toBe(true);
  });
});
