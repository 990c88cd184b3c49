import { DEPLOYMENT_ANNOTATIONS } from '@paas/contracts/deployments';
import { deployFixture, stopFixture, type DeployFixture, quotaAdmission } from '../testing/fakes';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { Revisions, revisionName } from './revisions';

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

const body = {
  metadata: { name: 'web' },
  spec: {
    selector: { deploymentconfig: 'web' },
    template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image: '127.0.0.1:5000/demo/web@sha256:111', ports: [{ containerPort: 8080 }] }] } },
    triggers: [{ type: 'ConfigChange' }],
  },
};

describe('Revisions.ensureLatest', () => {
  it("gives the revision the cause written with its version, whoever creates its RC first (a reconcile racing the API's write)", async () => {
    const fixture = await deployFixture([]);
    fixtures.push(fixture);
    const { dcs, rcs, informers } = fixture;
    const revisions = new Revisions(rcs);
    // The API's write stopped before it created the RC: the reconcile gets there first.
    const stoppedBeforeRc = { ensureLatest: async () => undefined, find: async () => undefined, lastCompleteBefore: async () => undefined, cancel: async () => undefined };
    const service = new DeploymentConfigsService(dcs, stoppedBeforeRc, informers, quotaAdmission(informers));
    const created = await service.create({ namespace: 'demo', body });
    expect(await rcs.find('demo', revisionName('web', 1))).toBeUndefined();

    await revisions.ensureLatest(created);

    const rc = await rcs.get('demo', revisionName('web', 1));
    expect(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.cause]).toBe('config change: created');
    expect(created.status.details).toEqual({ message: 'config change: created' });
  });

  it('says the revision was recovered when the DC holds no cause (stored before causes were)', async () => {
    const fixture = await deployFixture([]);
    fixtures.push(fixture);
    const dc = await fixture.dcs.create({ metadata: { name: 'web', namespace: 'demo', labels: {}, annotations: {} }, spec: { ...body.spec, replicas: 1 } as never, status: { latestVersion: 1, observedGeneration: 0, replicas: 0, readyReplicas: 0, updatedReplicas: 0, conditions: [] } });

    await new Revisions(fixture.rcs).ensureLatest(dc);

    const rc = await fixture.rcs.get('demo', revisionName('web', 1));
    expect(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.cause]).toBe('recovered: the revision had no ReplicationController');
  });
});
