import { randomBytes } from 'node:crypto';
import { ANONYMOUS_PULL_ANNOTATION, type RegistryTokenClaims } from '@paas/contracts/auth';
import { verifyJwt } from '@paas/platform/jwt';
import { RpcClient } from '@paas/platform/rpc';
import { ApiTokenRepository } from '../src/tokens/api-token.repository';
import { hashToken } from '../src/tokens/token-minter';
import { forgetNamespace, startGateway } from './support';

type Gateway = Awaited<ReturnType<typeof startGateway>>;

/**
 * Authentication and authorization of the REST API and the registry's token endpoint, on
 * an in-process gateway against the real NATS and Mongo-compatible server: users, their
 * tokens, role bindings, service accounts and anonymous pulls.
 */
describe('api-gateway authentication and authorization', () => {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `auth-${suffix}`;
  const publicNamespace = `auth-public-${suffix}`;
  const owner = { name: `owner-${suffix}`, password: randomBytes(12).toString('base64url') };
  const viewer = { name: `viewer-${suffix}`, password: randomBytes(12).toString('base64url') };
  const stranger = { name: `stranger-${suffix}`, password: randomBytes(12).toString('base64url') };
  let gateway: Gateway;
  const as = (user: { name: string; password: string }) => gateway.as(user.name, user.password);

  /** The claims of a registry token, checked against the keys `auth.keys` publishes. */
  async function claimsOf(token: string): Promise<RegistryTokenClaims> {
    const jwks = await gateway.app.get(RpcClient).request('auth.keys', {});
    return verifyJwt<RegistryTokenClaims>(token, jwks, { issuer: 'paas-api-gateway', audience: 'paas-registry' });
  }

  async function registryToken(client: Gateway['anonymous'] | ReturnType<Gateway['as']>, ...scopes: string[]) {
    const res = await client.get('/auth/token').query(`service=paas-registry&${scopes.map((s) => `scope=${encodeURIComponent(s)}`).join('&')}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token: expect.any(String), access_token: res.body.token, expires_in: 300, issued_at: expect.any(String) });
    return claimsOf(res.body.token);
  }

  beforeAll(async () => {
    // A database of its own: the wrong passwords below would count against 127.0.0.1 on the platform's gateway.
    gateway = await startGateway('auth', { ownDatabase: true });
    for (const user of [owner, viewer, stranger]) {
      await gateway.admin.post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password }).expect(201);
    }
  });

  afterAll(async () => {
    for (const user of [owner, viewer, stranger]) await gateway.admin.delete(`/api/v1/users/${user.name}`);
    for (const ns of [namespace, publicNamespace]) await forgetNamespace(gateway.app, ns);
    await gateway.close();
  });

  const expectStatus = (res: { status: number; body: unknown }, code: number, reason: string) => {
    expect(res.status).toBe(code);
    expect(res.body).toMatchObject({ apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason });
  };

  it('answers 401 with a Basic challenge without credentials or with bad ones', async () => {
    for (const res of [
      await gateway.anonymous.get('/api/v1/namespaces'),
      await gateway.anonymous.post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'x' }),
      await gateway.as(owner.name, 'not the password').get('/api/v1/namespaces'),
      await gateway.as('nobody-at-all', owner.password).get('/api/v1/namespaces'),
      await gateway.withToken(`paas_${'A'.repeat(43)}`).get('/api/v1/namespaces'),
      await gateway.anonymous.get('/api/v1/namespaces').set('Authorization', 'Negotiate abc'),
    ]) {
      expectStatus(res, 401, 'Unauthorized');
      expect(res.headers['www-authenticate']).toBe('Basic realm="paas"');
    }
    expect((await gateway.anonymous.get('/healthz')).status).toBe(200);
  });

  it('lets only cluster-admins manage users, and never shows a password', async () => {
    expectStatus(await as(owner).post('/api/v1/users').send({ metadata: { name: `x-${suffix}` }, password: 'long enough' }), 403, 'Forbidden');
    const listed = await gateway.admin.get('/api/v1/users');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((u: { metadata: { name: string } }) => u.metadata.name)).toEqual(expect.arrayContaining(['admin', owner.name]));
    expect(JSON.stringify(listed.body)).not.toContain(owner.password);
    expect(JSON.stringify(listed.body)).not.toContain('scrypt');
    const invalid = await gateway.admin.post('/api/v1/users').send({ metadata: { name: 'Bad_Name' }, password: 'short' });
    expectStatus(invalid, 422, 'Invalid');
    expect(invalid.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['metadata.name', 'password']);
    expect((await as(owner).get('/api/v1/users/~')).body).toMatchObject({ name: owner.name, type: 'User', clusterAdmin: false });
  });

  it('mints API tokens that work as Bearer and as a Basic password', async () => {
    const minted = await as(owner).post('/api/v1/tokens').send({ expiresInSeconds: 600 });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ kind: 'Token', subject: owner.name, token: expect.stringMatching(/^paas_[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) });
    expect((await gateway.withToken(minted.body.token).get('/api/v1/users/~')).body.name).toBe(owner.name);
    expect((await gateway.as('whatever', minted.body.token).get('/api/v1/users/~')).body.name).toBe(owner.name);
    expectStatus(await gateway.admin.post('/api/v1/tokens').send({ expiresInSeconds: 1 }), 422, 'Invalid');
  });

  it('refuses an expired token and forgets expired tokens', async () => {
    const tokens = gateway.app.get(ApiTokenRepository);
    const past = new Date(Date.now() - 1000).toISOString();
    const [used, unused] = [`paas_${'u'.repeat(43)}`, `paas_${'n'.repeat(43)}`];
    for (const token of [used, unused]) await tokens.add({ kind: 'User', user: owner.name, hash: hashToken(token), createdAt: past, expiresAt: past });
    expectStatus(await gateway.withToken(used).get('/api/v1/users/~'), 401, 'Unauthorized');
    expect(await tokens.findByHash(hashToken(used))).toBeUndefined();
    await as(owner).post('/api/v1/tokens').send({}).expect(201);
    expect(await tokens.findByHash(hashToken(unused))).toBeUndefined();
  });

  it('makes the creator of a namespace its admin, who grants roles; a viewer may read but not create', async () => {
    const created = await as(owner).post('/api/v1/namespaces').send({ metadata: { name: namespace } });
    expect(created.status).toBe(201);
    const bindings = await as(owner).get(`/api/v1/namespaces/${namespace}/rolebindings`);
    expect(bindings.body.items).toEqual([expect.objectContaining({ kind: 'RoleBinding', roleRef: { name: 'admin' }, subjects: [{ kind: 'User', name: owner.name }] })]);

    expectStatus(await as(viewer).get(`/api/v1/namespaces/${namespace}`), 403, 'Forbidden');
    const bound = await as(owner)
      .post(`/api/v1/namespaces/${namespace}/rolebindings`)
      .send({ metadata: { name: 'viewers' }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: viewer.name }] });
    expect(bound.status).toBe(201);

    expect((await as(viewer).get(`/api/v1/namespaces/${namespace}`)).status).toBe(200);
    expect((await as(viewer).get(`/api/v1/namespaces/${namespace}/rolebindings`)).status).toBe(200);
    const refused = await as(viewer).post(`/api/v1/namespaces/${namespace}/routes`).send({ metadata: { name: 'r' }, spec: {} });
    expectStatus(refused, 403, 'Forbidden');
    expect(refused.body.message).toBe(`routes is forbidden: User "${viewer.name}" cannot create resource "routes" in the namespace "${namespace}"`);
    expectStatus(await as(viewer).post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'hello', source: { git: '/srv/x' }, builder: 'nodejs' }), 403, 'Forbidden');
    expectStatus(await as(viewer).post(`/api/v1/namespaces/${namespace}/serviceaccounts`).send({ metadata: { name: 'sa' } }), 403, 'Forbidden');
    expectStatus(await as(viewer).post(`/api/v1/namespaces/${namespace}/buildconfigs/hello/instantiate`).send({}), 403, 'Forbidden');
    expectStatus(
      await as(viewer).post(`/api/v1/namespaces/${namespace}/rolebindings`).send({ metadata: { name: 'me' }, roleRef: { name: 'admin' }, subjects: [{ kind: 'User', name: viewer.name }] }),
      403,
      'Forbidden',
    );
    expectStatus(await as(viewer).delete(`/api/v1/namespaces/${namespace}`), 403, 'Forbidden');
    // As Kubernetes' view role: no Secrets (e2e/src/config.e2e-spec.ts shows the rest on the running platform).
    const secrets = await as(viewer).get(`/api/v1/namespaces/${namespace}/secrets`);
    expectStatus(secrets, 403, 'Forbidden');
    expect(secrets.body.message).toBe(`secrets is forbidden: User "${viewer.name}" cannot list resource "secrets" in the namespace "${namespace}"`);
    // A namespace's admin may read its quota but not raise it: only cluster-admins write quotas and limit ranges.
    const raised = await as(owner).post(`/api/v1/namespaces/${namespace}/resourcequotas`).send({ metadata: { name: 'mine' }, spec: { hard: { pods: '1000' } } });
    expectStatus(raised, 403, 'Forbidden');

    const names = async (user: { name: string; password: string }) =>
      (await as(user).get('/api/v1/namespaces')).body.items.map((n: { metadata: { name: string } }) => n.metadata.name);
    expect(await names(viewer)).toEqual([namespace]);
    expect(await names(stranger)).toEqual([]);
    expect((await gateway.admin.get('/api/v1/namespaces')).body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toContain(namespace);
  });

  it('records the user in the audit trail, refused calls included', async () => {
    const events = (await gateway.admin.get('/api/v1/auditevents').query({ namespace, limit: '50' })).body.items as { user: string; statusCode: number; path: string }[];
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ user: owner.name, statusCode: 201, path: `/api/v1/namespaces/${namespace}/rolebindings` }),
        expect.objectContaining({ user: viewer.name, statusCode: 403, path: `/api/v1/namespaces/${namespace}/routes` }),
      ]),
    );
    expectStatus(await as(owner).get('/api/v1/auditevents'), 403, 'Forbidden');
  });

  it('issues registry tokens for the intersection of what is asked and what the roles allow', async () => {
    const repository = `${namespace}/app`;
    const ask = `repository:${repository}:pull,push,delete`;
    // A push token also lets the engine mount layers from wherever its holder may pull already (every repository of its namespaces).
    expect((await registryToken(as(owner), ask)).access).toEqual([
      { type: 'repository', name: repository, actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: `${namespace}/*`, actions: ['pull'] },
    ]);
    const viewerClaims = await registryToken(as(viewer), ask, `repository:other-${suffix}/app:pull`);
    expect(viewerClaims).toMatchObject({ iss: 'paas-api-gateway', aud: 'paas-registry', sub: viewer.name, access: [{ type: 'repository', name: repository, actions: ['pull'] }] });
    expect(viewerClaims.exp - viewerClaims.iat).toBe(300);
    expect((await registryToken(as(stranger), ask)).access).toEqual([]);
    expect((await registryToken(gateway.anonymous, ask)).access).toEqual([]);
    expect((await registryToken(gateway.admin, ask, 'registry:catalog:*')).access).toEqual([
      { type: 'repository', name: repository, actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: '*', actions: ['pull'] },
    ]);
    expect((await registryToken(gateway.admin, `repository:${repository}:pull`)).access).toEqual([{ type: 'repository', name: repository, actions: ['pull'] }]);
    expect((await registryToken(as(owner), 'registry:catalog:*')).access).toEqual([]);
  });

  it('answers bad credentials at the token endpoint with 401 in the registry error envelope', async () => {
    const res = await gateway.as(owner.name, 'wrong').get('/auth/token').query({ service: 'paas-registry', scope: `repository:${namespace}/app:pull` });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="paas"');
    expect(res.body).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password', detail: null }] });
    expect((await gateway.anonymous.get('/auth/token').query({ service: 'elsewhere' })).status).toBe(400);
  });

  it('lets anyone pull, and only pull, from a namespace annotated for anonymous pulls', async () => {
    await as(owner).post('/api/v1/namespaces').send({ metadata: { name: publicNamespace } }).expect(201);
    const ask = `repository:${publicNamespace}/site:pull,push`;
    expect((await registryToken(gateway.anonymous, ask)).access).toEqual([]);

    const current = (await as(owner).get(`/api/v1/namespaces/${publicNamespace}`)).body;
    expectStatus(await as(viewer).put(`/api/v1/namespaces/${publicNamespace}`).send(current), 403, 'Forbidden');
    const annotated = await as(owner)
      .put(`/api/v1/namespaces/${publicNamespace}`)
      .send({ metadata: { ...current.metadata, annotations: { [ANONYMOUS_PULL_ANNOTATION]: 'true' } } });
    expect(annotated.status).toBe(200);

    expect((await registryToken(gateway.anonymous, ask)).access).toEqual([{ type: 'repository', name: `${publicNamespace}/site`, actions: ['pull'] }]);
    expect((await registryToken(as(stranger), ask)).access).toEqual([{ type: 'repository', name: `${publicNamespace}/site`, actions: ['pull'] }]);
    expect((await registryToken(gateway.anonymous, `repository:${namespace}/app:pull`)).access).toEqual([]);
    expectStatus(await gateway.anonymous.get(`/api/v1/namespaces/${publicNamespace}`), 401, 'Unauthorized');
  });

  it('lets only cluster-admins decide a namespace\'s registry quota, which services read over NATS', async () => {
    const quotaAnnotation = 'paas.dev/registry-storage-quota';
    const current = (await as(owner).get(`/api/v1/namespaces/${namespace}`)).body;
    const withQuota = (value: string) => ({ metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [quotaAnnotation]: value } } });
    const refused = await as(owner).put(`/api/v1/namespaces/${namespace}`).send(withQuota('100Gi'));
    expectStatus(refused, 403, 'Forbidden');
    expect(refused.body.message).toContain('only cluster-admins decide registry quotas');
    expectStatus(await as(owner).post('/api/v1/namespaces').send({ metadata: { name: `quota-${suffix}`, annotations: { [quotaAnnotation]: '1Ti' } } }), 403, 'Forbidden');
    const invalid = await gateway.admin.put(`/api/v1/namespaces/${namespace}`).send(withQuota('lots'));
    expectStatus(invalid, 422, 'Invalid');
    expect(invalid.body.details.causes[0].field).toBe(`metadata.annotations.${quotaAnnotation}`);
    await gateway.admin.put(`/api/v1/namespaces/${namespace}`).send(withQuota('5Gi')).expect(200);
    // Its admin may still change the rest of the namespace, the quota left as it is.
    const set = (await as(owner).get(`/api/v1/namespaces/${namespace}`)).body;
    await as(owner).put(`/api/v1/namespaces/${namespace}`).send({ metadata: { ...set.metadata, labels: { team: 'a' } } }).expect(200);

    const rpc = gateway.app.get(RpcClient);
    expect((await rpc.request('namespaces.get', { name: namespace })).metadata.annotations).toMatchObject({ [quotaAnnotation]: '5Gi' });
    await expect(rpc.request('namespaces.get', { name: `none-${suffix}` })).rejects.toMatchObject({ status: { code: 404 } });
  });

  it('gives service accounts tokens that act with the roles bound to them, until they are deleted', async () => {
    await as(owner).post(`/api/v1/namespaces/${namespace}/serviceaccounts`).send({ metadata: { name: 'ci' } }).expect(201);
    expectStatus(await as(viewer).post(`/api/v1/namespaces/${namespace}/serviceaccounts/ci/tokens`).send({}), 403, 'Forbidden');
    const minted = await as(owner).post(`/api/v1/namespaces/${namespace}/serviceaccounts/ci/tokens`).send({});
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ kind: 'Token', subject: `system:serviceaccount:${namespace}:ci`, token: expect.stringMatching(/^paas_/) });
    const robot = gateway.withToken(minted.body.token);

    expectStatus(await robot.get(`/api/v1/namespaces/${namespace}/serviceaccounts`), 403, 'Forbidden');
    await as(owner)
      .post(`/api/v1/namespaces/${namespace}/rolebindings`)
      .send({ metadata: { name: 'ci-edit' }, roleRef: { name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'ci' }] })
      .expect(201);
    expect((await robot.get(`/api/v1/namespaces/${namespace}/serviceaccounts`)).status).toBe(200);
    expect((await robot.post(`/api/v1/namespaces/${namespace}/serviceaccounts`).send({ metadata: { name: 'helper' } })).status).toBe(201);
    expectStatus(await robot.delete(`/api/v1/namespaces/${namespace}/rolebindings/viewers`), 403, 'Forbidden');
    expectStatus(await robot.post('/api/v1/namespaces').send({ metadata: { name: `robot-${suffix}` } }), 403, 'Forbidden');
    expectStatus(await robot.post(`/api/v1/namespaces/robot-${suffix}/routes`).send({ metadata: { name: 'r' }, spec: {} }), 403, 'Forbidden');

    const claims = await registryToken(gateway.as('docker', minted.body.token), `repository:${namespace}/app:pull,push,delete`);
    expect(claims).toMatchObject({
      sub: `system:serviceaccount:${namespace}:ci`,
      access: [
        { type: 'repository', name: `${namespace}/app`, actions: ['pull', 'push'] },
        { type: 'repository', name: `${namespace}/*`, actions: ['pull'] },
      ],
    });

    await as(owner).delete(`/api/v1/namespaces/${namespace}/serviceaccounts/ci`).expect(200);
    expectStatus(await robot.get(`/api/v1/namespaces/${namespace}/serviceaccounts`), 401, 'Unauthorized');
  });

  it('issues tokens to the platform services over NATS, within what each may hold', async () => {
    const rpc = gateway.app.get(RpcClient);
    const access = [{ type: 'repository' as const, name: `${namespace}/app`, actions: ['pull', 'push', 'delete'] }];
    const build = await rpc.request('auth.registryToken', { subject: 'system:build-service', access, ttlSeconds: 900 });
    const buildClaims = await claimsOf(build.token);
    expect(buildClaims).toMatchObject({ sub: 'system:build-service', access: [{ ...access[0], actions: ['pull', 'push'] }] });
    expect(buildClaims.exp - buildClaims.iat).toBe(900);
    expect(Date.parse(build.expiresAt)).toBe(buildClaims.exp * 1000);
    const deploy = await rpc.request('auth.registryToken', { subject: 'system:deploy-service', access });
    expect((await claimsOf(deploy.token)).access).toEqual([{ ...access[0], actions: ['pull'] }]);
    // Pull on every repository (for cross-repository mounts) is for platform services only.
    const everywhere = { type: 'repository' as const, name: '*', actions: ['pull', 'push'] };
    const mounting = await rpc.request('auth.registryToken', { subject: 'system:build-service', access: [everywhere] });
    expect((await claimsOf(mounting.token)).access).toEqual([everywhere]);
    expect((await registryToken(gateway.admin, 'repository:*:pull')).access).toEqual([]);
    await expect(rpc.request('auth.registryToken', { subject: 'system:intruder' as 'system:build-service', access })).rejects.toMatchObject({ status: { code: 422 } });
    await expect(rpc.request('auth.registryToken', { subject: 'system:build-service', access, ttlSeconds: 7200 })).rejects.toMatchObject({ status: { code: 422 } });
  });

  it("narrows a build-service token for a namespace's builds to what they may pull: their own, anonymous pulls, and where their builder service account holds a role", async () => {
    const rpc = gateway.app.get(RpcClient);
    const shared = `auth-shared-${suffix}`;
    await as(owner).post('/api/v1/namespaces').send({ metadata: { name: shared } }).expect(201);
    try {
      const ask = (...repositories: string[]) => repositories.map((name) => ({ type: 'repository' as const, name, actions: ['pull', 'push'] }));
      const granted = async (forBuildsOf: string, ...repositories: string[]) => (await rpc.request('auth.registryToken', { subject: 'system:build-service', access: ask(...repositories), forBuildsOf })).access;
      const pull = (name: string) => ({ type: 'repository', name, actions: ['pull'] });
      expect(await granted(namespace, `${namespace}/app`, `${shared}/builders`, `${publicNamespace}/site`, '*')).toEqual([pull(`${namespace}/app`), pull(`${publicNamespace}/site`)]);

      // OpenShift's grant: system:image-puller for system:serviceaccount:<ns>:builder, which need not exist; it reads nothing through the API.
      await as(owner)
        .post(`/api/v1/namespaces/${shared}/rolebindings`)
        .send({ metadata: { name: 'builds-of-auth' }, roleRef: { name: 'system:image-puller' }, subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace }] })
        .expect(201);
      expect(await granted(namespace, `${shared}/builders`)).toEqual([pull(`${shared}/builders`)]);
      expect(await granted(publicNamespace, `${shared}/builders`)).toEqual([]);
      const claims = await claimsOf((await rpc.request('auth.registryToken', { subject: 'system:build-service', access: ask(`${shared}/builders`), forBuildsOf: namespace })).token);
      expect(claims).toMatchObject({ sub: 'system:build-service', access: [pull(`${shared}/builders`)] });
      await expect(rpc.request('auth.registryToken', { subject: 'system:build-service', access: ask(`${shared}/builders`), forBuildsOf: 'Not A Namespace' })).rejects.toMatchObject({ status: { code: 422 } });
    } finally {
      await forgetNamespace(gateway.app, shared);
    }
  });

  it('keeps one signing key across restarts, published as a JWKS', async () => {
    const { keys } = await gateway.app.get(RpcClient).request('auth.keys', {});
    expect(keys).toEqual([{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' }]);
    const second = await startGateway('auth-restart', { dbPrefix: gateway.dbPrefix });
    try {
      expect(await second.app.get(RpcClient).request('auth.keys', {})).toEqual({ keys });
    } finally {
      await second.close();
    }
  });
});
