import { forgetNamespace, startGateway } from './support';

/** The gateway's own edge, in-process against the real NATS and Mongo-compatible server, as the admin. */
describe('api-gateway edge validation', () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let http: Awaited<ReturnType<typeof startGateway>>['admin'];

  beforeAll(async () => {
    gateway = await startGateway('gateway');
    http = gateway.admin;
  });
  afterAll(() => gateway.close());

  const expectStatus = (body: unknown, code: number, reason: string) =>
    expect(body).toMatchObject({ apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason });

  it('answers an invalid app name and missing fields with 422 naming each field', async () => {
    const res = await http.post('/api/v1/namespaces/demo/apps').send({ name: 'Hello_App', source: {}, strategy: 'Custom' });
    expect(res.status).toBe(422);
    expectStatus(res.body, 422, 'Invalid');
    expect(res.body.details.causes.map((c: { field: string }) => c.field)).toEqual(expect.arrayContaining(['name', 'source.git', 'strategy']));
  });

  it('refuses a namespace that is not a DNS-1123 label', async () => {
    const res = await http.post('/api/v1/namespaces/Not_A_Label/apps').send({ name: 'hello', source: { git: '/srv/x' }, builder: 'nodejs' });
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('metadata.name');
  });

  it('answers malformed JSON with 400 and an oversized body with 413, both as Status', async () => {
    const malformed = await http.post('/api/v1/namespaces/demo/apps').set('content-type', 'application/json').send('{"name":');
    expect(malformed.status).toBe(400);
    expectStatus(malformed.body, 400, 'BadRequest');

    const huge = await http.post('/api/v1/namespaces/demo/apps').send({ name: 'hello', padding: 'x'.repeat(600 * 1024) });
    expect(huge.status).toBe(413);
    expectStatus(huge.body, 413, 'RequestEntityTooLarge');
  });

  it('takes an empty body sent as JSON as no body, as kubectl sends DELETEs', async () => {
    const res = await http.delete('/api/v1/namespaces/demo/widgets/x').set('content-type', 'application/json');
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('widgets');
  });

  it('answers a verb a resource does not take with 405', async () => {
    const res = await http.post('/api/v1/namespaces/demo/pods').send({ metadata: { name: 'p' } });
    expect(res.status).toBe(405);
    expect(res.body.message).toContain('allowed: get, list');
  });

  it('answers an unknown resource type with 404', async () => {
    const res = await http.get('/api/v1/namespaces/demo/widgets');
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('widgets');
  });

  it('leaves no namespace behind for a refused create', async () => {
    const namespace = `refused-${Date.now().toString(36)}`;
    const res = await http.post(`/api/v1/namespaces/${namespace}/routes`).send({ metadata: { name: 'Not A Name' }, spec: {} });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await http.get(`/api/v1/namespaces/${namespace}`)).status).toBe(404);
  });

  it('refuses a body whose namespace contradicts the URL', async () => {
    const res = await http.post('/api/v1/namespaces/demo/routes').send({ metadata: { name: 'r', namespace: 'other' }, spec: {} });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('does not match');
  });

  it('keeps an audit trail of calls that change things, refused ones included', async () => {
    const namespace = `audit-${Date.now().toString(36)}`;
    await http.post('/api/v1/namespaces').send({ metadata: { name: namespace } }).expect(201);
    await http.post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'Bad Name' }).expect(422);
    await http.get(`/api/v1/namespaces/${namespace}/routes`);
    const scoped = await http.get('/api/v1/auditevents').query({ namespace });
    expect(scoped.status).toBe(200);
    expect(scoped.body.items).toEqual([
      expect.objectContaining({ method: 'POST', path: `/api/v1/namespaces/${namespace}/apps`, namespace, statusCode: 422, user: 'admin' }),
    ]);
    const recent = await http.get('/api/v1/auditevents').query({ limit: '10' });
    expect(recent.body.items.find((event: { path: string }) => event.path === '/api/v1/namespaces')).toMatchObject({ method: 'POST', statusCode: 201 });
    expect((await http.get('/api/v1/auditevents').query({ limit: '0' })).status).toBe(422);
    await forgetNamespace(gateway.app, namespace);
  });

  it('reports readiness with its checks', async () => {
    const res = await gateway.anonymous.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ nats: 'ok', mongo: 'ok' });
  });
});
