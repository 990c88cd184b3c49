import { RESOURCE_VERBS, type Plural, type Verb } from '@paas/contracts/rpc';
import { eventually } from '@paas/platform/testing';
import request from 'supertest';
import { api, deleteNamespace, GATEWAY_URL, randomSuffix, throughRouter } from './support';

/**
 * The isolation matrix: two users, each the admin of a namespace of their own, and every verb
 * on every resource of the other's namespace through the API (each refused with 403 and
 * nothing changed), a registry token for the other's repositories (granting nothing), and a
 * route claiming the other's host (not admitted; the owner's route keeps the host). Pod to
 * pod traffic across namespaces is refused by the pod networks, proven from inside real pods
 * by apps/deploy-service/test/pod-isolation.int-spec.ts in the same run.
 */
interface Tenant {
  name: string;
  password: string;
  namespace: string;
  token?: string;
}

const suffix = randomSuffix();
const tenant = (who: string): Tenant => ({ name: `${who}-${suffix}`, password: `pw-${suffix}-${who}-long-enough`, namespace: `iso-${who}-${suffix}` });
const alice = tenant('alice');
const bob = tenant('bob');
const hostOf = (owner: Tenant) => `web-${owner.namespace}.apps.localhost`;

/** Requests as a tenant, with the Bearer token it made for itself (no password check per call). */
const as = (user: Tenant) => {
  const auth = { authorization: `Bearer ${user.token}` };
  return {
    get: (path: string) => request(GATEWAY_URL).get(path).set(auth),
    post: (path: string, body: object = {}) => request(GATEWAY_URL).post(path).set(auth).send(body),
    put: (path: string, body: object = {}) => request(GATEWAY_URL).put(path).set(auth).send(body),
    delete: (path: string) => request(GATEWAY_URL).delete(path).set(auth),
  };
};

/** A minimal valid body of each kind the tenants create (nothing that starts a build or a pod). */
const BODIES = {
  services: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 8080 }] } },
  imagestreams: { metadata: { name: 'web' }, spec: {} },
  routes: (owner: Tenant) => ({ metadata: { name: 'web' }, spec: { host: hostOf(owner), to: { kind: 'Service', name: 'web' } } }),
};

/** Every resource a namespace holds, with the verbs the API has for it. */
const MATRIX: [string, readonly Verb[]][] = [
  ...(Object.entries(RESOURCE_VERBS) as [Plural, readonly Verb[]][]),
  ['events', ['get', 'list']],
  ['rolebindings', ['get', 'list', 'create', 'update', 'delete']],
  ['serviceaccounts', ['get', 'list', 'create', 'delete']],
];
/** Subresources, each a verb of its own. */
const SUBRESOURCES: ['get' | 'post' | 'put', string][] = [
  ['get', 'builds/web-1/log'],
  ['get', 'pods/web-1-abcde/log'],
  ['post', 'buildconfigs/web/instantiate'],
  ['post', 'builds/web-1/cancel'],
  ['put', 'deploymentconfigs/web/scale'],
  ['post', 'deploymentconfigs/web/instantiate'],
  ['get', 'serviceaccounts/web/tokens'],
  ['post', 'serviceaccounts/web/tokens'],
];

async function setUp(user: Tenant) {
  expect((await api().post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password })).status).toBe(201);
  const token = await request(GATEWAY_URL).post('/api/v1/tokens').auth(user.name, user.password).send({});
  expect(token.status).toBe(201);
  user.token = token.body.token;
  expect((await as(user).post('/api/v1/namespaces', { metadata: { name: user.namespace } })).status).toBe(201);
  const base = `/api/v1/namespaces/${user.namespace}`;
  expect((await as(user).post(`${base}/services`, BODIES.services)).status).toBe(201);
  expect((await as(user).post(`${base}/imagestreams`, BODIES.imagestreams)).status).toBe(201);
  expect((await as(user).post(`${base}/routes`, BODIES.routes(user))).status).toBe(201);
  expect((await as(user).post(`${base}/serviceaccounts`, { metadata: { name: 'web' } })).status).toBe(201);
}

/** What the owner sees of its namespace, to compare before and after the other's attempts. */
async function snapshot(owner: Tenant) {
  const base = `/api/v1/namespaces/${owner.namespace}`;
  const kinds = ['services', 'imagestreams', 'routes', 'serviceaccounts', 'rolebindings'];
  const lists = await Promise.all(kinds.map(async (plural) => (await as(owner).get(`${base}/${plural}`)).body.items.map((item: { metadata: { name: string; resourceVersion?: string } }) => `${plural}/${item.metadata.name}@${item.metadata.resourceVersion ?? ''}`)));
  return lists.flat().sort();
}

beforeAll(async () => {
  await setUp(alice);
  await setUp(bob);
}, 60_000);

afterAll(async () => {
  await Promise.all([deleteNamespace(alice.namespace), deleteNamespace(bob.namespace)]);
  for (const user of [alice, bob]) await api().delete(`/api/v1/users/${user.name}`);
});

describe.each([
  ['bob', bob, alice],
  ['alice', alice, bob],
])("%s in the other's namespace", (_who, intruder, owner) => {
  const base = () => `/api/v1/namespaces/${owner.namespace}`;

  it('is refused every verb on every resource and subresource with 403, and nothing changes', async () => {
    const before = await snapshot(owner);
    const answers: string[] = [];
    for (const [plural, verbs] of MATRIX) {
      const calls: [Verb, () => request.Test][] = [
        ['list', () => as(intruder).get(`${base()}/${plural}`)],
        ['get', () => as(intruder).get(`${base()}/${plural}/web`)],
        ['create', () => as(intruder).post(`${base()}/${plural}`, { metadata: { name: 'intruder' } })],
        ['update', () => as(intruder).put(`${base()}/${plural}/web`, { metadata: { name: 'web' }, spec: {} })],
        ['delete', () => as(intruder).delete(`${base()}/${plural}/web`)],
      ];
      for (const [verb, call] of calls) {
        const { status } = await call();
        // A verb the API does not have for the resource may say so (405) before it says who may not.
        const expected = verbs.includes(verb) ? [403] : [403, 405];
        if (!expected.includes(status)) answers.push(`${verb} ${plural}: ${status}`);
      }
    }
    for (const [method, path] of SUBRESOURCES) {
      const { status } = await as(intruder)[method](`${base()}/${path}`);
      if (status !== 403) answers.push(`${method} ${path}: ${status}`);
    }
    for (const [method, status] of [
      ['get', (await as(intruder).get(base())).status],
      ['put', (await as(intruder).put(base(), { metadata: { name: owner.namespace, labels: { taken: 'yes' } } })).status],
      ['delete', (await as(intruder).delete(base())).status],
    ] as const) {
      if (status !== 403) answers.push(`${method} namespace: ${status}`);
    }
    expect(answers).toEqual([]);
    expect(await snapshot(owner)).toEqual(before);
    const namespaces = (await as(intruder).get('/api/v1/namespaces')).body.items.map((item: { metadata: { name: string } }) => item.metadata.name);
    expect(namespaces).not.toContain(owner.namespace);
  }, 120_000);

  it("gets a registry token that grants nothing on the other's repositories", async () => {
    const scope = `repository:${owner.namespace}/web:pull,push,delete`;
    const res = await request(GATEWAY_URL).get('/auth/token').set({ authorization: `Bearer ${intruder.token}` }).query({ service: 'paas-registry', scope });
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    expect(claims.access).toEqual([]);
  });

  it("cannot take the other's host with a route of its own", async () => {
    const claim = await as(intruder).post(`/api/v1/namespaces/${intruder.namespace}/routes`, { ...BODIES.routes(owner), metadata: { name: 'claim' } });
    expect(claim.status).toBe(201);
    const refused = await eventually('the claiming route to be refused admission', async () => {
      const route = (await as(intruder).get(`/api/v1/namespaces/${intruder.namespace}/routes/claim`)).body;
      return route.status?.ingress?.[0]?.conditions?.find((c: { type: string; status: string }) => c.type === 'Admitted' && c.status === 'False');
    });
    expect(refused.reason).toBe('HostAlreadyClaimed');
    // The owner's route still holds the host: its Service has no pod, so the router answers 503, never the intruder's backends.
    expect((await throughRouter(hostOf(owner))).status).toBe(503);
    expect((await as(intruder).delete(`/api/v1/namespaces/${intruder.namespace}/routes/claim`)).status).toBe(200);
  });
});
