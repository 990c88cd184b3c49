import { randomBytes } from 'node:crypto';
import { eventually } from '@paas/platform/testing';
import { ApiTokenRepository } from '../src/tokens/api-token.repository';
import { hashToken } from '../src/tokens/token-minter';
import { forgetNamespace, startGateway } from './support';

type Gateway = Awaited<ReturnType<typeof startGateway>>;
interface TokenItem {
  kind: string;
  metadata: { name: string; creationTimestamp: string };
  spec: { subject: string; expirationTimestamp: string };
  status: { lastUsedTimestamp?: string };
}

const MAX_LIFETIME_SECONDS = 3600;

/**
 * Tokens listed (never their secret) and revoked by their owner, a namespace admin (service
 * accounts') or a cluster-admin; lifetimes bounded; passwords changed by their user (with the
 * current one) or a cluster-admin. In-process gateway, database of its own.
 */
describe('api-gateway tokens and passwords', () => {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `tok-${suffix}`;
  let gateway: Gateway;
  const users = { ann: { name: `ann-${suffix}`, password: randomBytes(12).toString('base64url') }, bob: { name: `bob-${suffix}`, password: randomBytes(12).toString('base64url') } };
  const as = (user: { name: string; password: string }) => gateway.as(user.name, user.password);
  const itemsOf = (res: { body: { items: TokenItem[] } }) => res.body.items;

  beforeAll(async () => {
    gateway = await startGateway('tokens', { ownDatabase: true, env: { PAAS_TOKEN_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_SECONDS) } });
    for (const user of Object.values(users)) await gateway.admin.post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password }).expect(201);
  });
  afterAll(async () => {
    await forgetNamespace(gateway.app, namespace);
    await gateway?.close();
  });

  it('lists a user\'s own tokens by name and times, never the token, and notes when one was used', async () => {
    const minted = (await as(users.ann).post('/api/v1/tokens').send({ expiresInSeconds: 600 }).expect(201)).body;
    expect(minted).toMatchObject({ kind: 'Token', metadata: { name: `sha256~${hashToken(minted.token)}` }, subject: users.ann.name, expiresAt: expect.any(String) });
    const listed = await as(users.ann).get('/api/v1/tokens');
    expect(listed.status).toBe(200);
    expect(listed.body.kind).toBe('APITokenList');
    expect(itemsOf(listed)).toEqual([
      { apiVersion: 'v1', kind: 'APIToken', metadata: { name: minted.metadata.name, creationTimestamp: expect.any(String) }, spec: { subject: users.ann.name, expirationTimestamp: minted.expiresAt }, status: {} },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(minted.token);
    expect(itemsOf(await as(users.bob).get('/api/v1/tokens'))).toEqual([]);

    await gateway.withToken(minted.token).get('/api/v1/users/~').expect(200);
    const used = await eventually('lastUsedTimestamp', async () => itemsOf(await gateway.withToken(minted.token).get('/api/v1/tokens'))[0].status.lastUsedTimestamp, 5000, 100);
    expect(Date.parse(used)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('bounds every token\'s lifetime', async () => {
    const tooLong = await as(users.ann).post('/api/v1/tokens').send({ expiresInSeconds: MAX_LIFETIME_SECONDS + 1 });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.details.causes).toEqual([{ field: 'expiresInSeconds', message: `must be at most ${MAX_LIFETIME_SECONDS} (the longest a token may live)` }]);
    const defaulted = (await as(users.ann).post('/api/v1/tokens').send({}).expect(201)).body;
    expect(Date.parse(defaulted.expiresAt) - Date.now()).toBeLessThanOrEqual(MAX_LIFETIME_SECONDS * 1000);

    // A token from before lifetimes were bounded (no expiresAt) ends the longest lifetime after it was made.
    const legacy = `paas_${'L'.repeat(43)}`;
    await gateway.app.get(ApiTokenRepository).add({ kind: 'User', user: users.ann.name, hash: hashToken(legacy), createdAt: new Date(Date.now() - (MAX_LIFETIME_SECONDS + 5) * 1000).toISOString() });
    expect((await gateway.withToken(legacy).get('/api/v1/users/~')).status).toBe(401);
  });

  it('revokes a token for its owner and for cluster-admins, and to anyone else it does not exist', async () => {
    const minted = (await as(users.bob).post('/api/v1/tokens').send({}).expect(201)).body;
    const name = minted.metadata.name;
    expect((await as(users.ann).delete(`/api/v1/tokens/${name}`)).status).toBe(404);
    expect((await as(users.ann).get(`/api/v1/users/${users.bob.name}/tokens`)).status).toBe(403);
    expect(itemsOf(await gateway.admin.get(`/api/v1/users/${users.bob.name}/tokens`)).map((t) => t.metadata.name)).toContain(name);
    expect(itemsOf(await as(users.bob).get('/api/v1/users/~/tokens')).map((t) => t.metadata.name)).toContain(name);

    const revoked = await as(users.bob).delete(`/api/v1/tokens/${name}`);
    expect(revoked.body).toMatchObject({ kind: 'Status', status: 'Success', details: { kind: 'APIToken', name } });
    expect((await gateway.withToken(minted.token).get('/api/v1/users/~')).status).toBe(401);

    const another = (await as(users.bob).post('/api/v1/tokens').send({}).expect(201)).body;
    await gateway.admin.delete(`/api/v1/tokens/${another.metadata.name}`).expect(200);
    expect((await gateway.withToken(another.token).get('/api/v1/users/~')).status).toBe(401);
    expect((await gateway.admin.delete('/api/v1/tokens/not-a-token-name')).status).toBe(404);
    const audited = (await gateway.admin.get('/api/v1/auditevents').query({ limit: '50' })).body.items as { method: string; path: string; user: string; statusCode: number }[];
    expect(audited).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'DELETE', path: `/api/v1/tokens/${another.metadata.name}`, user: 'admin', statusCode: 200 })]));
  });

  it('lets a namespace admin list and revoke its service accounts\' tokens, and no viewer', async () => {
    await as(users.ann).post('/api/v1/namespaces').send({ metadata: { name: namespace } }).expect(201);
    await as(users.ann).post(`/api/v1/namespaces/${namespace}/serviceaccounts`).send({ metadata: { name: 'ci' } }).expect(201);
    await as(users.ann)
      .post(`/api/v1/namespaces/${namespace}/rolebindings`)
      .send({ metadata: { name: 'bob-views' }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: users.bob.name }] })
      .expect(201);
    const minted = (await as(users.ann).post(`/api/v1/namespaces/${namespace}/serviceaccounts/ci/tokens`).send({}).expect(201)).body;
    expect(Date.parse(minted.expiresAt) - Date.now()).toBeGreaterThan((MAX_LIFETIME_SECONDS - 60) * 1000);

    const listed = await as(users.ann).get(`/api/v1/namespaces/${namespace}/serviceaccounts/ci/tokens`);
    expect(itemsOf(listed)).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: minted.metadata.name }), spec: expect.objectContaining({ subject: `system:serviceaccount:${namespace}:ci` }) })]);
    expect((await as(users.bob).get(`/api/v1/namespaces/${namespace}/serviceaccounts/ci/tokens`)).status).toBe(403);
    expect((await as(users.bob).delete(`/api/v1/tokens/${minted.metadata.name}`)).status).toBe(404);
    await as(users.ann).delete(`/api/v1/tokens/${minted.metadata.name}`).expect(200);
    expect((await gateway.withToken(minted.token).get(`/api/v1/namespaces/${namespace}/serviceaccounts`)).status).toBe(401);
  });

  it('changes a user\'s own password only with the current one, and the old one stops working at once', async () => {
    const ann = users.ann;
    const newPassword = randomBytes(12).toString('base64url');
    await as(ann).get('/api/v1/users/~').expect(200); // the old password is now a checked one, trusted for a minute

    const missing = await as(ann).put('/api/v1/users/~/password').send({ newPassword });
    expect([missing.status, missing.body.details?.causes]).toEqual([422, [{ field: 'currentPassword', message: 'is required to change your own password' }]]);
    const wrong = await as(ann).put('/api/v1/users/~/password').send({ currentPassword: 'not it', newPassword });
    expect([wrong.status, wrong.body.details?.causes?.[0]?.field]).toEqual([422, 'currentPassword']);
    const short = await as(ann).put('/api/v1/users/~/password').send({ currentPassword: ann.password, newPassword: 'short' });
    expect([short.status, short.body.details?.causes?.[0]?.field]).toEqual([422, 'newPassword']);

    const changed = await as(ann).put(`/api/v1/users/${ann.name}/password`).send({ kind: 'PasswordChange', currentPassword: ann.password, newPassword });
    expect(changed.body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect((await as(ann).get('/api/v1/users/~')).status).toBe(401);
    expect((await gateway.as(ann.name, newPassword).get('/api/v1/users/~')).status).toBe(200);
    ann.password = newPassword;

    const events = (await gateway.admin.get('/api/v1/auditevents').query({ limit: '100' })).body.items as { user: string; reason?: string; path: string; statusCode: number }[];
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ user: ann.name, path: `/api/v1/users/${ann.name}/password`, statusCode: 200 }),
        expect.objectContaining({ user: ann.name, reason: 'LoginFailed', path: '/api/v1/users/~/password' }),
      ]),
    );
  });

  it('lets a cluster-admin set another user\'s password, and nobody else', async () => {
    const bob = users.bob;
    expect((await as(users.ann).put(`/api/v1/users/${bob.name}/password`).send({ newPassword: 'a long new password' })).status).toBe(403);
    await gateway.admin.put(`/api/v1/users/${bob.name}/password`).send({ newPassword: 'a long new password' }).expect(200);
    expect((await gateway.as(bob.name, 'a long new password').get('/api/v1/users/~')).status).toBe(200);
    expect((await gateway.admin.put('/api/v1/users/nobody-here/password').send({ newPassword: 'a long new password' })).status).toBe(404);
    const own = await gateway.admin.put('/api/v1/users/~/password').send({ currentPassword: 'x', newPassword: 'a long new password' });
    expect([own.status, own.body.message]).toEqual([409, expect.stringContaining('PAAS_ADMIN_PASSWORD')]);
  });
});
