import { deploymentConfigInput } from './deployments';
import { validate } from './validation';

function body(strategy: unknown, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web' },
    spec: {
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image: 'busybox' }] } },
      strategy,
      ...extra,
    },
  };
}

describe('deploymentConfigInput strategy', () => {
  it('defaults to Rolling with a surge of 1 and none unavailable, and keeps 10 old revisions', () => {
    const result = validate(deploymentConfigInput, body(undefined), 'DeploymentConfig');
    expect(result).toMatchObject({
      ok: true,
      value: { spec: { strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } }, revisionHistoryLimit: 10 } },
    });
  });

  it('accepts Recreate with or without recreateParams, whose timeout defaults to 600 s', () => {
    expect(validate(deploymentConfigInput, body({ type: 'Recreate' }), 'DeploymentConfig')).toMatchObject({ ok: true, value: { spec: { strategy: { type: 'Recreate' } } } });
    expect(validate(deploymentConfigInput, body({ type: 'Recreate', recreateParams: {} }), 'DeploymentConfig')).toMatchObject({
      ok: true,
      value: { spec: { strategy: { type: 'Recreate', recreateParams: { timeoutSeconds: 600 } } } },
    });
    const short = validate(deploymentConfigInput, body({ type: 'Recreate', recreateParams: { timeoutSeconds: 5 } }), 'DeploymentConfig');
    expect(short.ok || short.status.details?.causes?.map((c) => c.field)).toEqual(['spec.strategy.recreateParams.timeoutSeconds']);
  });

  it('refuses a strategy type it does not know', () => {
    const result = validate(deploymentConfigInput, body({ type: 'Custom' }), 'DeploymentConfig');
    expect(result.ok || result.status.details?.causes?.map((c) => c.field)).toEqual(['spec.strategy.type']);
  });

  it('accepts maxSurge and maxUnavailable as a count or a percentage', () => {
    const result = validate(deploymentConfigInput, body({ rollingParams: { maxSurge: '25%', maxUnavailable: '100%' } }), 'DeploymentConfig');
    expect(result).toMatchObject({ ok: true, value: { spec: { strategy: { rollingParams: { maxSurge: '25%', maxUnavailable: '100%', timeoutSeconds: 600 } } } } });
    expect(validate(deploymentConfigInput, body({ rollingParams: { maxSurge: 0, maxUnavailable: 2 } }), 'DeploymentConfig').ok).toBe(true);
  });

  it.each([['abc'], ['120%x'], [-1], ['-5%'], [1.5], ['25'], [' 25%'], [null]])('refuses maxSurge %p with a 422 naming the field', (maxSurge) => {
    const result = validate(deploymentConfigInput, body({ rollingParams: { maxSurge } }), 'DeploymentConfig', 'web');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status.code).toBe(422);
    expect(result.status.details?.causes).toEqual([{ field: 'spec.strategy.rollingParams.maxSurge', reason: expect.any(String), message: 'must be an integer ≥ 0 or a percentage such as "25%"' }]);
    expect(result.status.message).toBe('DeploymentConfig "web" is invalid: spec.strategy.rollingParams.maxSurge: must be an integer ≥ 0 or a percentage such as "25%"');
  });

  it('refuses a maxUnavailable above 100%, which would take down pods that do not exist', () => {
    const result = validate(deploymentConfigInput, body({ rollingParams: { maxUnavailable: '120%' } }), 'DeploymentConfig');
    expect(result.ok || result.status.details?.causes).toEqual([{ field: 'spec.strategy.rollingParams.maxUnavailable', reason: 'custom', message: 'a percentage must not exceed 100%' }]);
    expect(validate(deploymentConfigInput, body({ rollingParams: { maxSurge: '120%' } }), 'DeploymentConfig').ok).toBe(true);
  });

  it.each([[-1], [1.5], ['3']])('refuses the revisionHistoryLimit %p', (revisionHistoryLimit) => {
    const result = validate(deploymentConfigInput, body(undefined, { revisionHistoryLimit }), 'DeploymentConfig');
    expect(result.ok || result.status.details?.causes?.map((c) => c.field)).toEqual(['spec.revisionHistoryLimit']);
  });
});

describe('deploymentConfigInput probes', () => {
  const withProbes = (probes: Record<string, unknown>) => {
    const dc = body(undefined);
    return { ...dc, spec: { ...dc.spec, template: { ...dc.spec.template, spec: { containers: [{ name: 'web', image: 'busybox', ...probes }] } } } };
  };

  it('accepts an httpGet or a tcpSocket probe, for readiness and for liveness', () => {
    const result = validate(deploymentConfigInput, withProbes({ readinessProbe: { tcpSocket: { port: 5432 } }, livenessProbe: { httpGet: { port: 8080 } } }), 'DeploymentConfig');
    expect(result).toMatchObject({
      ok: true,
      value: { spec: { template: { spec: { containers: [{ readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 10 }, livenessProbe: { httpGet: { path: '/', port: 8080 }, failureThreshold: 3 } }] } } } },
    });
  });

  it('accepts an exec startup probe, and a read-only root filesystem; refuses a securityContext field it does not know', () => {
    const sealed = withProbes({ startupProbe: { exec: { command: ['cat', '/tmp/started'] }, failureThreshold: 30 }, securityContext: { readOnlyRootFilesystem: true } });
    expect(validate(deploymentConfigInput, sealed, 'DeploymentConfig')).toMatchObject({
      ok: true,
      value: { spec: { template: { spec: { containers: [{ startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 10 }, securityContext: { readOnlyRootFilesystem: true } }] } } } },
    });
    const privileged = validate(deploymentConfigInput, withProbes({ securityContext: { privileged: true } }), 'DeploymentConfig');
    expect(privileged.ok || privileged.status.details?.causes?.map((c) => c.field)).toEqual(['spec.template.spec.containers.0.securityContext']);
  });

  it.each([[{}], [{ httpGet: { port: 8080 }, tcpSocket: { port: 8080 } }], [{ tcpSocket: { port: 8080 }, exec: { command: ['true'] } }]])('refuses a probe with not exactly one of httpGet, tcpSocket and exec: %p', (probe) => {
    const result = validate(deploymentConfigInput, withProbes({ livenessProbe: probe }), 'DeploymentConfig');
    expect(result.ok || result.status.details?.causes).toEqual([
      { field: 'spec.template.spec.containers.0.livenessProbe.httpGet', reason: 'custom', message: 'exactly one of httpGet, tcpSocket and exec is required' },
    ]);
  });
});
