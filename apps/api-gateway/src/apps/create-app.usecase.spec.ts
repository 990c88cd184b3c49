import { ApiError } from '@paas/platform/api-error';
import type { RpcClient } from '@paas/platform/rpc';
import type { NamespacesService } from '../namespaces/namespaces.service';
import { CreateAppUseCase } from './create-app.usecase';

const body = { name: 'hello', source: { git: 'https://git.example.test/hello.git' }, builder: 'nodejs' };

/** An RPC client whose answers are scripted per method; it records every call. */
function fakeRpc(failures: Record<string, ApiError> = {}) {
  const calls: string[] = [];
  const rpc = {
    request: async (method: string, request: { dryRun?: boolean; name?: string }) => {
      const call = `${method}${request.dryRun ? ' (dry run)' : ''}`;
      calls.push(call);
      if (failures[call]) throw failures[call];
      return { metadata: { name: request.name ?? 'hello' } };
    },
  };
  return { calls, rpc: rpc as unknown as RpcClient };
}

const namespaces = { ensure: async () => undefined } as unknown as NamespacesService;

describe('CreateAppUseCase', () => {
  it('creates nothing when a dry run fails', async () => {
    const { calls, rpc } = fakeRpc({ 'buildconfigs.create (dry run)': ApiError.invalid('BuildConfig', 'hello', 'spec.strategy.sourceStrategy.from.name', 'unknown builder') });
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', body)).rejects.toMatchObject({ status: { code: 422 } });
    expect(calls.filter((call) => !call.endsWith('(dry run)'))).toEqual([]);
  });

  it('deletes what it created, newest first, when a later create is refused', async () => {
    const { calls, rpc } = fakeRpc({ 'routes.create': ApiError.alreadyExists('Route', 'hello') });
    await expect(new CreateAppUseCase(rpc, namespaces).execute('demo', body)).rejects.toMatchObject({ status: { code: 409 } });
    expect(calls.filter((call) => !call.endsWith('(dry run)'))).toEqual(['imagestreams.create', 'services.create', 'routes.create', 'services.delete', 'imagestreams.delete']);
  });

  it('also deletes the resource whose create timed out, since it may exist', async () => {
    const { calls, rpc } = fakeRpc({ 'buildconfigs.create': ApiError.of('Timeout', 'build-service did not answer in time') });
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
