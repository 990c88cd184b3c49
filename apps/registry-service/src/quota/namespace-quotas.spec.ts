import { ApiError } from '@paas/platform/api-error';
import type { RpcClient } from '@paas/platform/rpc';
import { NamespaceQuotas } from './namespace-quotas';

/** The gateway's side of `namespaces.get`: namespace → its annotations, or an error to throw. */
function gateway(answers: Record<string, Record<string, string> | Error>) {
  const asked: string[] = [];
  const rpc = {
    request: async (_method: string, { name }: { name: string }) => {
      asked.push(name);
      const answer = answers[name] ?? ApiError.notFound('Namespace', name);
      if (answer instanceof Error) throw answer;
      return { metadata: { name, annotations: answer } };
    },
  } as unknown as RpcClient;
  return { rpc, asked };
}

describe('NamespaceQuotas', () => {
  const settings = { namespaceQuotaBytes: 1000, quotaCacheMs: 60_000 };

  it('reads the annotation, falls back to the default without one or for an unknown namespace, and asks once per cache period', async () => {
    const { rpc, asked } = gateway({ big: { 'paas.dev/registry-storage-quota': '5Gi' }, plain: {}, odd: { 'paas.dev/registry-storage-quota': 'lots' } });
    const quotas = new NamespaceQuotas(rpc, settings);
    expect(await quotas.quotaOf('big')).toBe(5 * 2 ** 30);
    expect(await quotas.quotaOf('big')).toBe(5 * 2 ** 30);
    expect([await quotas.quotaOf('plain'), await quotas.quotaOf('odd'), await quotas.quotaOf('nowhere')]).toEqual([1000, 1000, 1000]);
    expect(asked).toEqual(['big', 'plain', 'odd', 'nowhere']);
  });

  it('keeps the last answer while the gateway cannot be asked', async () => {
    const answers: Record<string, Record<string, string> | Error> = { ns: { 'paas.dev/registry-storage-quota': '10Ki' } };
    const quotas = new NamespaceQuotas(gateway(answers).rpc, { ...settings, quotaCacheMs: 0 });
    expect(await quotas.quotaOf('ns')).toBe(10_240);
    answers.ns = ApiError.of('ServiceUnavailable', 'api-gateway is not available');
    expect(await quotas.quotaOf('ns')).toBe(10_240);
    expect(await new NamespaceQuotas(gateway(answers).rpc, { ...settings, namespaceQuotaBytes: undefined }).quotaOf('ns')).toBeUndefined();
  });
});
