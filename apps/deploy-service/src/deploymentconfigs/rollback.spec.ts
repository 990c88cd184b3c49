import { DEPLOYMENT_ANNOTATIONS, type DeploymentPhase } from '@paas/contracts/deployments';
import { deployFixture, stopFixture, type DeployFixture, quotaAdmission } from '../testing/fakes';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { Revisions, revisionName } from './revisions';

const IMAGE = (n: number) => `127.0.0.1:5000/demo/web@sha256:${String(n).repeat(3)}`;

function body(image: string) {
  return {
    metadata: { name: 'web' },
    spec: {
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] } },
      triggers: [{ type: 'ImageChange', imageChangeParams: { containerNames: ['web'], from: { kind: 'ImageStreamTag', name: 'web:latest' } } }, { type: 'ConfigChange' }],
    },
  };
}

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

/** A DC `web` rolled out once per image, each revision ending in the phase given. */
async function history(...phases: DeploymentPhase[]) {
  const fixture = await deployFixture([]);
  fixtures.push(fixture);
  const { dcs, rcs, informers } = fixture;
  const service = new DeploymentConfigsService(dcs, new Revisions(rcs), informers, quotaAdmission(informers));
  for (const [i, phase] of phases.entries()) {
    const current = await dcs.find('demo', 'web');
    const input = body(IMAGE(i + 1));
    if (current) await service.update({ namespace: 'demo', name: 'web', body: { ...input, metadata: { ...input.metadata, resourceVersion: current.metadata.resourceVersion } } });
    else await service.create({ namespace: 'demo', body: input });
    await rcs.update('demo', revisionName('web', i + 1), (rc) => ({ ...rc, metadata: { ...rc.metadata, annotations: { ...rc.metadata.annotations, [DEPLOYMENT_ANNOTATIONS.phase]: phase } } }));
  }
  const rollback = (request: unknown) => service.rollback({ namespace: 'demo', name: 'web', body: request });
  return { dcs, rcs, rollback, service };
}

const imageOf = (dc: { spec: { template: { spec: { containers: { image: string }[] } } } }) => dc.spec.template.spec.containers[0].image;

describe('DeploymentConfigsService.rollback', () => {
  it('rolls the last Complete revision before the latest out again as a new one, and stops automatic image triggers', async () => {
    const { rcs, rollback } = await history('Complete', 'Complete', 'Failed');
    const dc = await rollback(undefined);
    expect(dc.status.latestVersion).toBe(4);
    expect(imageOf(dc)).toBe(IMAGE(2));
    expect(dc.spec.template.metadata.labels).toEqual({ deploymentconfig: 'web' });
    expect(dc.spec.triggers).toContainEqual(expect.objectContaining({ type: 'ImageChange', imageChangeParams: expect.objectContaining({ automatic: false }) }));
    const revision = await rcs.get('demo', revisionName('web', 4));
    expect(imageOf(revision)).toBe(IMAGE(2));
    expect(revision.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.cause]).toBe('rollback to revision 2');
  });

  it('rolls a named revision out again, whatever its phase', async () => {
    const { rollback } = await history('Complete', 'Failed', 'Complete');
    expect(imageOf(await rollback({ kind: 'DeploymentConfigRollback', spec: { revision: 1 } }))).toBe(IMAGE(1));
  });

  it.each([
    ['a revision that does not exist', { spec: { revision: 9 } }, 'has no revision 9'],
    ['the latest revision', { spec: { revision: 2 } }, 'revision 2 is the latest already'],
    ['a negative revision', { spec: { revision: -1 } }, 'spec.revision'],
    ['a revision that is not a number', { spec: { revision: 'one' } }, 'spec.revision'],
  ])('refuses %s with 422 naming spec.revision, and writes nothing', async (_case, request, message) => {
    const { dcs, rollback } = await history('Complete', 'Complete');
    const before = await dcs.get('demo', 'web');
    await expect(rollback(request)).rejects.toMatchObject({ status: { code: 422, reason: 'Invalid', details: { causes: [expect.objectContaining({ field: 'spec.revision' })] } } });
    await expect(rollback(request)).rejects.toThrow(message);
    expect(await dcs.get('demo', 'web')).toEqual(before);
  });

  it('refuses with 422 when no earlier revision completed', async () => {
    const { rollback } = await history('Failed', 'Complete');
    await expect(rollback({})).rejects.toMatchObject({ status: { code: 422, message: expect.stringContaining('no Complete revision before 2') } });
  });
});

describe('DeploymentConfigsService.cancel', () => {
  it('marks the revision rolling out cancelled, and refuses with 400 when none is', async () => {
    const { rcs, service } = await history('Complete', 'Running');
    await service.cancel({ namespace: 'demo', name: 'web' });
    expect((await rcs.get('demo', revisionName('web', 2))).metadata.annotations).toMatchObject({ [DEPLOYMENT_ANNOTATIONS.cancelled]: 'true' });

    const done = await history('Complete', 'Complete');
    await expect(done.service.cancel({ namespace: 'demo', name: 'web' })).rejects.toMatchObject({ status: { code: 400, message: expect.stringContaining('revision 2 is Complete') } });
    expect((await done.rcs.get('demo', revisionName('web', 2))).metadata.annotations).not.toHaveProperty([DEPLOYMENT_ANNOTATIONS.cancelled]);
  });
});
