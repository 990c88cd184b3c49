import { deploymentConfigInput } from '@paas/contracts/deployments';
import type { ImageStreamTag } from '@paas/contracts/images';
import { Logger } from '@nestjs/common';
import { ApiError } from '@paas/platform/api-error';
import { HandledElsewhereError } from '@paas/platform/events';
import { deployFixture, MemoryRolloutLogs, RecordingEnqueuer, stopFixture, testSettings, type DeployFixture, quotaAdmission, noHooks } from '../testing/fakes';
import { DeploymentConfigReconciler } from './deploymentconfig.reconciler';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { ImageChangeTriggerController, OBSERVED_STREAMS_ANNOTATION } from './image-change-trigger';
import { Revisions } from './revisions';

const REF_1 = '127.0.0.1:5000/demo/web@sha256:aaa';
const REF_2 = '127.0.0.1:5000/demo/web@sha256:bbb';

function body(image = '', triggers: unknown[] = [{ type: 'ImageChange', imageChangeParams: { containerNames: ['web'], from: { kind: 'ImageStreamTag', name: 'web:latest' } } }, { type: 'ConfigChange' }]) {
  return {
    metadata: { name: 'web' },
    spec: {
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] } },
      triggers,
    },
  };
}

/** The registry-service's ImageStreamTag `demo/web:latest`: its history, newest first; every push is a new resourceVersion of the stream. */
class FakeRegistry {
  history: string[] = [];
  resourceVersion = 1;
  state: 'up' | 'missing' | 'down' = 'up';
  /** Answers the next requests with these snapshots instead (a stale read). */
  readonly stale: ImageStreamTag[] = [];
  readonly request = jest.fn(async (_method: 'imagestreamtags.get', _request: { namespace: string; name: string }, _options: { timeoutMs: number }): Promise<ImageStreamTag> => {
    if (this.state === 'down') throw ApiError.of('ServiceUnavailable', 'registry-service is not available to answer imagestreamtags.get');
    const snapshot = this.stale.shift() ?? this.snapshot();
    if (this.state === 'missing' || !snapshot.image) throw ApiError.notFound('ImageStreamTag', 'web:latest');
    return snapshot;
  });

  push(reference: string) {
    this.history = [reference, ...this.history];
    this.resourceVersion++;
  }

  snapshot(): ImageStreamTag {
    const [current] = this.history;
    return {
      apiVersion: 'v1',
      kind: 'ImageStreamTag',
      metadata: { name: 'web:latest', namespace: 'demo', uid: 'is', resourceVersion: String(this.resourceVersion), creationTimestamp: '' },
      image: current && { created: '', dockerImageReference: current, image: current.split('@')[1], generation: 1 },
      historyLength: this.history.length,
    } as ImageStreamTag;
  }
}

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

async function setup(...pushed: string[]) {
  const fixture = await deployFixture(['ReplicationController']);
  fixtures.push(fixture);
  const { log, dcs, rcs, informers } = fixture;
  const enqueuer = new RecordingEnqueuer(log);
  const registry = new FakeRegistry();
  pushed.forEach((reference) => registry.push(reference));
  const now = { value: Date.parse('2030-01-01T00:01:00Z') };
  const settings = testSettings(now);
  const ownership = { owned: true, ownsNamespace: () => ownership.owned };
  const revisions = new Revisions(rcs);
  const triggers = new ImageChangeTriggerController(dcs, informers, registry, enqueuer, ownership, settings);
  const service = new DeploymentConfigsService(dcs, revisions, informers, quotaAdmission(informers));
  const reconciler = new DeploymentConfigReconciler(dcs, rcs, informers, triggers, settings, new MemoryRolloutLogs(), noHooks);
  /** What the WorkQueue does with an enqueued key: one reconcile at a time, again while it asks for an immediate rerun. */
  const reconcile = async () => {
    for (let run = 0; run < 5; run++) if ((await reconciler.reconcile('demo/web')).requeueAfterMs !== 0) return;
    throw new Error('the reconcile does not settle');
  };
  /** The periodic resync: a period later, every DC is reconciled again. */
  const resync = async () => {
    now.value += settings.resyncMs;
    await reconcile();
  };
  const revisionsOf = async () => (await rcs.list()).map((rc) => `${rc.metadata.name} ${rc.spec.template.spec.containers[0].image}`);
  return { log, dcs, rcs, registry, triggers, service, reconcile, resync, revisionsOf, now, ownership, reconciler };
}

Logger.overrideLogger(false);

describe('ImageChange and ConfigChange triggers', () => {
  it('waits for an image: no revision on create or reconcile while the tag has none', async () => {
    const { service, rcs, dcs, reconcile } = await setup();
    await service.create({ namespace: 'demo', body: body() });
    await reconcile();
    expect((await dcs.get('demo', 'web')).status.latestVersion).toBe(0);
    expect(await rcs.list()).toEqual([]);
  });

  it('a DC made after its image exists: the create asks the registry nothing, its first reconcile deploys the image', async () => {
    const { service, registry, reconcile, revisionsOf, dcs } = await setup(REF_1);
    await service.create({ namespace: 'demo', body: body() });
    expect(registry.request).not.toHaveBeenCalled();
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`]);
    expect((await dcs.get('demo', 'web')).status.latestVersion).toBe(1);
  });

  it('imagestream.updated only enqueues the DCs whose trigger names that tag; the reconcile reloads the stream, sets the image, bumps latestVersion and creates RC <dc>-<version>; a redelivery changes nothing', async () => {
    const { service, triggers, registry, rcs, dcs, log, reconcile, ownership } = await setup();
    await service.create({ namespace: 'demo', body: body() });
    await reconcile();
    registry.push(REF_1);
    registry.request.mockClear();
    log.length = 0;

    await triggers.imageStreamUpdated('demo', 'web', 'v2');
    await triggers.imageStreamUpdated('demo', 'other', 'latest');
    expect(log).toEqual([]);
    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    expect(log).toEqual(['enqueue dc web']);
    expect(registry.request).not.toHaveBeenCalled();
    // A replica that does not own the namespace hands the event back, for the one that does.
    ownership.owned = false;
    await expect(triggers.imageStreamUpdated('demo', 'web', 'latest')).rejects.toBeInstanceOf(HandledElsewhereError);
    ownership.owned = true;
    await reconcile();
    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    await reconcile();

    expect(registry.request).toHaveBeenCalledWith('imagestreamtags.get', { namespace: 'demo', name: 'web:latest' }, { timeoutMs: expect.any(Number) });
    const dc = await dcs.get('demo', 'web');
    expect(dc.status.latestVersion).toBe(1);
    expect(dc.spec.template.spec.containers[0].image).toBe(REF_1);
    expect(dc.spec.triggers[0]).toMatchObject({ imageChangeParams: { lastTriggeredImage: REF_1 } });
    const [rc] = await rcs.list();
    expect(rc.metadata).toMatchObject({
      name: 'web-1',
      labels: { deploymentconfig: 'web' },
      annotations: { 'openshift.io/deployment-config.latest-version': '1', 'openshift.io/deployment.cause': `image change: web:latest → ${REF_1}` },
      ownerReferences: [expect.objectContaining({ kind: 'DeploymentConfig', uid: dc.metadata.uid })],
    });
    expect(rc.spec.template.metadata.labels).toEqual({ deploymentconfig: 'web', deployment: 'web-1' });
    expect(await rcs.list()).toHaveLength(1);
  });

  it('a lost imagestream.updated is caught up by the resync: the reconcile re-checks the tag once per period', async () => {
    const { service, registry, reconcile, resync, revisionsOf } = await setup(REF_1);
    await service.create({ namespace: 'demo', body: body() });
    await reconcile();
    registry.push(REF_2); // its event never arrives
    registry.request.mockClear();

    await reconcile(); // a rollout step soon after: not due, no registry call
    expect(registry.request).not.toHaveBeenCalled();
    await resync();
    expect(registry.request).toHaveBeenCalledTimes(1);
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`, `web-2 ${REF_2}`]);
  });

  it.each([
    ['A then B', [REF_1, REF_2]],
    ['B then A', [REF_2, REF_1]],
  ])('the stream moved A→B and the events arrive %s: the DC ends on B with one new revision', async (_order, events) => {
    const { service, triggers, registry, reconcile, revisionsOf, dcs } = await setup(REF_1);
    await service.create({ namespace: 'demo', body: body() });
    await reconcile();
    registry.push(REF_2);
    for (const _event of events) {
      await triggers.imageStreamUpdated('demo', 'web', 'latest');
      await reconcile();
    }
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`, `web-2 ${REF_2}`]);
    expect((await dcs.get('demo', 'web')).spec.triggers[0]).toMatchObject({ imageChangeParams: { lastTriggeredImage: REF_2 } });
  });

  it('never rolls back to an older image: a stale read of the stream after a newer one changes nothing', async () => {
    const { service, triggers, registry, reconcile, revisionsOf } = await setup(REF_1);
    const older = registry.snapshot();
    await service.create({ namespace: 'demo', body: body() });
    registry.push(REF_2);
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_2}`]);

    registry.stale.push(older);
    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    await reconcile();
    expect(registry.stale).toEqual([]);
    expect(await revisionsOf()).toEqual([`web-1 ${REF_2}`]);
  });

  it('a user update keeps what the triggers resolved and which stream version they saw', async () => {
    const { service, registry, reconcile, dcs } = await setup(REF_1);
    await service.create({ namespace: 'demo', body: body() });
    await reconcile();
    const updated = await service.update({ namespace: 'demo', name: 'web', body: { ...body(), metadata: { name: 'web', annotations: { team: 'a' } } } });
    expect(updated.spec.template.spec.containers[0].image).toBe(REF_1);
    expect(updated.metadata.annotations).toEqual({ team: 'a', [OBSERVED_STREAMS_ANNOTATION]: JSON.stringify({ 'web:latest': `is/${registry.resourceVersion}` }) });
    expect((await dcs.get('demo', 'web')).status.latestVersion).toBe(1);
  });

  it('treats a missing ImageStream as no image yet, and an unavailable registry as "look again soon" while the rollout goes on', async () => {
    const { service, registry, reconcile, resync, rcs, revisionsOf, reconciler, now } = await setup();
    registry.state = 'missing';
    await service.create({ namespace: 'demo', body: body() });
    await expect(reconcile()).resolves.toBeUndefined();
    expect(await rcs.list()).toEqual([]);

    registry.state = 'down';
    registry.push(REF_1);
    await expect(resync()).resolves.toBeUndefined();
    expect(await rcs.list()).toEqual([]);
    registry.request.mockClear();
    // Held off for 2 s (then 4, 8, … 30): no call per reconcile meanwhile, and the reconcile comes back when the pause ends.
    expect(await reconciler.reconcile('demo/web')).toEqual({ requeueAfterMs: 2_000 });
    expect(registry.request).not.toHaveBeenCalled();

    registry.state = 'up';
    now.value += 2_000;
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`]);
  });

  it('ConfigChange: an image set directly rolls out on create and on a template change, not on a label-only update', async () => {
    const { service, rcs } = await setup();
    const direct = body('paas-test/web:v1', [{ type: 'ConfigChange' }]);
    expect((await service.create({ namespace: 'demo', body: direct })).status.latestVersion).toBe(1);

    const relabelled = await service.update({ namespace: 'demo', name: 'web', body: { ...direct, metadata: { name: 'web', labels: { team: 'a' } } } });
    expect(relabelled.status.latestVersion).toBe(1);
    const changed = await service.update({ namespace: 'demo', name: 'web', body: body('paas-test/web:v2', [{ type: 'ConfigChange' }]) });
    expect(changed.status.latestVersion).toBe(2);
    expect((await rcs.list()).map((rc) => rc.metadata.name)).toEqual(['web-1', 'web-2']);
  });

  it('paused: neither a template change nor a moved tag makes a revision; the resume rolls out what changed meanwhile, once', async () => {
    const { service, registry, triggers, reconcile, revisionsOf, dcs } = await setup(REF_1);
    const paused = (image: string, isPaused: boolean, triggers?: unknown[]) => {
      const dc = body(image, triggers);
      return { ...dc, spec: { ...dc.spec, paused: isPaused } };
    };
    await service.create({ namespace: 'demo', body: paused('', false) });
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`]);

    await service.update({ namespace: 'demo', name: 'web', body: paused('', true) });
    registry.push(REF_2);
    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`]);
    await service.update({ namespace: 'demo', name: 'web', body: paused('', false) });
    await reconcile();
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`, `web-2 ${REF_2}`]);

    const direct = [{ type: 'ConfigChange' }];
    await service.update({ namespace: 'demo', name: 'web', body: paused('paas-test/web:v3', true, direct) });
    await service.update({ namespace: 'demo', name: 'web', body: paused('paas-test/web:v4', true, direct) });
    expect((await dcs.get('demo', 'web')).status.latestVersion).toBe(2);
    const resumed = await service.update({ namespace: 'demo', name: 'web', body: paused('paas-test/web:v4', false, direct) });
    expect(resumed.status.latestVersion).toBe(3);
    expect(resumed.metadata.annotations?.['paas.dev/config-change-pending']).toBeUndefined();
    expect((await service.update({ namespace: 'demo', name: 'web', body: paused('paas-test/web:v4', false, direct) })).status.latestVersion).toBe(3);
    expect(await revisionsOf()).toEqual([`web-1 ${REF_1}`, `web-2 ${REF_2}`, 'web-3 paas-test/web:v4']);
  });

  it('a DC created paused makes its first revision when resumed', async () => {
    const { service } = await setup();
    const dc = body('paas-test/web:v1', [{ type: 'ConfigChange' }]);
    expect((await service.create({ namespace: 'demo', body: { ...dc, spec: { ...dc.spec, paused: true } } })).status.latestVersion).toBe(0);
    expect((await service.update({ namespace: 'demo', name: 'web', body: dc })).status.latestVersion).toBe(1);
  });

  it('rollout latest: a new revision of the template as it is; refused while paused or before the image is known', async () => {
    const { service, reconcile, revisionsOf } = await setup();
    await service.create({ namespace: 'demo', body: body() });
    await expect(service.instantiate({ namespace: 'demo', name: 'web' })).rejects.toMatchObject({ status: { code: 400, message: 'cannot roll out deploymentconfig "web": container web has no image yet (its ImageChange trigger has not fired)' } });

    const direct = body('paas-test/web:v1', [{ type: 'ConfigChange' }]);
    await service.update({ namespace: 'demo', name: 'web', body: direct });
    expect((await service.instantiate({ namespace: 'demo', name: 'web' })).status.latestVersion).toBe(2);
    await reconcile();
    expect(await revisionsOf()).toEqual(['web-1 paas-test/web:v1', 'web-2 paas-test/web:v1']);

    await service.update({ namespace: 'demo', name: 'web', body: { ...direct, spec: { ...direct.spec, paused: true } } });
    await expect(service.instantiate({ namespace: 'demo', name: 'web' })).rejects.toMatchObject({ status: { code: 400, reason: 'BadRequest' } });
    await expect(service.instantiate({ namespace: 'demo', name: 'nope' })).rejects.toMatchObject({ status: { code: 404 } });
  });

  it('dry run validates and stores nothing; invalid input is a 422 naming the field', async () => {
    const { service, dcs } = await setup();
    const preview = await service.create({ namespace: 'demo', body: body('x:y', [{ type: 'ConfigChange' }]), dryRun: true });
    expect(preview.status.latestVersion).toBe(1);
    expect(await dcs.list()).toEqual([]);

    const mismatched = body();
    mismatched.spec.selector = { deploymentconfig: 'other' };
    await expect(service.create({ namespace: 'demo', body: mismatched })).rejects.toMatchObject({ status: { code: 422, details: { causes: [{ field: 'spec.template.metadata.labels' }] } } });
    await expect(service.create({ namespace: 'demo', body: { metadata: { name: 'web' }, spec: { replicas: -1 } } })).rejects.toMatchObject({ status: { code: 422 } });
    expect(deploymentConfigInput.safeParse(body()).success).toBe(true);
  });
});
