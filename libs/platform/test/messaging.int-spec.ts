import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectModel, MongooseModule } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { durableName, type EventEnvelope } from '@paas/contracts/events';
import type { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '../src/tokens';
import { busNames } from '../src/bus-names';
import { dropIsolatedBus, isolateBus } from '../src/testing';
import type { Route } from '@paas/contracts/routes';
import { EventBus } from '../src/events';
import { MessagingModule } from '../src/messaging.module';
import { mongoRoot } from '../src/mongo';
import { ResourceRepository, storedResourceSchema, type StoredResource } from '../src/resource-repository';
import { RpcClient, RpcServer } from '../src/rpc';

@Injectable()
class RouteRepository extends ResourceRepository<Route> {
  constructor(@InjectModel('routes') model: Model<StoredResource>) {
    super(model, 'Route');
  }
}

@Module({
  imports: [
    MessagingModule.forRoot('platform-test'),
    mongoRoot('paas_platform_test'),
    MongooseModule.forFeature([{ name: 'routes', schema: storedResourceSchema('routes') }]),
  ],
  providers: [RouteRepository],
})
class TestModule {}

describe('platform against real NATS JetStream and the Mongo-compatible server', () => {
  let app: INestApplicationContext;
  const namespace = `t-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    isolateBus('platform');
    app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    await app.init();
  });
  afterAll(async () => {
    const model = app.get<Model<StoredResource>>('routesModel');
    await model.deleteMany({ namespace });
    await dropIsolatedBus(app.get(NATS_CONNECTION));
    await app.close();
  });

  it('stores resources with optimistic concurrency and label queries', async () => {
    const routes = app.get(RouteRepository);
    const spec = { host: 'a.apps.localhost', path: '/', wildcardPolicy: 'None' as const, to: { kind: 'Service' as const, name: 'a', weight: 100 }, alternateBackends: [] };
    const created = await routes.create({ metadata: { name: 'a', namespace, labels: { app: 'a' } }, spec, status: { ingress: [] } });
    expect(created.metadata).toMatchObject({ resourceVersion: '1', generation: 1 });
    await expect(routes.create({ metadata: { name: 'a', namespace }, spec, status: { ingress: [] } })).rejects.toMatchObject({ status: { code: 409, reason: 'AlreadyExists' } });

    const updated = await routes.update(namespace, 'a', (r) => ({ ...r, spec: { ...r.spec, path: '/x' } }), { resourceVersion: '1' });
    expect(updated.metadata).toMatchObject({ resourceVersion: '2', generation: 2 });
    await expect(routes.update(namespace, 'a', (r) => r, { resourceVersion: '1' })).rejects.toMatchObject({ status: { code: 409, reason: 'Conflict' } });
    const statusOnly = await routes.updateStatus(namespace, 'a', () => ({ ingress: [{ host: 'h', routerName: 'default', conditions: [] }] }));
    expect(statusOnly.metadata).toMatchObject({ resourceVersion: '3', generation: 2 });

    await routes.create({ metadata: { name: 'b', namespace, labels: { app: 'b' } }, spec, status: { ingress: [] } });
    expect((await routes.list({ namespace, labels: { app: 'b' } })).map((r) => r.metadata.name)).toEqual(['b']);
    expect((await routes.list({ namespace })).map((r) => r.metadata.name)).toEqual(['a', 'b']);
    await routes.delete(namespace, 'b');
    await expect(routes.get(namespace, 'b')).rejects.toMatchObject({ status: { code: 404 } });
  });

  it('delivers a published event to a durable subscriber and redelivers after a failure', async () => {
    const bus = app.get(EventBus);
    const seen: EventEnvelope<'route.changed'>[] = [];
    let failOnce = true;
    const delivered = new Promise<void>((resolve) =>
      bus.subscribe('route.changed', async (event) => {
        if (event.data.namespace !== namespace) return;
        if (failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        seen.push(event);
        resolve();
      }),
    );
    await bus.publish('route.changed', { namespace, name: 'a', generation: 2, deleted: false });
    await delivered;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'route.changed', subject: `${namespace}/a`, data: { generation: 2 } });
  });

  it('gives every replica its own copy of an event when asked', async () => {
    const bus = app.get(EventBus);
    const copies: string[] = [];
    const both = new Promise<void>((resolve) => {
      const collect = (replica: string) => async (event: EventEnvelope<'endpoints.changed'>) => {
        if (event.data.namespace !== namespace) return;
        copies.push(replica);
        if (copies.length === 2) resolve();
      };
      void bus.subscribe('endpoints.changed', collect('one'), { everyReplica: true });
      void bus.subscribe('endpoints.changed', collect('two'), { everyReplica: true });
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await bus.publish('endpoints.changed', { namespace, name: 'svc', generation: 1, addresses: [] });
    await both;
    expect(copies.sort()).toEqual(['one', 'two']);
  });

  it('resumes consuming after its consumer is deleted on the server', async () => {
    const bus = app.get(EventBus);
    const received = new Set<string>();
    await bus.subscribe('pod.changed', async (event) => {
      if (event.data.namespace === namespace) received.add(event.data.name);
    });
    const nats = app.get<NatsConnection>(NATS_CONNECTION);
    const jsm = await nats.jetstreamManager();
    await jsm.consumers.delete(busNames().stream, durableName('platform-test', 'pod.changed'));
    await bus.publish('pod.changed', { namespace, name: 'after-delete', phase: 'Running', ready: true });
    const deadline = Date.now() + 20_000;
    while (!received.has('after-delete') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.has('after-delete')).toBe(true);
  });

  it('answers requests with results and Status errors', async () => {
    const server = app.get(RpcServer);
    const routes = app.get(RouteRepository);
    server.handle('routes.get', (request) => routes.get(request.namespace, request.name));
    const client = app.get(RpcClient);
    await expect(client.request('routes.get', { namespace, name: 'a' })).resolves.toMatchObject({ spec: { path: '/x' } });
    await expect(client.request('routes.get', { namespace, name: 'missing' })).rejects.toMatchObject({ status: { code: 404, reason: 'NotFound' } });
    await expect(client.request('builds.get', { namespace, name: 'x' }, { timeoutMs: 500 })).rejects.toMatchObject({ status: { code: 503 } });
  });

  it('refuses a request whose name is not a name before any handler sees it', async () => {
    const client = app.get(RpcClient);
    const operator = { $ne: null } as unknown as string;
    await expect(client.request('routes.get', { namespace, name: operator })).rejects.toMatchObject({ status: { code: 422, details: { causes: [expect.objectContaining({ field: 'name' })] } } });
    await expect(client.request('routes.get', { namespace: 'Bad_NS', name: 'a' })).rejects.toMatchObject({ status: { code: 422 } });
  });

  it('answers a request that is not JSON, or nests too deep, with a 400 before any handler sees it', async () => {
    const nats = app.get<NatsConnection>(NATS_CONNECTION);
    const ask = async (data: string) => (await nats.request(busNames().rpc('routes.get'), data, { timeout: 5_000 })).json<{ ok: boolean; status?: { code: number; message: string } }>();
    const deep = `{"namespace":"${namespace}","name":"a","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect(await ask(deep)).toMatchObject({ ok: false, status: { code: 400, message: expect.stringContaining('levels deep') } });
    expect(await ask('{"namespace":')).toMatchObject({ ok: false, status: { code: 400, message: expect.stringContaining('not valid JSON') } });
  });

  it('keeps its isolated bus apart from the platform bus on the same NATS', async () => {
    const nats = app.get<NatsConnection>(NATS_CONNECTION);
    const overheard: string[] = [];
    const platformSide = nats.subscribe('paas.rpc.routes.get', { callback: (_error, message) => overheard.push(message.subject) });
    await expect(app.get(RpcClient).request('routes.get', { namespace, name: 'a' })).resolves.toMatchObject({ metadata: { name: 'a' } });
    await nats.flush();
    platformSide.unsubscribe();
    expect(overheard).toEqual([]);
  });
});
