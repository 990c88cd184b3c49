import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getModelToken, InjectModel, MongooseModule } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { mongoRoot } from '../src/mongo';
import { OUTBOX_PUBLISHER } from '../src/outbox';
import { ResourceFeed } from '../src/resource-feed';
import { ResourceRepository, storedResourceSchema, type OutboxEvent, type StoredResource } from '../src/resource-repository';
import { resourceRepositoryConformance, type Widget, type Wiring } from './support/resource-repository-conformance';

const COLLECTION = 'widgets';

@Injectable()
class WidgetRepository extends ResourceRepository<Widget> {
  constructor(@InjectModel(COLLECTION) model: Model<StoredResource>) {
    super(model, 'Widget');
  }
}

/** The repository as a service wires it: Nest injects the feed and the outbox publisher. */
async function startWith(wiring: Wiring): Promise<INestApplicationContext> {
  @Module({
    imports: [mongoRoot('paas_platform_repository_test'), MongooseModule.forFeature([{ name: COLLECTION, schema: storedResourceSchema(COLLECTION) }])],
    providers: [WidgetRepository, { provide: ResourceFeed, useValue: wiring.feed }, { provide: OUTBOX_PUBLISHER, useValue: wiring.publisher }],
  })
  class WidgetModule {}
  const app = await NestFactory.createApplicationContext(WidgetModule, { logger: false });
  await app.init();
  return app;
}

describe('ResourceRepository on the Mongo-compatible server', () => {
  const apps: INestApplicationContext[] = [];
  const namespaces: string[] = [];
  const newNamespace = () => {
    const namespace = `t-${randomUUID().slice(0, 8)}`;
    namespaces.push(namespace);
    return namespace;
  };

  afterAll(async () => {
    if (apps[0]) await apps[0].get<Model<StoredResource>>(getModelToken(COLLECTION)).deleteMany({ namespace: { $in: namespaces } });
    for (const app of apps) await app.close();
  });

  describe('conformance', () => {
    resourceRepositoryConformance({
      make: async (wiring) => {
        const app = await startWith(wiring);
        apps.push(app);
        return app.get(WidgetRepository);
      },
      namespace: newNamespace,
    });
  });

  describe('versions', () => {
    let published: OutboxEvent[];
    let busUp: boolean;
    let repo: WidgetRepository;
    let model: Model<StoredResource>;
    let namespace: string;

    beforeAll(async () => {
      const app = await startWith({
        publisher: {
          publish: async (event) => {
            if (!busUp) throw new Error('bus unavailable');
            published.push(event);
          },
        },
        feed: { announce: () => undefined },
      });
      apps.push(app);
      repo = app.get(WidgetRepository);
      model = app.get<Model<StoredResource>>(getModelToken(COLLECTION));
    });
    beforeEach(() => {
      published = [];
      busUp = true;
      namespace = newNamespace();
    });

    const widget = (name: string) => ({ metadata: { name, namespace }, spec: { size: 1 }, status: { phase: 'New' } });
    const gone = (id: string): OutboxEvent => ({ id, type: 'route.changed', data: { namespace, name: 'w', generation: 2, deleted: true } });
    const versionsOf = async (name: string) => (await model.find({ namespace, name }).sort({ rv: 1 }).lean<StoredResource[]>().exec()).map((v) => v.rv);

    it('lets exactly one of several concurrent writers of one version win (FerretDB updates are not atomic)', async () => {
      await repo.create(widget('w'));
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5, 6].map(() => repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: w.spec.size + 1 } }), { resourceVersion: '1' })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.status.code)).toEqual([409, 409, 409, 409, 409]);
      expect(await repo.get(namespace, 'w')).toMatchObject({ spec: { size: 2 }, metadata: { resourceVersion: '2' } });
      const racing = await Promise.allSettled([1, 2, 3, 4].map(() => repo.create(widget('x'))));
      expect(racing.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    });

    it('keeps only the newest version once older ones owe nothing', async () => {
      await repo.create(widget('w'));
      for (let size = 2; size <= 4; size++) await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size } }));
      expect(await versionsOf('w')).toEqual([4]);
    });

    it('keeps a version whose events are owed until the relay publishes them, and serves the newest meanwhile', async () => {
      await repo.create(widget('w'));
      busUp = false;
      const deleted = await repo.delete(namespace, 'w', { outbox: (w) => [gone(`gone-${w.metadata.uid}`)] });
      expect(await repo.find(namespace, 'w')).toBeUndefined();
      // A name whose deletion is still owed can be taken again; its versions go on rising.
      const again = await repo.create(widget('w'));
      expect(again.metadata.resourceVersion).toBe('3');
      expect(await versionsOf('w')).toEqual([2, 3]);

      busUp = true;
      // The sweep covers the whole collection: other tests may have left events owed too.
      expect(await repo.sweep()).toBeGreaterThanOrEqual(1);
      expect(published.filter((event) => (event.data as { namespace?: string }).namespace === namespace).map((event) => event.id)).toEqual([`gone-${deleted.metadata.uid}`]);
      expect(await versionsOf('w')).toEqual([3]);
      expect(await repo.sweep()).toBe(0);
    });

    it('reads and updates a resource stored before versions (its _id is its uid)', async () => {
      const doc = { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'old', namespace, uid: `legacy-${namespace}`, resourceVersion: '7', generation: 2, creationTimestamp: '2026-01-01T00:00:00.000Z' }, spec: { size: 1 }, status: { phase: 'Ready' } };
      await model.collection.insertOne({ _id: doc.metadata.uid, namespace, name: 'old', rv: 7, labels: [], doc: JSON.stringify(doc) } as never);
      expect(await repo.get(namespace, 'old')).toEqual(doc);
      const updated = await repo.update(namespace, 'old', (w) => ({ ...w, spec: { size: 2 } }));
      expect(updated.metadata).toMatchObject({ uid: doc.metadata.uid, resourceVersion: '8', generation: 3 });
      expect(await versionsOf('old')).toEqual([8]);
    });
  });
});
