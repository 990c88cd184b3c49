import type { Route } from '@paas/contracts/routes';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { RouterConfig } from '../config';
import { RouterState } from '../table/router-state';
import { AdmitDomain } from './admit-domain.usecase';
import { CreateRoute } from './create-route.usecase';
import { DeleteRoute } from './delete-route.usecase';
import { RouteWrites } from './route-writes';
import { UpdateRoute } from './update-route.usecase';

const config = { domain: 'apps.localhost' } as RouterConfig;

/** The route use cases over the in-memory store, with what their writes owe the bus. */
function routesWorld(publish: (event: OutboxEvent) => Promise<void> = async () => undefined) {
  const published: OutboxEvent[] = [];
  // Creation times from the real clock (ever rising), as a dry run's draft, which admission compares with stored routes, has.
  let last = 0;
  const routes = new InMemoryResourceRepository<Route>('Route', {
    now: () => (last = Math.max(Date.now(), last + 1)),
    publisher: {
      publish: async (event) => {
        await publish(event);
        published.push(event);
      },
    },
  });
  const state = new RouterState();
  const writes = new RouteWrites(routes, state);
  const admitDomain = new AdmitDomain(routes, writes);
  return {
    routes,
    state,
    published,
    create: new CreateRoute(routes, writes, admitDomain, config),
    update: new UpdateRoute(routes, writes, admitDomain, config),
    delete: new DeleteRoute(writes, admitDomain),
    held: () => state.snapshot().routes.map((route) => `${route.metadata.namespace}/${route.metadata.name}@${route.metadata.resourceVersion}`),
  };
}

const body = (name: string, host?: string) => ({ metadata: { name }, spec: { host, to: { kind: 'Service', name } } });
const admitted = (route: Route) => route.status.ingress[0]?.conditions.find((c) => c.type === 'Admitted')?.status;

describe('route writes', () => {
  it('owe route.changed through their outbox, one id per version, and this replica serves the route at once', async () => {
    const world = routesWorld();
    const created = await world.create.execute({ namespace: 'demo', body: body('web') });
    const { uid } = created.metadata;
    expect(world.published).toEqual([{ id: `route.changed:${uid}:1`, type: 'route.changed', data: { namespace: 'demo', name: 'web', generation: 1, deleted: false } }]);
    expect(world.held()).toEqual(['demo/web@1']);

    await world.update.execute({ namespace: 'demo', name: 'web', body: { ...body('web'), spec: { to: { kind: 'Service', name: 'web' }, path: '/v2' } } });
    await world.delete.execute({ namespace: 'demo', name: 'web' });
    expect(world.published.map((event) => [event.id, event.data])).toEqual([
      [`route.changed:${uid}:1`, { namespace: 'demo', name: 'web', generation: 1, deleted: false }],
      [`route.changed:${uid}:2`, { namespace: 'demo', name: 'web', generation: 2, deleted: false }],
      [`route.changed:${uid}:deleted`, { namespace: 'demo', name: 'web', generation: 2, deleted: true }],
    ]);
    expect(world.held()).toEqual([]);
  });

  it('announce an admission verdict as its own write: the route waiting for a host is admitted once the owner goes', async () => {
    const world = routesWorld();
    const owner = await world.create.execute({ namespace: 'first', body: body('shop', 'shop.example.com') });
    const waiting = await world.create.execute({ namespace: 'second', body: body('shop', 'shop.example.com') });
    expect(admitted(waiting)).toBe('False');

    world.published.length = 0;
    await world.delete.execute({ namespace: 'first', name: 'shop' });
    expect(world.published.map((event) => event.id)).toEqual([`route.changed:${owner.metadata.uid}:deleted`, `route.changed:${waiting.metadata.uid}:2`]);
    expect(admitted(await world.routes.get('second', 'shop'))).toBe('True');
    expect(world.held()).toEqual(['second/shop@2']);
  });

  it('stand when the bus refuses the event: it stays owed for the relay, and this replica serves the route meanwhile', async () => {
    const world = routesWorld(async () => {
      throw new Error('no server stored route.changed');
    });
    const created = await world.create.execute({ namespace: 'demo', body: body('web') });
    expect(world.routes.owed.map((event) => event.id)).toEqual([`route.changed:${created.metadata.uid}:1`]);
    expect(world.held()).toEqual(['demo/web@1']);
  });

  it('write and owe nothing for a stale update or a dry run', async () => {
    const world = routesWorld();
    await world.create.execute({ namespace: 'demo', body: body('web') });
    await world.create.execute({ namespace: 'demo', body: body('api'), dryRun: true });
    const stale = { metadata: { name: 'web', resourceVersion: '0' }, spec: { to: { kind: 'Service', name: 'web' } } };
    await expect(world.update.execute({ namespace: 'demo', name: 'web', body: stale })).rejects.toMatchObject({ status: { code: 409 } });
    expect(world.published.map((event) => event.data.name)).toEqual(['web']);
    expect(world.held()).toEqual(['demo/web@1']);
  });
});
