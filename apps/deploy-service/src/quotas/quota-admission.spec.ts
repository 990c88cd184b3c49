import { deploymentConfigInput, type DeploymentConfig, type DeploymentConfigSpec } from '@paas/contracts/deployments';
import type { LimitRange, ResourceQuota } from '@paas/contracts/quotas';
import { ApiError } from '@paas/platform/api-error';
import { deployFixture, quotaAdmission, stopFixture, type DeployFixture } from '../testing/fakes';

const Mi = 1024 ** 2;
const meta = (name: string) => ({ name, namespace: 'demo', uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2030-01-01T00:00:00Z' });
const quota = (hard: ResourceQuota['spec']['hard']): ResourceQuota => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('compute'), spec: { hard }, status: {} });
const limitRange = (limits: LimitRange['spec']['limits']): LimitRange => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: meta('limits'), spec: { limits }, status: {} });

function specOf(replicas: number, limits?: { memoryBytes?: number; cpuMillis?: number }): DeploymentConfigSpec {
  const container = { name: 'web', image: 'busybox', ...(limits ? { resources: { limits } } : {}) };
  const template = { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [container] } };
  return deploymentConfigInput.parse({ metadata: { name: 'web' }, spec: { replicas, selector: { deploymentconfig: 'web' }, template } }).spec;
}

const otherDc = (spec: DeploymentConfigSpec) => ({ apiVersion: 'v1', kind: 'DeploymentConfig', metadata: meta('other'), spec, status: {} }) as unknown as DeploymentConfig;

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.status.code, message: error.status.message };
    throw error;
  }
  return undefined;
};

describe('QuotaAdmission', () => {
  let fixture: DeployFixture;
  beforeEach(async () => (fixture = await deployFixture([])));
  afterEach(() => stopFixture(fixture));

  it('admits anything, unchanged, in a namespace without quotas or limit ranges', () => {
    const spec = specOf(50);
    expect(quotaAdmission(fixture.informers).admit('demo', 'web', spec)).toEqual(spec);
  });

  it('refuses a growth past a quota in Kubernetes\' words, counting the other DCs and pods without a limit at the default 512Mi; scaling down always passes', () => {
    fixture.dcs.seed(otherDc(specOf(2)));
    fixture.resourceQuotas.seed(quota({ pods: '4', 'limits.memory': '2Gi' }));
    const admission = quotaAdmission(fixture.informers);
    expect(admission.admit('demo', 'web', specOf(2)).replicas).toBe(2);
    expect(refusal(() => admission.admit('demo', 'web', specOf(3)))).toEqual({
      code: 403,
      message: 'deploymentconfigs "web" is forbidden: exceeded quota: compute, requested: pods=3,limits.memory=1536Mi, used: pods=2,limits.memory=1Gi, limited: pods=4,limits.memory=2Gi',
    });
    expect(refusal(() => admission.admit('demo', 'web', specOf(3, { memoryBytes: 64 * Mi }), specOf(2)))).toEqual({
      code: 403,
      message: expect.stringContaining('exceeded quota: compute, requested: pods=1, used: pods=4, limited: pods=4'),
    });
    expect(admission.admit('demo', 'web', specOf(1), specOf(5)).replicas).toBe(1);
    expect(admission.used('demo')).toEqual({ pods: '2', 'limits.memory': '1Gi', 'limits.cpu': '0' });
  });

  it('asks for a CPU limit when a quota limits CPU', () => {
    fixture.resourceQuotas.seed(quota({ 'limits.cpu': '2' }));
    const admission = quotaAdmission(fixture.informers);
    expect(refusal(() => admission.admit('demo', 'web', specOf(1)))?.message).toBe('deploymentconfigs "web" is forbidden: failed quota: compute: must specify limits.cpu');
    expect(refusal(() => admission.admit('demo', 'web', specOf(3, { cpuMillis: 750 })))?.message).toContain('requested: limits.cpu=2250m, used: limits.cpu=0, limited: limits.cpu=2');
    expect(admission.admit('demo', 'web', specOf(2, { cpuMillis: 1000 })).replicas).toBe(2);
  });

  it('fills a LimitRange\'s defaults into containers without limits, and refuses limits beyond its max or min', () => {
    fixture.limitRanges.seed(limitRange([{ type: 'Container', default: { memory: '256Mi', cpu: '250m' }, max: { memory: '1Gi' }, min: { cpu: '100m' } }]));
    const admission = quotaAdmission(fixture.informers);
    expect(admission.admit('demo', 'web', specOf(1)).template.spec.containers[0].resources).toEqual({ limits: { memoryBytes: 256 * Mi, cpuMillis: 250 } });
    expect(admission.admit('demo', 'web', specOf(1, { memoryBytes: 512 * Mi })).template.spec.containers[0].resources).toEqual({ limits: { memoryBytes: 512 * Mi, cpuMillis: 250 } });
    expect(refusal(() => admission.admit('demo', 'web', specOf(1, { memoryBytes: 2048 * Mi })))).toEqual({ code: 403, message: 'deploymentconfigs "web" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi' });
    expect(refusal(() => admission.admit('demo', 'web', specOf(1, { cpuMillis: 50 })))?.message).toBe('deploymentconfigs "web" is forbidden: minimum cpu usage per Container is 100m, but limit is 50m');
  });
});
