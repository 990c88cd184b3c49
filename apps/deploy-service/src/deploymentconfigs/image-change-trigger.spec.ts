import { deploymentConfigInput, type DeploymentConfig, type ReplicationController } from '@paas/contracts/deployments';
import type { ImageStream } from '@paas/contracts/images';
import { Logger } from '@nestjs/common';
import { ApiError } from '@paas/platform/api-error';
import { InMemoryStore, RecordingEnqueuer, type ActionLog } from '../testing/fakes';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { ImageChangeTriggerController } from './image-change-trigger';
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

function stream(reference: string | undefined): ImageStream {
  return {
    apiVersion: 'v1',
    kind: 'ImageStream',
    metadata: { name: 'web', namespace: 'demo', uid: 'is', resourceVersion: '1', generation: 1, creationTimestamp: '' },
    spec: { tags: [] },
    status: { dockerImageRepository: '127.0.0.1:5000/demo/web', tags: reference ? [{ tag: 'latest', items: [{ created: '', dockerImageReference: reference, image: 'sha256:x', generation: 1 }] }] : [] },
  };
}

function setup(current: string | undefined) {
  const log: ActionLog = [];
  const dcs = new InMemoryStore<DeploymentConfig>('DeploymentConfig');
  const rcs = new InMemoryStore<ReplicationController>('ReplicationController', log);
  const enqueuer = new RecordingEnqueuer(log);
  const registry = { image: current, request: jest.fn() };
  registry.request.mockImplementation(async () => {
    if (registry.image === 'missing') throw ApiError.notFound('ImageStream', 'web');
    return stream(registry.image);
  });
  const revisions = new Revisions(rcs, enqueuer);
  const triggers = new ImageChangeTriggerController(dcs, registry, revisions);
  const service = new DeploymentConfigsService(dcs, revisions, triggers, enqueuer);
  return { log, dcs, rcs, registry, triggers, service };
}

Logger.overrideLogger(false);

describe('ImageChange and ConfigChange triggers', () => {
  it('waits for an image: no revision on create while the tag has none', async () => {
    const { service, rcs } = setup(undefined);
    const dc = await service.create({ namespace: 'demo', body: body() });
    expect(dc.status.latestVersion).toBe(0);
    expect(await rcs.list()).toEqual([]);
  });

  it('on imagestream.updated reloads the stream, sets the image, bumps latestVersion and creates RC <dc>-<version>; a redelivery changes nothing', async () => {
    const { service, triggers, registry, rcs, dcs } = setup(undefined);
    await service.create({ namespace: 'demo', body: body() });
    registry.image = REF_1;

    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    await triggers.imageStreamUpdated('demo', 'web', 'latest');

    expect(registry.request).toHaveBeenCalledWith('imagestreams.get', { namespace: 'demo', name: 'web' });
    const dc = await dcs.get('demo', 'web');
    expect(dc.status.latestVersion).toBe(1);
    expect(dc.spec.template.spec.containers[0].image).toBe(REF_1);
    expect(dc.spec.triggers[0]).toMatchObject({ imageChangeParams: { lastTriggeredImage: REF_1 } });
    const [rc] = await rcs.list();
    expect(rc.metadata).toMatchObject({
      name: 'web-1',
      labels: { deploymentconfig: 'web' },
      annotations: { 'openshift.io/deployment-config.latest-version': '1', 'openshift.io/deployment.phase': 'New' },
      ownerReferences: [expect.objectContaining({ kind: 'DeploymentConfig', uid: dc.metadata.uid })],
    });
    expect(rc.spec.template.metadata.labels).toEqual({ deploymentconfig: 'web', deployment: 'web-1' });
    expect(rc.spec.template.spec.containers[0].image).toBe(REF_1);
    expect(await rcs.list()).toHaveLength(1);
  });

  it('rolls a second image out as revision 2 and ignores other tags and streams', async () => {
    const { service, triggers, registry, rcs } = setup(REF_1);
    await service.create({ namespace: 'demo', body: body() });
    registry.image = REF_2;
    await triggers.imageStreamUpdated('demo', 'web', 'v2');
    await triggers.imageStreamUpdated('demo', 'other', 'latest');
    expect((await rcs.list()).map((rc) => rc.metadata.name)).toEqual(['web-1']);
    await triggers.imageStreamUpdated('demo', 'web', 'latest');
    expect((await rcs.list()).map((rc) => rc.metadata.name)).toEqual(['web-1', 'web-2']);
  });

  it('treats a missing ImageStream as nothing to do yet', async () => {
    const { service, rcs } = setup('missing');
    await service.create({ namespace: 'demo', body: body() });
    expect(await rcs.list()).toEqual([]);
  });

  it('ConfigChange: an image set directly rolls out on create and on a template change, not on a label-only update', async () => {
    const { service, rcs } = setup(undefined);
    const direct = body('paas-test/web:v1', [{ type: 'ConfigChange' }]);
    expect((await service.create({ namespace: 'demo', body: direct })).status.latestVersion).toBe(1);

    const relabelled = await service.update({ namespace: 'demo', name: 'web', body: { ...direct, metadata: { name: 'web', labels: { team: 'a' } } } });
    expect(relabelled.status.latestVersion).toBe(1);
    const changed = await service.update({ namespace: 'demo', name: 'web', body: body('paas-test/web:v2', [{ type: 'ConfigChange' }]) });
    expect(changed.status.latestVersion).toBe(2);
    expect((await rcs.list()).map((rc) => rc.metadata.name)).toEqual(['web-1', 'web-2']);
  });

  it('dry run validates and stores nothing; invalid input is a 422 naming the field', async () => {
    const { service, dcs } = setup(undefined);
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
