import { ApiError } from '@paas/platform/api-error';
import type { RpcClient } from '@paas/platform/rpc';
import type { NamespacesService } from '../namespaces/namespaces.service';
import { CreateAppUseCase } from './create-app.usecase';

const body = { name: 'hello', source: { git: 'https://git.example.test/hello.git' }, builder: 'nodejs' };

/** An RPC client whose answers are scripted per method; it records every call. */
function fakeRpc(failures: Record<string, ApiError> = {}, detected: object = { type: 'Docker', because: 'Dockerfile' }) {
  const calls: string[] = [];
  const bodies: Record<string, unknown> = {};
  const rpc = {
    request: async (method: string, request: { dryRun?: boolean; name?: string; body?: unknown }) => {
      const call = `${method}${request.dryRun ? ' (dry run)' : ''}`;
      calls.push(call);
      bodies[call] = request.body ?? request;
      if (failures[call]) throw failures[call];
      return method === 'buildconfigs.detect' ? detected : { metadata: { name: request.name ?? 'hello' } };
    },
  };
  return { calls, bodies, rpc: rpc as unknown as RpcClient };
}

const namespaces = { ensure: async () => undefined } as unknown as NamespacesService;

describe('CreateAppUseCase', () => {
  it('builds with the builder it is given, asking the build-service nothing', async () => {
    const { calls, bodies, rpc } = fakeRpc();
    await new CreateAppUseCase(rpc, namespaces).execute('demo', body);
    expect(calls).not.toContain('buildconfigs.detect');
    expect(bodies['buildconfigs.create']).toMatchObject({ spec: { strategy: { type: 'Source', sourceStrategy: { from: { name: 'nodejs' } } } } });
  });

  it('without a builder, builds as the build-service detects (the repository\'s Dockerfile)', async () => {
    const { calls, bodies, rpc } = fakeRpc();
    await new CreateAppUseCase(rpc, namespaces).execute('demo', { ...body, builder: undefined, source: { ...body.source, contextDir: 'web' } });
    expect(calls[0]).toBe('buildconfigs.detect');
    expect(bodies['buildconfigs.detect']).toEqual({ git: body.source.git, ref: 'main', contextDir: 'web', strategy: undefined });
    expect(bodies['buildconfigs.create']).toMatchObject({ spec: { strategy: { type: 'Docker', dockerStrategy: { dockerfilePath: 'Dockerfile' } } } });
  });

  it('refuses a builder with the Docker strategy before asking anyone', async () => {
    const { calls, rpc } = fakeRpc();
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', { ...body, strategy: 'Docker' })).rejects.toMatchObject({ status: { code: 422, details: { causes: [{ field: 'builder' }] } } });
    expect(calls).toEqual([]);
  });

  it('creates nothing when a dry run fails', async () => {
    const { calls, rpc } = fakeRpc({ 'buildconfigs.create (dry run)': ApiError.invalid('BuildConfig', 'hello', 'spec.strategy.sourceStrategy.from.name', 'unknown builder') });
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', body)).rejects.toMatchObject({ status: { code: 422 } });
    expect(calls.filter((call) => !call.endsWith('(dry run)'))).toEqual([]);
  });

  it('creates the BuildConfig (which starts the first build) first, alone, then the other four, once every dry run passed', async () => {
    const { calls, rpc } = fakeRpc();
    const created = await new CreateAppUseCase(rpc, namespaces).execute('demo', body);
    const others = ['imagestreams.create', 'services.create', 'routes.create', 'deploymentconfigs.create'];
    expect(calls).toEqual([...[...others, 'buildconfigs.create'].map((call) => `${call} (dry run)`), 'buildconfigs.create', ...others]);
    expect(created.items).toHaveLength(5);
  });

  it('deletes what it created, in the reverse of the creation order, when another create is refused: the BuildConfig too, with the build it started', async () => {
    const { calls, rpc } = fakeRpc({ 'routes.create': ApiError.alreadyExists('Route', 'hello') });
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', body)).rejects.toMatchObject({ status: { code: 409 } });
    expect(calls.filter((call) => call.endsWith('.delete'))).toEqual(['buildconfigs.delete', 'deploymentconfigs.delete', 'services.delete', 'imagestreams.delete']);
  });

  it('also deletes the resource whose create timed out, since it may exist', async () => {
    const { calls, rpc } = fakeRpc({ 'deploymentconfigs.create': ApiError.of('Timeout', 'deploy-service did not answer in time') });
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', body)).rejects.toMatchObject({ status: { code: 504 } });
    expect(calls.filter((call) => call.endsWith('.delete'))).toEqual([
      'buildconfigs.delete',
      'deploymentconfigs.delete',
      'routes.delete',
      'services.delete',
      'imagestreams.delete',
    ]);
  });
});
