import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ANONYMOUS_PULL_ANNOTATION } from '@paas/contracts/auth';
import { loadConfig } from '@paas/platform/config';
import { adminPassword, api, deleteNamespace, GATEWAY_URL, randomSuffix, run } from './support';

const REGISTRY = loadConfig().registryHost;
const LABEL = 'paas.dev/test=registry-auth';

/**
 * Docker's token flow end to end: the registry challenges, the gateway issues tokens whose
 * access follows the namespace's role bindings, and the real clients (docker, skopeo) log in
 * with a user's password. Anonymous pulls work only where a namespace allows them.
 */
describe('registry authentication through the gateway', () => {
  const suffix = randomSuffix();
  const privateNs = `reg-auth-${suffix}`;
  const publicNs = `reg-pub-${suffix}`;
  const viewer = `viewer-${suffix}`;
  const viewerPassword = `pw-${suffix}-long-enough`;
  const work = mkdtempSync(path.join(tmpdir(), 'paas-registry-auth-'));
  const docker = (args: string[], input?: string) => run('docker', ['--config', path.join(work, 'docker'), ...args], input);
  const image = (namespace: string) => `${REGISTRY}/${namespace}/app:v1`;

  beforeAll(async () => {
    expect((await api().post('/api/v1/namespaces').send({ metadata: { name: privateNs } })).status).toBe(201);
    const annotated = { metadata: { name: publicNs, annotations: { [ANONYMOUS_PULL_ANNOTATION]: 'true' } } };
    expect((await api().post('/api/v1/namespaces').send(annotated)).status).toBe(201);
    expect((await api().post('/api/v1/users').send({ metadata: { name: viewer }, password: viewerPassword })).status).toBe(201);
    const binding = { metadata: { name: 'viewers' }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: viewer }] };
    expect((await api().post(`/api/v1/namespaces/${privateNs}/rolebindings`).send(binding)).status).toBe(201);

    const root = path.join(work, 'rootfs');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
    writeFileSync(path.join(root, 'marker'), suffix);
    await run('sh', ['-c', `tar -C "${root}" -c . | docker import --change 'LABEL ${LABEL}' - "${image(privateNs)}"`]);
    await run('docker', ['tag', image(privateNs), image(publicNs)]);
  }, 60_000);

  afterAll(async () => {
    await run('sh', ['-c', `docker images -q --filter label=${LABEL} | sort -u | xargs -r docker rmi -f`]).catch(() => undefined);
    await api().delete(`/api/v1/users/${viewer}`);
    await Promise.all([deleteNamespace(privateNs), deleteNamespace(publicNs)]);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a push without credentials, and takes it from a user who logged in with docker login', async () => {
    await expect(docker(['push', image(privateNs)])).rejects.toThrow(/unauthorized|authentication required|denied/i);
    await docker(['login', REGISTRY, '-u', 'admin', '--password-stdin'], adminPassword());
    await docker(['push', image(privateNs)]);
    await docker(['push', image(publicNs)]);
  }, 60_000);

  it("lets a viewer pull but not push, as the namespace's role binding says", async () => {
    const creds = ['--creds', `${viewer}:${viewerPassword}`, '--tls-verify=false'];
    const inspected = JSON.parse(await run('skopeo', ['inspect', ...creds, `docker://${image(privateNs)}`])) as { Labels: Record<string, string> };
    expect(inspected.Labels['paas.dev/test']).toBe('registry-auth');
    const copy = run('skopeo', ['copy', '--dest-creds', `${viewer}:${viewerPassword}`, '--dest-tls-verify=false', `docker-daemon:${image(privateNs)}`, `docker://${REGISTRY}/${privateNs}/other:v1`]);
    await expect(copy).rejects.toThrow(/unauthorized|authentication required|denied/i);
    await expect(run('skopeo', ['inspect', '--creds', `${viewer}:wrong-password`, '--tls-verify=false', `docker://${image(privateNs)}`])).rejects.toThrow();
  }, 60_000);

  it('serves anonymous pulls only from a namespace that allows them', async () => {
    const anonymousManifest = async (namespace: string) => {
      const url = `http://${REGISTRY}/v2/${namespace}/app/manifests/v1`;
      const challenged = await fetch(url, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
      expect(challenged.status).toBe(401);
      const challenge = challenged.headers.get('www-authenticate') ?? '';
      const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      expect(params).toEqual({ realm: `${GATEWAY_URL}/auth/token`, service: 'paas-registry', scope: `repository:${namespace}/app:pull` });
      const tokenUrl = `${params.realm}?service=${params.service}&scope=${encodeURIComponent(params.scope)}`;
      const { token } = (await (await fetch(tokenUrl)).json()) as { token: string };
      return fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    };
    expect((await anonymousManifest(publicNs)).status).toBe(200);
    const refused = await anonymousManifest(privateNs);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  }, 60_000);
});
