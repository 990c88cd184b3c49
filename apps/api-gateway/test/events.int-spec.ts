import { durableName, type EventEnvelope, type EventMap, type EventType } from '@paas/contracts/events';
import { resourceMethod } from '@paas/contracts/rpc';
import { busNames } from '@paas/platform/bus-names';
import { EventBus } from '@paas/platform/events';
import { eventually } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { NatsConnection, Subscription } from 'nats';
import { randomUUID } from 'node:crypto';
import { EventRepository } from '../src/events/event.repository';
import { NAMESPACE_WAIT_MS } from '../src/events/record-event.usecase';
import { forgetNamespace, startGateway } from './support';
import { NAMESPACE_CONTENTS } from '../src/namespaces/delete-namespace.usecase';

const DIGEST = `sha256:${'c'.repeat(64)}`;

/**
 * Kubernetes Events recorded by an in-process gateway on an isolated bus and database, against
 * the real NATS and Mongo-compatible server: domain events published on that bus (as the
 * build- and deploy-service publish them) become Events, aggregated, listed and read through
 * the API, each counted once however often it is delivered, and gone with their namespace.
 */
describe('Kubernetes Events from the domain events', () => {
  const suffix = randomUUID().slice(0, 8);
  const namespace = `events-${suffix}`;
  const viewer = { name: `viewer-${suffix}`, password: 'a viewer password' };
  const stranger = { name: `stranger-${suffix}`, password: 'a stranger password' };
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let nats: NatsConnection;
  let buildService: EventBus;
  let deployService: EventBus;

  beforeAll(async () => {
    gateway = await startGateway('events');
    nats = gateway.app.get(NATS_CONNECTION);
    // Publishers on the isolated bus, named as the services whose events these are.
    buildService = new EventBus(nats, 'build-service');
    deployService = new EventBus(nats, 'deploy-service');
    await gateway.admin.post('/api/v1/namespaces').send({ metadata: { name: namespace } }).expect(201);
    for (const user of [viewer, stranger]) await gateway.admin.post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password }).expect(201);
    await gateway.admin
      .post(`/api/v1/namespaces/${namespace}/rolebindings`)
      .send({ metadata: { name: 'viewers' }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: viewer.name }] })
      .expect(201);
  });

  afterAll(async () => {
    for (const user of [viewer, stranger]) await gateway.admin.delete(`/api/v1/users/${user.name}`);
    await forgetNamespace(gateway.app, namespace);
    await gateway.close();
  });

  const events = (query: Record<string, string> = {}) => gateway.admin.get(`/api/v1/namespaces/${namespace}/events`).query(query);
  const summary = (items: { involvedObject: { name: string }; reason: string; type: string; count: number }[]) =>
    items.map(({ involvedObject, reason, type, count }) => `${involvedObject.name} ${type} ${reason} x${count}`).sort();

  /** Resolves once the gateway's durable consumer of `type` has nothing left to deliver or to be acked. */
  const drained = (type: EventType) =>
    eventually(
      `the gateway to have handled every ${type}`,
      async () => {
        const info = await (await nats.jetstreamManager()).consumers.info(busNames().stream, durableName('api-gateway', type));
        return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      },
      20_000,
    );

  /** Sends an envelope as another message to the stream: what a redelivery, or the relay's late repeat, looks like to a consumer. */
  const sendAgain = <T extends EventType>(envelope: EventEnvelope<T>) =>
    nats.jetstream().publish(busNames().event(envelope.type), JSON.stringify(envelope), { msgID: `again-${randomUUID()}` });

  it('records builds and pods as Events, counting one (object, reason, type) on one Event and each domain event once', async () => {
    const build = { namespace, name: 'app-1', uid: `b-${suffix}`, buildConfig: 'app' };
    const pod = { namespace, name: 'web-1-abcde', uid: `p-${suffix}`, phase: 'Running' };
    await buildService.publish('build.started', build);
    await buildService.publish('build.completed', { ...build, output: { imageStreamTag: 'app:latest', digest: DIGEST, dockerImageReference: `127.0.0.1:5000/${namespace}/app@${DIGEST}` } });
    const firstFailure = await deployService.publish('pod.changed', { ...pod, ready: false, message: 'GET http://127.0.0.1:40001/ failed 3 times' });
    await deployService.publish('pod.changed', { ...pod, ready: false, message: 'GET http://127.0.0.1:40001/ failed 4 times' });
    await deployService.publish('pod.changed', { ...pod, ready: true });
    await sendAgain(firstFailure);
    await sendAgain(firstFailure);

    for (const type of ['build.started', 'build.completed', 'pod.changed'] as const) await drained(type);
    const listed = await events().expect(200);
    expect(listed.body).toMatchObject({ apiVersion: 'v1', kind: 'EventList' });
    expect(summary(listed.body.items)).toEqual([
      'app-1 Normal BuildCompleted x1',
      'app-1 Normal BuildStarted x1',
      'web-1-abcde Normal PodReady x1',
      'web-1-abcde Warning PodNotReady x2',
    ]);
    const notReady = listed.body.items.find((event: { reason: string }) => event.reason === 'PodNotReady');
    expect(notReady).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: expect.stringMatching(/^web-1-abcde\.[0-9a-f]{16}$/), namespace, uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.any(String) },
      involvedObject: { kind: 'Pod', name: 'web-1-abcde', namespace, uid: pod.uid },
      reason: 'PodNotReady',
      message: 'Readiness probe failed: GET http://127.0.0.1:40001/ failed 4 times',
      type: 'Warning',
      count: 2,
      firstTimestamp: firstFailure.time,
      lastTimestamp: expect.any(String),
      source: { component: 'deploy-service' },
    });
    expect(Date.parse(notReady.lastTimestamp)).toBeGreaterThanOrEqual(Date.parse(notReady.firstTimestamp));
    expect((await gateway.admin.get(`/api/v1/namespaces/${namespace}/events/${notReady.metadata.name}`).expect(200)).body).toEqual(notReady);
  });

  it('narrows the list by field selector, as kubectl describe asks for an object’s events', async () => {
    expect(summary((await events({ fieldSelector: 'involvedObject.name=web-1-abcde' }).expect(200)).body.items)).toEqual(['web-1-abcde Normal PodReady x1', 'web-1-abcde Warning PodNotReady x2']);
    const completed = (await events({ fieldSelector: 'involvedObject.kind=Build,reason=BuildCompleted' }).expect(200)).body.items;
    expect(completed).toHaveLength(1);
    expect(completed[0].message).toContain(DIGEST);
    const refused = await events({ fieldSelector: 'spec.colour=red' });
    expect([refused.status, refused.body.reason, refused.body.message]).toEqual([400, 'BadRequest', expect.stringContaining('field label not supported: spec.colour')]);
  });

  it('lets the namespace’s viewers read its Events, and nobody write them', async () => {
    expect((await gateway.as(viewer.name, viewer.password).get(`/api/v1/namespaces/${namespace}/events`)).status).toBe(200);
    expect((await gateway.as(stranger.name, stranger.password).get(`/api/v1/namespaces/${namespace}/events`)).status).toBe(403);
    const created = await gateway.admin.post(`/api/v1/namespaces/${namespace}/events`).send({ metadata: { name: 'forged' }, reason: 'BuildCompleted' });
    expect([created.status, created.body.reason]).toEqual([405, 'MethodNotAllowed']);
    expect((await gateway.admin.delete(`/api/v1/namespaces/${namespace}/events/anything`)).status).toBe(405);
    expect((await gateway.as(viewer.name, viewer.password).delete(`/api/v1/namespaces/${namespace}/events/anything`)).status).toBe(403);
  });

  it('removes a namespace’s Events with the namespace, and records none in it afterwards', async () => {
    // The owners of the namespace's other contents are not on this bus: answer their lists as empty.
    const owners: Subscription[] = NAMESPACE_CONTENTS.map((plural) =>
      nats.subscribe(busNames().rpc(resourceMethod(plural, 'list')), {
        callback: (_error, message) => message.respond(JSON.stringify({ ok: true, result: { apiVersion: 'v1', kind: 'List', metadata: {}, items: [] } })),
      }),
    );
    try {
      expect((await events().expect(200)).body.items.length).toBeGreaterThan(0);
      await gateway.admin.delete(`/api/v1/namespaces/${namespace}`).expect(200);
    } finally {
      for (const owner of owners) owner.unsubscribe();
    }
    expect(await gateway.app.get(EventRepository).list({ namespace })).toEqual([]);

    // A late event of the deleted namespace (published before it went, delivered after the wait for a namespace): dropped.
    const late: EventEnvelope<'build.failed'> = {
      id: `late-${suffix}`,
      type: 'build.failed',
      source: 'build-service',
      subject: `${namespace}/app-2`,
      time: new Date(Date.now() - NAMESPACE_WAIT_MS - 1000).toISOString(),
      data: { namespace, name: 'app-2', buildConfig: 'app', reason: 'AssembleFailed', message: 'assemble exited with 1' } satisfies EventMap['build.failed'],
    };
    await sendAgain(late);
    await drained('build.failed');
    expect(await gateway.app.get(EventRepository).list({ namespace })).toEqual([]);
  });
});
