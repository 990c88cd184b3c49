import type { ConfigMap, Secret } from '@paas/contracts/config';
import type { Pod } from '@paas/contracts/deployments';
import type { ResourceList } from '@paas/contracts/meta';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { loadConfig } from '@paas/platform/config';
import { databaseName } from '@paas/platform/mongo';
import { eventually } from '@paas/platform/testing';
import mongoose from 'mongoose';
import { connect, type NatsConnection } from 'nats';
import { busRpc } from './support/bus-rpc';
import { buildImage, dcBody, docker } from './support/test-image';

/**
 * ConfigMaps and Secrets on the running platform's deploy-service, the real engine and
 * FerretDB: a pod whose env names a ConfigMap that is not there waits with
 * CreateContainerConfigError and starts once it comes; its process sees the ConfigMap's and
 * the Secret's values; the Secret is stored only encrypted; bad input is a 422.
 */
const suffix = Math.random().toString(36).slice(2, 8);
const namespace = `config-it-${suffix}`;
const image = `paas-test/config-web-${suffix}:v1`;
const PASSWORD = `pw-${suffix}-hunter2`;

let nats: NatsConnection;

const { rpc, ok } = busRpc(() => nats);

const pods = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=web' })) as ResourceList<Pod>).items;
const isReady = (pod: Pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  nats = await connect(busConnectionOptions('integration-test'));
  buildImage(image, 'configured');
}, 120_000);

afterAll(async () => {
  await rpc('deploymentconfigs.delete', { namespace, name: 'web' }).catch(() => undefined);
  for (const name of ['settings']) await rpc('configmaps.delete', { namespace, name }).catch(() => undefined);
  for (const name of ['db']) await rpc('secrets.delete', { namespace, name }).catch(() => undefined);
  const label = `label=paas.dev/namespace=${namespace}`;
  await eventually('the test containers to be gone', async () => (docker('ps', '-aq', '--filter', label) === '' ? true : undefined), 30_000).catch(() => undefined);
  const leftovers = docker('ps', '-aq', '--filter', label).split('\n').filter(Boolean);
  if (leftovers.length) docker('rm', '-f', ...leftovers);
  docker('rmi', '-f', image);
  await nats?.drain();
}, 60_000);

describe('ConfigMaps and Secrets on the real engine', () => {
  it('refuses malformed ConfigMaps, Secrets and env references with 422 naming the field', async () => {
    const badKey = await rpc('configmaps.create', { namespace, body: { metadata: { name: 'bad' }, data: { 'a b': 'x' } } });
    expect(badKey).toMatchObject({ ok: false, status: { code: 422, details: { causes: [expect.objectContaining({ field: 'data.a b' })] } } });
    const notBase64 = await rpc('secrets.create', { namespace, body: { metadata: { name: 'bad' }, data: { password: PASSWORD } } });
    expect(notBase64).toMatchObject({ ok: false, status: { code: 422, details: { causes: [expect.objectContaining({ field: 'data.password' })] } } });
    expect(JSON.stringify(notBase64)).not.toContain(PASSWORD);
    const body = dcBody(image);
    const [container] = body.spec.template.spec.containers;
    const badRef = await rpc('deploymentconfigs.create', {
      namespace,
      body: { ...body, spec: { ...body.spec, template: { ...body.spec.template, spec: { ...body.spec.template.spec, containers: [{ ...container, env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db' } } }] }] } } } },
    });
    expect(badRef).toMatchObject({ ok: false, status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.key' })] } } });
    expect(await rpc('configmaps.get', { namespace, name: 'bad' })).toMatchObject({ ok: false, status: { code: 404 } });
  });

  it('holds a pod whose ConfigMap is missing, then starts it with the ConfigMap and the Secret in its environment', async () => {
    const secret = (await ok('secrets.create', { namespace, body: { metadata: { name: 'db' }, stringData: { password: PASSWORD, user: 'ann' } } })) as Secret;
    expect(secret.data).toEqual({ password: Buffer.from(PASSWORD).toString('base64'), user: Buffer.from('ann').toString('base64') });

    const body = dcBody(image);
    const [container] = body.spec.template.spec.containers;
    const env = [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ];
    const template = { ...body.spec.template, spec: { ...body.spec.template.spec, containers: [{ ...container, env, envFrom: [{ secretRef: { name: 'db' }, prefix: 'DB_' }] }] } };
    await ok('deploymentconfigs.create', { namespace, body: { ...body, spec: { ...body.spec, template } } });

    const waiting = await eventually('the pod to wait on its ConfigMap', async () => (await pods()).find((pod) => pod.status.reason === 'CreateContainerConfigError'));
    expect(waiting.status).toMatchObject({ phase: 'Pending', message: 'configmap "settings" not found' });

    const configMap = (await ok('configmaps.create', { namespace, body: { metadata: { name: 'settings' }, data: { mode: 'fast' } } })) as ConfigMap;
    expect(configMap).toMatchObject({ kind: 'ConfigMap', data: { mode: 'fast' } });
    const ready = await eventually('the pod to start once the ConfigMap exists', async () => (await pods()).find((pod) => pod.metadata.name === waiting.metadata.name && isReady(pod)));
    const seen = docker('exec', ready.status.containerID as string, 'sh', '-c', 'echo "$MODE $DB_PASSWORD $DB_user"');
    expect(seen).toBe(`fast ${PASSWORD} ann`);
    // The pod shows the references, not the values.
    expect(JSON.stringify(ready)).not.toContain(PASSWORD);
  });

  it('stores the Secret encrypted: FerretDB holds neither its value nor the value in base64', async () => {
    const connection = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName('paas_deploy') }).asPromise();
    try {
      const stored = await connection.collection('secrets').find({ namespace }).toArray();
      expect(stored.length).toBeGreaterThan(0);
      const text = JSON.stringify(stored);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(text).toContain('sealed');
    } finally {
      await connection.close();
    }
  });
});
