import { getConnectionToken } from '@nestjs/mongoose';
import { ROUTE_ANNOTATIONS, type Route, type RouteBody } from '@paas/contracts/routes';
import type { Status } from '@paas/contracts/status';
import { RpcClient } from '@paas/platform/rpc';
import { dropIsolatedBus, isolateBus } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { Connection } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRouter, type StartedRouter } from '../src/bootstrap';
import { loadRouterConfig } from '../src/config';
import { RouteRepository } from '../src/routes/route.repository';
import { RouteSync } from '../src/routes/route-sync';
import { olderFirst } from '../src/table/route-table';
import { selfSignedCertificate } from '../src/testing/certificates';

const DAY = 86_400_000;
const admitted = (route: Route) => route.status.ingress[0]?.conditions.find((c) => c.type === 'Admitted');

/**
 * The Route control plane through its RPC use cases, on a router of the test's own
 * (isolated bus, its own database): validation at create and update, and host admission
 * across namespaces as every replica decides it.
 */
describe('Route validation and admission over RPC against real NATS and the Mongo-compatible server', () => {
  const suffix = randomUUID().slice(0, 8);
  const ns = { a: `team-a-${suffix}`, b: `team-b-${suffix}`, c: `team-c-${suffix}`, d: `team-d-${suffix}` };
  const home = mkdtempSync(path.join(tmpdir(), 'router-routes-int-'));
  const savedPrefix = process.env.PAAS_DB_PREFIX;
  let router: StartedRouter;
  let rpc: RpcClient;

  const create = (namespace: string, body: RouteBody) => rpc.request('routes.create', { namespace, body });
  const get = (namespace: string, name: string) => rpc.request('routes.get', { namespace, name });
  const route = (name: string, host: string, spec: Partial<RouteBody['spec']> = {}, annotations?: Record<string, string>): RouteBody => ({
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { host, to: { name: 'web' }, ...spec },
  });
  /** The Status a refused request answered with. */
  const refusal = (request: Promise<unknown>): Promise<Status> =>
    request.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: { status: Status }) => error.status,
    );

  beforeAll(async () => {
    isolateBus('router-routes');
    process.env.PAAS_DB_PREFIX = `test_routes_${suffix}`;
    const config = loadRouterConfig({ ...process.env, PAAS_HOME: home, ROUTER_HTTP_PORT: '0', ROUTER_TLS_PORT: '0', PORT: '0', ROUTER_RESYNC_SECONDS: '3600' });
    router = await startRouter({ config, logger: false });
    rpc = router.app.get(RpcClient);
  });

  afterAll(async () => {
    if (router) {
      await router.app.get<Connection>(getConnectionToken()).dropDatabase();
      await dropIsolatedBus(router.app.get(NATS_CONNECTION));
      await router.app.close();
    }
    if (savedPrefix === undefined) delete process.env.PAAS_DB_PREFIX;
    else process.env.PAAS_DB_PREFIX = savedPrefix;
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses each invalid Route with a 422 naming every field, stores none of them, and never echoes a private key', async () => {
    const host = `shop.v-${suffix}.example.com`;
    const valid = selfSignedCertificate([host]);
    const stranger = selfSignedCertificate([host]);
    const expired = selfSignedCertificate([host], { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const cases: [RouteBody, string[]][] = [
      [route('weights', host, { to: { name: 'web', weight: 300 }, alternateBackends: [{ name: 'b', weight: -1 }] }), ['spec.to.weight', 'spec.alternateBackends.0.weight']],
      [route('many', host, { alternateBackends: [{ name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }] }), ['spec.alternateBackends']],
      [route('twice', host, { alternateBackends: [{ name: 'canary' }, { name: 'web' }] }), ['spec.alternateBackends.1.name']],
      [route('half', host, { tls: { termination: 'edge', certificate: valid.certificate } }), ['spec.tls.key']],
      [route('unparsable', host, { tls: { termination: 'edge', certificate: valid.certificate, key: 'garbage' } }), ['spec.tls.key']],
      [route('mismatch', host, { tls: { termination: 'edge', certificate: valid.certificate, key: stranger.key } }), ['spec.tls.key']],
      [route('expired', host, { tls: { termination: 'edge', certificate: expired.certificate, key: expired.key } }), ['spec.tls.certificate']],
      [
        route('pass', host, { path: '/api', tls: { termination: 'passthrough', certificate: valid.certificate, key: valid.key, insecureEdgeTerminationPolicy: 'Allow' } }),
        ['spec.tls.certificate', 'spec.tls.key', 'spec.tls.insecureEdgeTerminationPolicy', 'spec.path'],
      ],
      [route('shallow', `v-${suffix}.com`, { wildcardPolicy: 'Subdomain' }), ['spec.host']],
      [{ metadata: { name: 'nohost' }, spec: { to: { name: 'web' }, wildcardPolicy: 'Subdomain' } }, ['spec.host']],
      [
        route('annotated', host, {}, { [ROUTE_ANNOTATIONS.balance]: 'fastest', [ROUTE_ANNOTATIONS.ipAllowlist]: '10.0.0.0/8 10.0.0.300', [ROUTE_ANNOTATIONS.timeout]: '5s' }),
        [`metadata.annotations[${ROUTE_ANNOTATIONS.balance}]`, `metadata.annotations[${ROUTE_ANNOTATIONS.ipAllowlist}]`],
      ],
    ];
    for (const [body, fields] of cases) {
      const status = await refusal(create(ns.a, body));
      expect({ name: body.metadata.name, code: status.code, reason: status.reason, fields: status.details?.causes?.map((c) => c.field) }).toEqual({
        name: body.metadata.name,
        code: 422,
        reason: 'Invalid',
        fields,
      });
      for (const pem of [valid.key, stranger.key, expired.key]) expect(JSON.stringify(status)).not.toContain(pem.split('\n')[1]);
    }
    expect((await rpc.request('routes.list', { namespace: ns.a })).items).toEqual([]);
  });

  it('stores edge routes (own certificate, or the default one) and passthrough routes, answers the key to readers, and validates updates too', async () => {
    const host = `secure.s-${suffix}.example.com`;
    const pair = selfSignedCertificate([host]);
    const created = await create(ns.a, route('secure', host, { tls: { termination: 'edge', certificate: pair.certificate, key: pair.key, insecureEdgeTerminationPolicy: 'Redirect' } }));
    expect(admitted(created)).toMatchObject({ status: 'True' });
    expect((await get(ns.a, 'secure')).spec.tls).toEqual({ termination: 'edge', certificate: pair.certificate, key: pair.key, insecureEdgeTerminationPolicy: 'Redirect' });

    const bare = await create(ns.a, route('bare', `bare.s-${suffix}.example.com`, { tls: { termination: 'edge', certificate: '', key: '' } }));
    expect(bare.spec.tls).toEqual({ termination: 'edge', insecureEdgeTerminationPolicy: 'None' });

    const update = (spec: Partial<RouteBody['spec']>, resourceVersion?: string) =>
      rpc.request('routes.update', { namespace: ns.a, name: 'secure', body: { metadata: { name: 'secure', resourceVersion }, spec: { host, to: { name: 'web' }, ...spec } } });
    const stranger = selfSignedCertificate([host]);
    const status = await refusal(update({ tls: { termination: 'edge', certificate: pair.certificate, key: stranger.key } }));
    expect(status.details?.causes).toEqual([{ field: 'spec.tls.key', reason: 'FieldValueInvalid', message: 'does not match the certificate' }]);
    expect((await get(ns.a, 'secure')).spec.tls?.key).toBe(pair.key);

    const passthrough = await update({ tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'Redirect' } }, created.metadata.resourceVersion);
    expect(passthrough.spec.tls).toEqual({ termination: 'passthrough', insecureEdgeTerminationPolicy: 'Redirect' });
    expect(passthrough.metadata.generation).toBe(2);
  });

  it('gives a host to one namespace at any path, first come first served; the next in line takes it over when the owner goes', async () => {
    const host = `shop.h-${suffix}.example.com`;
    const owner = await create(ns.a, route('owner', host, { path: '/' }));
    const other = await create(ns.b, route('other', host, { path: '/api' }));
    const sibling = await create(ns.a, route('sibling', host, { path: '/api' }));
    expect(admitted(owner)).toMatchObject({ status: 'True' });
    expect(admitted(other)).toMatchObject({ status: 'False', reason: 'HostAlreadyClaimed', message: `route owner in namespace ${ns.a} already exposes ${host} and is older` });
    expect(admitted(sibling)).toMatchObject({ status: 'True' });

    // The oldest remaining route is team-b's: it owns the host now, and team-a's younger sibling waits.
    await rpc.request('routes.delete', { namespace: ns.a, name: 'owner' });
    expect(admitted(await get(ns.b, 'other'))).toMatchObject({ status: 'True' });
    expect(admitted(await get(ns.a, 'sibling'))).toMatchObject({ status: 'False', message: `route other in namespace ${ns.b} already exposes ${host} and is older` });
  });

  it('lets a Subdomain wildcard claim its whole domain for its namespace, and refuses it where another namespace was first', async () => {
    const domain = `w-${suffix}.example.com`;
    const wildcard = await create(ns.a, route('wild', `www.${domain}`, { wildcardPolicy: 'Subdomain' }));
    const exact = await create(ns.b, route('api', `api.${domain}`));
    const rival = await create(ns.b, route('rival', `x.${domain}`, { wildcardPolicy: 'Subdomain' }));
    const deeper = await create(ns.b, route('deeper', `a.b.${domain}`));
    const own = await create(ns.a, route('blog', `blog.${domain}`));
    expect(admitted(wildcard)).toMatchObject({ status: 'True' });
    for (const refused of [exact, rival]) {
      expect(admitted(refused)).toMatchObject({
        status: 'False',
        reason: 'HostAlreadyClaimed',
        message: `route wild in namespace ${ns.a} already claims *.${domain} (wildcardPolicy Subdomain) and is older`,
      });
    }
    expect(admitted(deeper)).toMatchObject({ status: 'True' });
    expect(admitted(own)).toMatchObject({ status: 'True' });

    // Without team-a's wildcard, team-b's routes are the oldest in the domain: its wildcard now claims it, and team-a's younger blog waits.
    await rpc.request('routes.delete', { namespace: ns.a, name: 'wild' });
    expect(admitted(await get(ns.b, 'api'))).toMatchObject({ status: 'True' });
    expect(admitted(await get(ns.b, 'rival'))).toMatchObject({ status: 'True' });
    expect(admitted(await get(ns.a, 'blog'))).toMatchObject({ status: 'False', message: `route rival in namespace ${ns.b} already claims *.${domain} (wildcardPolicy Subdomain) and is older` });

    // An older exact host of another namespace keeps a younger wildcard out of its domain.
    const tame = `t-${suffix}.example.com`;
    await create(ns.c, route('first', `first.${tame}`));
    const late = await create(ns.d, route('late', `www.${tame}`, { wildcardPolicy: 'Subdomain' }));
    expect(admitted(late)).toMatchObject({
      status: 'False',
      message: `route first in namespace ${ns.c} already exposes first.${tame} and is older; a Subdomain wildcard claims all of *.${tame} for one namespace`,
    });
    // Moving it to a free domain admits it.
    const moved = await rpc.request('routes.update', {
      namespace: ns.d,
      name: 'late',
      body: { metadata: { name: 'late' }, spec: { host: `www.free-${suffix}.example.com`, wildcardPolicy: 'Subdomain', to: { name: 'web' } } },
    });
    expect(admitted(moved)).toMatchObject({ status: 'True' });
  });

  it('settles concurrent creates for one host from several namespaces: exactly one admitted, the oldest, as stored', async () => {
    const host = `race.r-${suffix}.example.com`;
    const namespaces = Object.values(ns);
    await Promise.all(namespaces.map((namespace) => create(namespace, route('race', host))));
    const stored = await Promise.all(namespaces.map((namespace) => get(namespace, 'race')));
    const winners = stored.filter((r) => admitted(r)?.status === 'True');
    expect(winners.map((r) => r.metadata.namespace)).toEqual([[...stored].sort(olderFirst)[0].metadata.namespace]);
    for (const loser of stored.filter((r) => !winners.includes(r))) {
      expect(admitted(loser)).toMatchObject({ status: 'False', message: `route race in namespace ${winners[0].metadata.namespace} already exposes ${host} and is older` });
    }
  });

  it('re-admits, on resync, routes whose stored verdict is not what admission decides (a route stored under the old host+path rule)', async () => {
    const host = `legacy.l-${suffix}.example.com`;
    await create(ns.a, route('owner', host));
    const repository = router.app.get(RouteRepository);
    const legacy = await repository.create({
      metadata: { name: 'legacy', namespace: ns.b },
      spec: { host, path: '/api', wildcardPolicy: 'None', to: { kind: 'Service', name: 'web', weight: 100 }, alternateBackends: [] },
      status: { ingress: [{ host, routerName: 'default', conditions: [{ type: 'Admitted', status: 'True', lastTransitionTime: new Date().toISOString() }] }] },
    });
    expect(admitted(legacy)).toMatchObject({ status: 'True' });

    await router.app.get(RouteSync).resync();
    expect(admitted(await get(ns.b, 'legacy'))).toMatchObject({ status: 'False', reason: 'HostAlreadyClaimed' });
    expect(router.runtime.state.table.match(host, '/api')?.namespace).toBe(ns.a);
  });
});
