import { ApiError } from './api-error';
import { RegistryTokenClient } from './registry-tokens';

describe('RegistryTokenClient', () => {
  it('asks auth.registryToken for its own subject and the repository, and answers the AuthConfig for dockerd', async () => {
    const requests: unknown[] = [];
    const rpc = { request: async (method: string, request: unknown) => (requests.push({ method, request }), { token: 'jwt', expiresAt: '2030-01-01T00:00:00Z', access: [] }) };
    const client = new RegistryTokenClient(rpc as never, 'system:deploy-service');
    expect(await client.authConfig('demo/hello', ['pull'])).toEqual({ registrytoken: 'jwt' });
    expect(requests).toEqual([
      { method: 'auth.registryToken', request: { subject: 'system:deploy-service', access: [{ type: 'repository', name: 'demo/hello', actions: ['pull'] }] } },
    ]);
  });

  it('asks for pull on every repository beside a push, so that the engine can mount layers it pushed elsewhere', async () => {
    const requests: { request: { access: unknown } }[] = [];
    const rpc = { request: async (_method: string, request: { access: unknown }) => (requests.push({ request }), { token: 'jwt', expiresAt: '2030-01-01T00:00:00Z', access: [] }) };
    await new RegistryTokenClient(rpc as never, 'system:build-service').authConfig('demo/hello', ['push', 'pull'], { crossMount: true });
    expect(requests[0].request.access).toEqual([
      { type: 'repository', name: 'demo/hello', actions: ['push', 'pull'] },
      { type: 'repository', name: '*', actions: ['pull'] },
    ]);
  });

  it("asks for a namespace's builds, and refuses a token that does not grant them what was asked, saying how to grant it", async () => {
    const requests: unknown[] = [];
    const granting = (actions: string[]) => ({
      request: async (_method: string, request: unknown) => (requests.push(request), { token: 'jwt', expiresAt: '2030-01-01T00:00:00Z', access: actions.length ? [{ type: 'repository', name: 'shared/builders', actions }] : [] }),
    });
    const client = (actions: string[]) => new RegistryTokenClient(granting(actions) as never, 'system:build-service');
    expect(await client(['pull']).authConfig('shared/builders', ['pull'], { forBuildsOf: 'demo' })).toEqual({ registrytoken: 'jwt' });
    expect(requests[0]).toEqual({ subject: 'system:build-service', access: [{ type: 'repository', name: 'shared/builders', actions: ['pull'] }], forBuildsOf: 'demo' });
    await expect(client([]).authConfig('shared/builders', ['pull'], { forBuildsOf: 'demo' })).rejects.toMatchObject({
      status: { code: 403 },
      message: expect.stringContaining('the builds of namespace demo may not pull shared/builders: its namespace grants them nothing (a role for system:serviceaccount:demo:builder'),
    });
  });

  it('says which repository it could not get a token for, and why', async () => {
    const rpc = { request: async () => Promise.reject(ApiError.of('ServiceUnavailable', 'the owning service is not available to answer auth.registryToken')) };
    await expect(new RegistryTokenClient(rpc as never, 'system:build-service').authConfig('demo/hello', ['push'])).rejects.toThrow(
      'no registry token for demo/hello from the api-gateway: the owning service is not available to answer auth.registryToken',
    );
  });
});
