import type { DeploymentConfig } from '@paas/contracts/deployments';
import type { ResourceQuota } from '@paas/contracts/quotas';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { connect, type NatsConnection } from 'nats';
import { busRpc } from './support/bus-rpc';
import { dcBody } from './support/test-image';

/**
 * ResourceQuota and LimitRange on the running platform's deploy-service and FerretDB: a
 * LimitRange's default fills a DC's limits, its max refuses a bigger one, a quota refuses a
 * DC or a scale that would pass it (403, "exceeded quota") and shows what is used. No pod
 * runs: the DCs are paused (admission is about the desired state).
 */
const suffix = Math.random().toString(36).slice(2, 8);
const namespace = `quota-it-${suffix}`;

let nats: NatsConnection;
const { rpc, ok } = busRpc(() => nats);

/** A paused DC `name` of `replicas`, with `limits` if given. */
function pausedDc(name: string, replicas: number, limits?: { memoryBytes: number }) {
  const body = dcBody('paas-test/never-pulled:v1', replicas);
  const [container] = body.spec.template.spec.containers;
  const template = { ...body.spec.template, spec: { ...body.spec.template.spec, containers: [{ ...container, ...(limits ? { resources: { limits } } : {}) }] } };
  return { ...body, metadata: { ...body.metadata, name }, spec: { ...body.spec, paused: true, template } };
}

beforeAll(async () => {
  nats = await connect(busConnectionOptions('integration-test'));
});

afterAll(async () => {
  for (const name of ['small', 'big']) await rpc('deploymentconfigs.delete', { namespace, name }).catch(() => undefined);
  await rpc('resourcequotas.delete', { namespace, name: 'compute' }).catch(() => undefined);
  await rpc('limitranges.delete', { namespace, name: 'limits' }).catch(() => undefined);
  await nats?.drain();
});

describe('ResourceQuota and LimitRange', () => {
  it('refuses malformed quantities with 422 naming the field', async () => {
    const bad = await rpc('resourcequotas.create', { namespace, body: { metadata: { name: 'compute' }, spec: { hard: { 'limits.memory': 'lots', 'requests.gpu': '1' } } } });
    expect(bad).toMatchObject({ ok: false, status: { code: 422 } });
    const fields = bad.ok ? [] : bad.status.details?.causes?.map((cause) => cause.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.hard.limits.memory', 'spec.hard']));
  });

  it('defaults and bounds limits by the LimitRange, and holds the namespace to its quota', async () => {
    await ok('limitranges.create', { namespace, body: { metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', default: { memory: '128Mi' }, max: { memory: '1Gi' } }] } } });
    await ok('resourcequotas.create', { namespace, body: { metadata: { name: 'compute' }, spec: { hard: { pods: 4, 'limits.memory': '512Mi' } } } });

    const small = (await ok('deploymentconfigs.create', { namespace, body: pausedDc('small', 2) })) as DeploymentConfig;
    expect(small.spec.template.spec.containers[0].resources).toEqual({ limits: { memoryBytes: 128 * 1024 ** 2 } });

    const tooBig = await rpc('deploymentconfigs.create', { namespace, body: pausedDc('big', 1, { memoryBytes: 2 * 1024 ** 3 }) });
    expect(tooBig).toMatchObject({ ok: false, status: { code: 403, reason: 'Forbidden', message: 'deploymentconfigs "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi' } });
    const overQuota = await rpc('deploymentconfigs.create', { namespace, body: pausedDc('big', 1, { memoryBytes: 512 * 1024 ** 2 }) });
    expect(overQuota).toMatchObject({
      ok: false,
      status: { code: 403, message: 'deploymentconfigs "big" is forbidden: exceeded quota: compute, requested: limits.memory=512Mi, used: limits.memory=256Mi, limited: limits.memory=512Mi' },
    });
    const scaled = await rpc('deploymentconfigs.scale', { namespace, name: 'small', replicas: 5 });
    expect(scaled).toMatchObject({ ok: false, status: { code: 403, message: expect.stringContaining('exceeded quota: compute, requested: pods=3,limits.memory=384Mi') } });
    expect(await rpc('deploymentconfigs.get', { namespace, name: 'big' })).toMatchObject({ ok: false, status: { code: 404 } });

    const quota = (await ok('resourcequotas.get', { namespace, name: 'compute' })) as ResourceQuota;
    expect(quota.status).toEqual({ hard: { pods: '4', 'limits.memory': '512Mi' }, used: { pods: '2', 'limits.memory': '256Mi' } });
    expect(((await ok('deploymentconfigs.scale', { namespace, name: 'small', replicas: 4 })) as DeploymentConfig).spec.replicas).toBe(4);
  });
});
