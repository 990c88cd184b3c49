import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getModelToken, InjectModel, MongooseModule } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { mongoRoot } from '../src/mongo';
import { OUTBOX_PUBLISHER } from '../src/outbox';
import { ResourceFeed } from '../src/resource-feed';
import { MARKER_RETENTION_MS, ResourceRepository, storedResourceSchema, TOMBSTONE_RETENTION_MS, type OutboxEvent, type StoredResource } from '../src/resource-repository';
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

  const start = async (wiring: Wiring) => {
    const app = await startWith(wiring);
    apps.push(app);
    return app;
  };

  describe('conformance', () => {
    resourceRepositoryConformance({
      make: async (wiring) => (await start(wiring)).get(WidgetRepository),
      // Another process: its own connection, its own hints.
      another: async (_first, wiring) => (await start(wiring)).get(WidgetRepository),
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
    const storedOf = async (name: string) => model.find({ namespace, name }).lean<StoredResource[]>().exec();
    /** The rvs at the name's version ids (versions, markers, seals), lowest first. */
    const versionsOf = async (name: string) => (await storedOf(name)).flatMap((v) => ('rv' in v ? [v.rv] : [])).sort((a, b) => a - b);
    /** The rvs of whole versions (not markers). */
    const wholeVersionsOf = async (name: string) => (await storedOf(name)).flatMap((v) => ('doc' in v && v.doc ? [v.rv] : [])).sort((a, b) => a - b);
    const headOf = async (name: string) => (await storedOf(name)).find((v) => 'head' in v);
    /** A repository in a process of its own (own hints, own migration), as another replica. */
    const replica = async () => (await start({ publisher: { publish: async (event) => void published.push(event) }, feed: { announce: () => undefined } })).get(WidgetRepository);
    const later = (ms: number) => Date.now() + ms + 1000;

    it('lets exactly one of several concurrent writers of one version win (FerretDB updates are not atomic)', async () => {
      await repo.create(widget('w'));
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5, 6].map(() => repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: w.spec.size + 1 } }), { resourceVersion: '1' })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.status.code)).toEqual([409, 409, 409, 409, 409]);
      expect(await repo.get(namespace, 'w')).toMatchObject({ spec: { size: 2 }, metadata: { resourceVersion: '2' } });
      const racing = await Promise.allSettled([1, 2, 3, 4].map(() => repo.create(widget('x'))));
      expect(racing.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    });

    it('empties superseded versions into markers, which the sweep deletes from the bottom once past their retention', async () => {
      await repo.create(widget('w'));
      for (let size = 2; size <= 4; size++) await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size } }));
      expect(await versionsOf('w')).toEqual([1, 2, 3, 4]);
      expect(await wholeVersionsOf('w')).toEqual([4]);
      await repo.sweep();
      expect(await versionsOf('w')).toEqual([1, 2, 3, 4]);
      await repo.sweep(later(MARKER_RETENTION_MS));
      expect(await versionsOf('w')).toEqual([4]);
      expect(await headOf('w')).toMatchObject({ floor: 4 });
      expect(await repo.get(namespace, 'w')).toMatchObject({ spec: { size: 4 }, metadata: { resourceVersion: '4' } });
    });

    it('keeps a version whose events are owed until the relay publishes them, and serves the newest meanwhile', async () => {
      await repo.create(widget('w'));
      busUp = false;
      const deleted = await repo.delete(namespace, 'w', { outbox: (w) => [gone(`gone-${w.metadata.uid}`)] });
      expect(await repo.find(namespace, 'w')).toBeUndefined();
      // A name whose deletion is still owed can be taken again; its versions go on rising.
      const again = await repo.create(widget('w'));
      expect(again.metadata.resourceVersion).toBe('3');
      expect(await wholeVersionsOf('w')).toEqual([3]);
      // Past the markers' retention, the one that owes stays, and so does everything above it.
      await expect(repo.sweep(later(MARKER_RETENTION_MS))).rejects.toThrow('bus unavailable');
      expect(await versionsOf('w')).toEqual([2, 3]);

      busUp = true;
      // The sweep covers the whole collection: other tests may have left events owed too.
      expect(await repo.sweep(later(MARKER_RETENTION_MS))).toBeGreaterThanOrEqual(1);
      expect(published.filter((event) => (event.data as { namespace?: string }).namespace === namespace).map((event) => event.id)).toEqual([`gone-${deleted.metadata.uid}`]);
      expect(await versionsOf('w')).toEqual([3]);
      expect(await repo.sweep()).toBe(0);
    });

    it('reads through a replica whose hint the sweep left below the floor, and through one with no hint', async () => {
      const other = await replica();
      await repo.create(widget('w'));
      expect(await other.get(namespace, 'w')).toMatchObject({ metadata: { resourceVersion: '1' } });
      for (let size = 2; size <= 30; size++) await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size } }));
      await repo.sweep(later(MARKER_RETENTION_MS));
      expect(await versionsOf('w')).toEqual([30]);
      expect(await other.get(namespace, 'w')).toMatchObject({ spec: { size: 30 }, metadata: { resourceVersion: '30' } });
      expect(await (await replica()).get(namespace, 'w')).toMatchObject({ metadata: { resourceVersion: '30' } });
      await other.update(namespace, 'w', (w) => ({ ...w, spec: { size: 31 } }));
      expect(await repo.get(namespace, 'w')).toMatchObject({ spec: { size: 31 }, metadata: { resourceVersion: '31' } });
    });

    it('updates from the version its hint names, read alone; from one that is no longer the newest, it lands on the newest', async () => {
      const other = await replica();
      await repo.create(widget('w'));
      const reads = jest.spyOn(model, 'findById');
      await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: 2 } }));
      expect(reads).toHaveBeenCalledTimes(1);
      reads.mockRestore();

      /** Another replica writes `size`; the version this one's hint names stays whole, as while its events are owed. */
      const writtenElsewhere = async (size: number) => {
        const [hinted] = (await storedOf('w')).flatMap((stored) => ('doc' in stored && stored.doc ? [stored] : [])).sort((a, b) => b.rv - a.rv);
        await other.update(namespace, 'w', (w) => ({ ...w, spec: { size } }));
        await model.replaceOne({ _id: hinted._id }, hinted).exec();
      };
      await writtenElsewhere(3);
      expect(await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: w.spec.size + 10 } }))).toMatchObject({ spec: { size: 13 }, metadata: { resourceVersion: '4' } });
      // Nothing to change in the hint's version is no answer: the newest is.
      await writtenElsewhere(21);
      expect(await repo.update(namespace, 'w', (w) => w)).toMatchObject({ spec: { size: 21 }, metadata: { resourceVersion: '5' } });
      // Nor is a refusal of it: the newest is asked.
      await writtenElsewhere(30);
      const grow = (w: Widget) => {
        if (w.spec.size < 30) throw new Error(`refused at size ${w.spec.size}`);
        return { ...w, spec: { size: w.spec.size + 1 } };
      };
      expect(await repo.update(namespace, 'w', grow)).toMatchObject({ spec: { size: 31 }, metadata: { resourceVersion: '7' } });
    });

    it('reads a name whose head a racing sweep set below its versions, and mends the head at the next sweep', async () => {
      await repo.create(widget('w'));
      for (let size = 2; size <= 5; size++) await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size } }));
      await repo.sweep(later(MARKER_RETENTION_MS));
      await model.updateOne({ _id: `${namespace}/w` }, { $set: { floor: 2 } }).exec();
      expect(await (await replica()).get(namespace, 'w')).toMatchObject({ metadata: { resourceVersion: '5' } });
      await repo.sweep();
      expect(await headOf('w')).toMatchObject({ floor: 5 });
    });

    it('reads a head whose create died before its first version as absent, and creates the name over it', async () => {
      await model.create({ _id: `${namespace}/w`, head: true, namespace, name: 'w', floor: 1, uid: 'died' });
      expect(await repo.find(namespace, 'w')).toBeUndefined();
      expect(await repo.list({ namespace })).toEqual([]);
      const created = await repo.create(widget('w'));
      expect(created.metadata.resourceVersion).toBe('1');
      expect(await (await replica()).get(namespace, 'w')).toEqual(created);
      await expect(repo.create(widget('w'))).rejects.toMatchObject({ status: { code: 409, reason: 'AlreadyExists' } });
    });

    it('removes a name once its deletion is past its retention, head and all; the name starts again at 1', async () => {
      await repo.create(widget('w'));
      await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: 2 } }));
      await repo.delete(namespace, 'w');
      await repo.sweep(later(MARKER_RETENTION_MS));
      expect(await versionsOf('w')).toEqual([3]);
      await repo.sweep(later(TOMBSTONE_RETENTION_MS));
      expect(await storedOf('w')).toEqual([]);
      expect(await repo.find(namespace, 'w')).toBeUndefined();
      expect((await repo.create(widget('w'))).metadata.resourceVersion).toBe('1');
    });

    it('finishes a removal whose sweep died after sealing the name, and leaves a later life of the name alone', async () => {
      await repo.create(widget('w'));
      await repo.delete(namespace, 'w');
      const head = await headOf('w');
      // The removing sweep took @3 and died.
      await model.create({ _id: `${namespace}/w@3`, namespace, name: 'w', rv: 3, sealed: true, sealedAt: Date.now(), headUid: (head as { uid: string }).uid });
      expect(await repo.find(namespace, 'w')).toBeUndefined();
      await repo.sweep(later(MARKER_RETENTION_MS));
      expect(await storedOf('w')).toEqual([]);
      // A seal from a life of the name that is over: only the seal goes.
      await repo.create(widget('w'));
      await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: 2 } }));
      await model.create({ _id: `${namespace}/w@3`, namespace, name: 'w', rv: 3, sealed: true, sealedAt: Date.now(), headUid: 'an earlier life' });
      expect(await repo.get(namespace, 'w')).toMatchObject({ metadata: { resourceVersion: '2' } });
      await repo.sweep(later(MARKER_RETENTION_MS));
      expect(await versionsOf('w')).toEqual([1, 2]);
      expect((await repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: 3 } }))).metadata.resourceVersion).toBe('3');
    });

    it('migrates a collection written before heads (versions without heads, documents keyed by uid), in two replicas at once', async () => {
      const resource = (name: string, rv: number, size = rv) => ({
        apiVersion: 'v1',
        kind: 'Widget',
        metadata: { name, namespace, uid: `legacy-${name}-${namespace}`, resourceVersion: String(rv), generation: 1, creationTimestamp: '2026-01-01T00:00:00.000Z' },
        spec: { size },
        status: { phase: 'Ready' },
      });
      const version = (name: string, rv: number, extra: object = {}) => ({ _id: `${namespace}/${name}@${rv}`, namespace, name, rv, labels: [], doc: JSON.stringify(resource(name, rv)), ...extra });
      // Versions 2 (its event still owed) and 5 of 'a', as the old removeSuperseded left them; a tombstone; a document keyed by its uid.
      await model.collection.insertMany([
        version('a', 2, { outbox: [JSON.stringify(gone(`legacy-${namespace}`))] }),
        version('a', 5),
        version('b', 3, { deleted: true, deletedAt: Date.now() }),
        { _id: `legacy-old-${namespace}`, namespace, name: 'old', rv: 7, labels: [], doc: JSON.stringify(resource('old', 7)) },
      ] as never[]);
      const [first, second] = await Promise.all([replica(), replica()]);
      const [a, b, old] = await Promise.all([first.get(namespace, 'a'), second.find(namespace, 'b'), second.get(namespace, 'old')]);
      expect(a).toEqual(resource('a', 5));
      expect(b).toBeUndefined();
      expect(old).toEqual(resource('old', 7));
      expect(await headOf('a')).toMatchObject({ floor: 5 });
      expect(await storedOf('old')).toEqual(expect.arrayContaining([expect.objectContaining({ _id: `${namespace}/old` }), expect.objectContaining({ _id: `${namespace}/old@7` })]));
      expect((await storedOf('old')).length).toBe(2);

      expect((await second.update(namespace, 'a', (w) => ({ ...w, spec: { size: 6 } }))).metadata.resourceVersion).toBe('6');
      expect((await first.create(widget('b'))).metadata.resourceVersion).toBe('4');
      expect((await first.update(namespace, 'old', (w) => ({ ...w, spec: { size: 8 } }))).metadata).toMatchObject({ uid: `legacy-old-${namespace}`, resourceVersion: '8' });
      expect((await first.list({ namespace })).map((w) => [w.metadata.name, w.metadata.resourceVersion])).toEqual([
        ['a', '6'],
        ['old', '8'],
        ['b', '4'],
      ]);
      // The owed event goes out, then what is below the floor.
      await first.sweep(later(MARKER_RETENTION_MS));
      expect(published.map((event) => event.id)).toContain(`legacy-${namespace}`);
      expect(await versionsOf('a')).toEqual([6]);
    });
  });
});
