import { buildWebImage, eventually } from '@paas/platform/testing';
import { execFileSync } from 'node:child_process';
import request from 'supertest';
import { api, deleteNamespace, GATEWAY_URL, randomSuffix, throughRouter } from './support';

/**
 * Configuration through the public API and the router, as a user meets it: an app whose
 * greeting comes from a ConfigMap and whose password comes from a Secret serves both; a viewer
 * of the namespace reads the ConfigMap and the DC but not the Secret; the namespace's admin
 * cannot raise their own quota, and the quota a cluster-admin sets refuses a scale past it.
 */
const suffix = randomSuffix();
const namespace = `config-e2e-${suffix}`;
const image = `paas-test/config-e2e-${suffix}:v1`;
const host = `web-${namespace}.apps.localhost`;
const PASSWORD = `pw-${suffix}-hunter2`;
const owner = { name: `owner-${suffix}`, password: `pw-${suffix}-owner-long-enough` };
const viewer = { name: `viewer-${suffix}`, password: `pw-${suffix}-viewer-long-enough` };

const as = (user: { name: string; password: string }) => ({
  get: (path: string) => request(GATEWAY_URL).get(`/api/v1/namespaces/${namespace}${path}`).auth(user.name, user.password),
  post: (path: string, body: object) => request(GATEWAY_URL).post(`/api/v1/namespaces/${namespace}${path}`).auth(user.name, user.password).send(body),
  put: (path: string, body: object) => request(GATEWAY_URL).put(`/api/v1/namespaces/${namespace}${path}`).auth(user.name, user.password).send(body),
});

const deploymentConfig = {
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    selector: { deploymentconfig: 'web' },
    template: {
      metadata: { labels: { deploymentconfig: 'web' } },
      spec: {
        // Built on the host's engine only: no registry has it.
        nodeSelector: { 'kubernetes.io/hostname': 'local' },
        containers: [
          {
            name: 'web',
            image,
            ports: [{ containerPort: 8080 }],
            env: [
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            ],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 0.5 },
            // The image has no /tmp of its own: this gives it a writable one for the page.
            securityContext: { readOnlyRootFilesystem: true },
          },
        ],
      },
    },
    triggers: [{ type: 'ConfigChange' }],
  },
};

beforeAll(async () => {
  buildWebImage(image, 'unused', ['LABEL paas.dev/test=config-e2e'], 'mkdir -p /tmp/www && echo "$GREETING $PASSWORD" > /tmp/www/index.html && exec /bin/busybox httpd -f -p 8080 -h /tmp/www');
  for (const user of [owner, viewer]) expect((await api().post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password })).status).toBe(201);
  expect((await request(GATEWAY_URL).post('/api/v1/namespaces').auth(owner.name, owner.password).send({ metadata: { name: namespace } })).status).toBe(201);
  const binding = { metadata: { name: 'viewers' }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: viewer.name }] };
  expect((await as(owner).post('/rolebindings', binding)).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await deleteNamespace(namespace);
  for (const user of [owner, viewer]) await api().delete(`/api/v1/users/${user.name}`);
  execFileSync('docker', ['rmi', '-f', image], { stdio: 'pipe' });
});

describe('ConfigMaps, Secrets and quotas through the API', () => {
  it('serves what the ConfigMap and the Secret hold through the router, and shows a viewer the ConfigMap, not the Secret', async () => {
    expect((await as(owner).post('/configmaps', { metadata: { name: 'settings' }, data: { greeting: 'hello from a ConfigMap' } })).status).toBe(201);
    const secret = await as(owner).post('/secrets', { metadata: { name: 'db' }, stringData: { password: PASSWORD } });
    expect(secret.status).toBe(201);
    expect(secret.body).toMatchObject({ kind: 'Secret', type: 'Opaque', data: { password: Buffer.from(PASSWORD).toString('base64') } });
    expect((await as(owner).post('/services', { metadata: { name: 'web' }, spec: { selector: { deploymentconfig: 'web' }, ports: [{ port: 8080, targetPort: 8080 }] } })).status).toBe(201);
    expect((await as(owner).post('/routes', { metadata: { name: 'web' }, spec: { host, to: { kind: 'Service', name: 'web' } } })).status).toBe(201);
    expect((await as(owner).post('/deploymentconfigs', deploymentConfig)).status).toBe(201);

    const page = await eventually('the app to answer through the router', async () => {
      const answer = await throughRouter(host);
      return answer.status === 200 ? answer.body : undefined;
    }, 60_000);
    expect(page.trim()).toBe(`hello from a ConfigMap ${PASSWORD}`);

    expect((await as(viewer).get('/configmaps/settings')).body.data).toEqual({ greeting: 'hello from a ConfigMap' });
    expect((await as(viewer).get('/secrets/db')).status).toBe(403);
    expect((await as(viewer).get('/secrets')).status).toBe(403);
    const seen = await as(viewer).get('/deploymentconfigs/web');
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.body)).not.toContain(PASSWORD);
    const events = await as(owner).get('/events');
    expect(JSON.stringify(events.body)).not.toContain(PASSWORD);
  }, 90_000);

  it('lets only a cluster-admin set the quota, which then refuses a scale past it', async () => {
    const quota = { metadata: { name: 'compute' }, spec: { hard: { pods: '2' } } };
    expect((await as(owner).post('/resourcequotas', quota)).status).toBe(403);
    expect((await api().post(`/api/v1/namespaces/${namespace}/resourcequotas`).send(quota)).status).toBe(201);

    const refused = await as(owner).put('/deploymentconfigs/web/scale', { spec: { replicas: 3 } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('deploymentconfigs "web" is forbidden: exceeded quota: compute, requested: pods=2, used: pods=1, limited: pods=2');
    expect((await as(owner).put('/deploymentconfigs/web/scale', { spec: { replicas: 2 } })).status).toBe(200);
    expect((await as(viewer).get('/resourcequotas/compute')).body.status).toEqual({ hard: { pods: '2' }, used: { pods: '2' } });
  });
});
