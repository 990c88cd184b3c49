import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getConnectionToken } from '@nestjs/mongoose';
import { REGISTRY_SERVICE, TOKEN_ISSUER, type AccessEntry, type Jwks } from '@paas/contracts/auth';
import { createHttpService } from '@paas/platform/bootstrap';
import { generateSigningKey, signJwt, type SigningKey } from '@paas/platform/jwt';
import { RpcServer } from '@paas/platform/rpc';
import { dropIsolatedBus, freePort, isolateBus } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { AppModule, REGISTRY_OPTIONS } from '../src/app.module';

const sha256 = (content: string) => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const REALM = 'http://127.0.0.1:8000/auth/token';

/**
 * The registry checking Docker tokens, against the real NATS and Mongo-compatible server.
 * This test plays the api-gateway's part: it answers `auth.keys` on the isolated bus with
 * a key of its own and signs the tokens.
 */
describe('registry-service token authentication', () => {
  const namespace = `ra-${randomUUID().slice(0, 8)}`;
  const repository = `${namespace}/app`;
  let app: NestFastifyApplication;
  let home: string;
  let base: string;
  let key: SigningKey;
  let keysServed = false;

  beforeAll(async () => {
    isolateBus('registry-auth');
    home = await mkdtemp(path.join(os.tmpdir(), 'registry-auth-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    Object.assign(process.env, { PAAS_HOME: home, ZIPKIN_URL: '', PAAS_DB_PREFIX: `test_${namespace.replace(/-/g, '_')}`, REGISTRY_AUTH_REALM: REALM });
    key = generateSigningKey().key;
    app = await createHttpService(AppModule, { ...REGISTRY_OPTIONS, logger: false });
    await app.listen(port, '127.0.0.1');
  });

  afterAll(async () => {
    if (app) {
      await app.get<Connection>(getConnectionToken()).dropDatabase();
      await dropIsolatedBus(app.get(NATS_CONNECTION));
      await app.close();
    }
    await rm(home, { recursive: true, force: true });
  });

  const token = (access: AccessEntry[], claims: object = {}, signer = key) => {
    const now = Math.floor(Date.now() / 1000);
    return signJwt({ iss: TOKEN_ISSUER, sub: 'alice', aud: REGISTRY_SERVICE, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), access, ...claims }, signer);
  };
  const pull = (name = repository): AccessEntry => ({ type: 'repository', name, actions: ['pull'] });
  const pushPull = (name = repository): AccessEntry => ({ type: 'repository', name, actions: ['pull', 'push'] });
  const api = (urlPath: string, bearer?: string, init: RequestInit = {}) =>
    fetch(`${base}${urlPath}`, { ...init, headers: { ...(init.headers as object), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });
  const errorOf = async (res: Response) => ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0];

  it('answers 503, not 401, while the token keys cannot be fetched', async () => {
    const res = await api('/v2/', token([]));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('UNAVAILABLE');
  });

  it('challenges a request without a token with where to get one and for what', async () => {
    if (!keysServed) app.get(RpcServer).handle('auth.keys', async (): Promise<Jwks> => ({ keys: [key.publicJwk] }));
    keysServed = true;
    const base = await api('/v2/');
    expect(base.status).toBe(401);
    expect(base.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}",service="${REGISTRY_SERVICE}"`);
    expect((await errorOf(base)).code).toBe('UNAUTHORIZED');

    const push = await api(`/v2/${repository}/blobs/uploads/`, undefined, { method: 'POST' });
    expect([push.status, push.headers.get('www-authenticate')]).toEqual([401, `Bearer realm="${REALM}",service="${REGISTRY_SERVICE}",scope="repository:${repository}:pull,push"`]);
    expect((await api('/v2/', token([]))).status).toBe(200);
  });

  it('refuses forged, expired and foreign tokens as invalid_token', async () => {
    const forged = token([pushPull()], {}, generateSigningKey().key);
    const expired = token([pushPull()], { exp: Math.floor(Date.now() / 1000) - 3600 });
    const foreign = token([pushPull()], { aud: 'another-registry' });
    for (const bad of [forged, expired, foreign, 'not-a-jwt']) {
      const res = await api(`/v2/${repository}/tags/list`, bad);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('lets a token do what its access claim grants and nothing more', async () => {
    const reader = token([pull()]);
    const writer = token([pushPull()]);
    const denied = await api(`/v2/${repository}/blobs/uploads/?digest=${sha256('layer')}`, reader, { method: 'POST', body: 'layer' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}",service="${REGISTRY_SERVICE}",scope="repository:${repository}:pull,push",error="insufficient_scope"`);

    expect((await api(`/v2/${repository}/blobs/uploads/?digest=${sha256('layer')}`, writer, { method: 'POST', body: 'layer' })).status).toBe(201);
    expect(await (await api(`/v2/${repository}/blobs/${sha256('layer')}`, reader)).text()).toBe('layer');
    expect((await api(`/v2/${namespace}/other/blobs/${sha256('layer')}`, reader)).status).toBe(401);
    expect((await api(`/v2/${repository}/blobs/${sha256('layer')}`, writer, { method: 'DELETE' })).status).toBe(401);
    expect((await api('/v2/_catalog', writer)).status).toBe(401);
    expect((await api('/v2/_catalog', token([{ type: 'registry', name: 'catalog', actions: ['*'] }]))).status).toBe(200);
  });

  it('mounts a blob only from a repository the token may pull from, else starts an ordinary upload', async () => {
    const target = `${namespace}/target`;
    const withoutSource = await api(`/v2/${target}/blobs/uploads/?mount=${sha256('layer')}&from=${repository}`, token([pushPull(target)]), { method: 'POST' });
    expect(withoutSource.status).toBe(202);
    const withSource = await api(`/v2/${target}/blobs/uploads/?mount=${sha256('layer')}&from=${repository}`, token([pushPull(target), pull()]), { method: 'POST' });
    expect([withSource.status, withSource.headers.get('docker-content-digest')]).toEqual([201, sha256('layer')]);
  });

  it('mounts a blob whose `from` is gone (or missing) from another repository the token may pull from that holds it', async () => {
    const target = `${namespace}/discovered`;
    const gone = `${namespace}/deleted-since`;
    const notReadable = await api(`/v2/${target}/blobs/uploads/?mount=${sha256('layer')}&from=${gone}`, token([pushPull(target), pull(gone)]), { method: 'POST' });
    expect(notReadable.status).toBe(202);
    const discovered = await api(`/v2/${target}/blobs/uploads/?mount=${sha256('layer')}&from=${gone}`, token([pushPull(target), pull(gone), pull()]), { method: 'POST' });
    expect([discovered.status, discovered.headers.get('docker-content-digest')]).toEqual([201, sha256('layer')]);
    const withoutFrom = await api(`/v2/${namespace}/anonymous/blobs/uploads/?mount=${sha256('layer')}`, token([pushPull(`${namespace}/anonymous`), pull()]), { method: 'POST' });
    expect(withoutFrom.status).toBe(201);
  });
});
