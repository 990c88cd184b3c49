import { ApiError } from '@paas/platform/api-error';
import { deployFixture, MemoryRolloutLogs, stopFixture, type DeployFixture, quotaAdmission } from '../testing/fakes';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { DeploymentLogs } from './deployment-logs';
import { Revisions } from './revisions';

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

const body = (image: string) => ({
  metadata: { name: 'web' },
  spec: {
    selector: { deploymentconfig: 'web' },
    template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] } },
    triggers: [{ type: 'ConfigChange' }],
  },
});

/** DC `web` at revision 2, each revision's log as the controller would have written it. */
async function setup() {
  const fixture = await deployFixture([]);
  fixtures.push(fixture);
  const { dcs, rcs, informers } = fixture;
  const revisions = new Revisions(rcs);
  const service = new DeploymentConfigsService(dcs, revisions, informers, quotaAdmission(informers));
  const first = await service.create({ namespace: 'demo', body: body('registry/demo/web@sha256:1') });
  await service.update({ namespace: 'demo', name: 'web', body: { ...body('registry/demo/web@sha256:2'), metadata: { name: 'web', resourceVersion: first.metadata.resourceVersion } } });
  const logs = new MemoryRolloutLogs();
  for (const [version, lines] of [
    [1, ['--> Scaling up web-1 from 0 to 1', '    Scaling web-1 up to 1', '--> Success']],
    [2, ["--> Scaling up web-2 from 0 to 1, scaling down web-1 from 1 to 0 (keep 1 pods available, don't exceed 2 pods)", '    Scaling web-2 up to 1']],
  ] as const) {
    const rc = await rcs.get('demo', `web-${version}`);
    await logs.append({ uid: rc.metadata.uid, namespace: 'demo', deploymentConfig: 'web' }, [...lines], `2030-01-01T00:00:0${version}.000Z`);
  }
  const now = { value: Date.parse('2030-01-01T00:00:03.000Z') };
  return { reader: new DeploymentLogs(dcs, revisions, logs, { now: () => now.value }), rcs, logs, now };
}

const statusOf = (error: unknown) => (error instanceof ApiError ? { code: error.status.code, reason: error.status.reason } : error);

describe('DeploymentLogs', () => {
  it('reads the newest revision, or the one asked for, from an offset; a follower goes on from nextOffset', async () => {
    const { reader } = await setup();
    const newest = await reader.read({ namespace: 'demo', name: 'web' });
    expect(newest).toEqual({ log: expect.stringMatching(/^--> Scaling up web-2 .*\n {4}Scaling web-2 up to 1\n$/), version: 2, nextOffset: 2, phase: 'New', complete: false });
    expect(await reader.read({ namespace: 'demo', name: 'web', version: 2, offset: 2 })).toEqual({ log: '', version: 2, nextOffset: 2, phase: 'New', complete: false });
    const first = await reader.read({ namespace: 'demo', name: 'web', version: 1, tailLines: 1, timestamps: true });
    expect(first).toMatchObject({ log: '2030-01-01T00:00:01.000Z --> Success\n', version: 1, nextOffset: 3, complete: true });
  });

  it('is complete once it ends with how the rollout ended; a revision that ended without its last line, 5 s after its last line', async () => {
    const { reader, rcs, now } = await setup();
    await rcs.update('demo', 'web-2', (rc) => ({ ...rc, metadata: { ...rc.metadata, annotations: { ...rc.metadata.annotations, 'openshift.io/deployment.phase': 'Complete' } } }));
    // Revision 2's last line was written at 00:00:02: its Success line may still come.
    expect(await reader.read({ namespace: 'demo', name: 'web' })).toMatchObject({ phase: 'Complete', complete: false });
    now.value = Date.parse('2030-01-01T00:00:07.001Z');
    expect(await reader.read({ namespace: 'demo', name: 'web' })).toMatchObject({ phase: 'Complete', complete: true });
  });

  it('a DC, revision or option that is not there is a 4xx that says so', async () => {
    const { reader } = await setup();
    await expect(reader.read({ namespace: 'demo', name: 'nope' }).catch(statusOf)).resolves.toEqual({ code: 404, reason: 'NotFound' });
    await expect(reader.read({ namespace: 'demo', name: 'web', version: 7 }).catch(statusOf)).resolves.toEqual({ code: 404, reason: 'NotFound' });
    await expect(reader.read({ namespace: 'demo', name: 'web', tailLines: -1 }).catch(statusOf)).resolves.toEqual({ code: 422, reason: 'Invalid' });
    await expect(reader.read({ namespace: 'demo', name: 'web', since: 'x' } as never).catch(statusOf)).resolves.toEqual({ code: 422, reason: 'Invalid' });
  });
});
