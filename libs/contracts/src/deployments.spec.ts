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

describe('a container\'s env and envFrom', () => {
  const withContainer = (container: Record<string, unknown>) => ({
    metadata: { name: 'web' },
    spec: { selector: { deploymentconfig: 'web' }, template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: { containers: [{ name: 'web', image: 'busybox', ...container }] } } },
  });
  const fieldsOf = (container: Record<string, unknown>) => {
    const result = validate(deploymentConfigInput, withContainer(container), 'DeploymentConfig');
    return result.ok ? [] : (result.status.details?.causes ?? []).map((cause) => cause.field);
  };

  it('accepts values, ConfigMap and Secret keys, and whole ConfigMaps and Secrets with a prefix', () => {
    const result = validate(
      deploymentConfigInput,
      withContainer({
        env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'b' } } }, { name: 'C', valueFrom: { secretKeyRef: { name: 'db', key: 'password', optional: true } } }],
        envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'db' }, prefix: 'DB_' }],
      }),
      'DeploymentConfig',
    );
    expect(result).toMatchObject({ ok: true, value: { spec: { template: { spec: { containers: [{ env: [{}, { valueFrom: { configMapKeyRef: { optional: false } } }, {}] }] } } } } });
  });

  it('names the field of a malformed reference', () => {
    const base = 'spec.template.spec.containers.0';
    expect(fieldsOf({ env: [{ name: 'A', value: '1', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] })).toEqual([`${base}.env.0.valueFrom`]);
    expect(fieldsOf({ env: [{ name: 'A', valueFrom: {} }] })).toEqual([`${base}.env.0.valueFrom`]);
    expect(fieldsOf({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'Bad_Name', key: 'k' } } }] })).toEqual([`${base}.env.0.valueFrom.configMapKeyRef.name`]);
    expect(fieldsOf({ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'a/b' } } }] })).toEqual([`${base}.env.0.valueFrom.secretKeyRef.key`]);
    expect(fieldsOf({ envFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] })).toEqual([`${base}.envFrom.0.configMapRef`]);
    expect(fieldsOf({ envFrom: [{ prefix: 'X_' }] })).toEqual([`${base}.envFrom.0.configMapRef`]);
  });
});
