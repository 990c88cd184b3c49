import type { Service } from '@paas/contracts/deployments';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import { RpcServer } from '@paas/platform/rpc';
import { listResponse } from '@paas/platform/rpc-input';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import { startGateway } from './support';

/**
 * `?limit=N&continue=<token>` on a list through the gateway, in-process on an isolated bus:
 * the owner of services is played by an RpcServer over an in-memory repository (the store
 * itself is covered by the conformance suite), so what is checked is the way through the
 * gateway: query parsing, the request it sends, and the Status of a refusal.
 */
describe('list paging through the gateway', () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  const namespace = 'paging';
  const services = new InMemoryResourceRepository<Service>('Service');

  beforeAll(async () => {
    gateway = await startGateway('paging');
    for (const name of ['e', 'a', 'c', 'b', 'd']) await services.create({ metadata: { name, namespace }, spec: { selector: { app: name }, ports: [] } as never, status: {} as never });
    const owner = new RpcServer(gateway.app.get(NATS_CONNECTION), 'deploy-service');
    owner.handle('services.list', (request) => listResponse('Service', services, request));
  });
  afterAll(() => gateway.close());

  const names = (body: { items: Service[] }) => body.items.map((service) => service.metadata.name);

  it('pages with limit and metadata.continue until the last page, in list order', async () => {
    const pages: string[][] = [];
    let continueToken: string | undefined;
    do {
      const res = await gateway.admin.get(`/api/v1/namespaces/${namespace}/services`).query({ limit: 2, ...(continueToken ? { continue: continueToken } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.kind).toBe('ServiceList');
      pages.push(names(res.body));
      continueToken = res.body.metadata.continue;
    } while (continueToken);
    expect(pages).toEqual([['e', 'a'], ['c', 'b'], ['d']]);
    const whole = await gateway.admin.get(`/api/v1/namespaces/${namespace}/services`);
    expect(names(whole.body)).toEqual(['e', 'a', 'c', 'b', 'd']);
    expect(whole.body.metadata.continue).toBeUndefined();
  });

  it('answers a malformed limit or continue token with 400 and a Status', async () => {
    for (const query of [{ limit: 'ten' }, { limit: '-1' }, { limit: 2, continue: 'garbage' }]) {
      const res = await gateway.admin.get(`/api/v1/namespaces/${namespace}/services`).query(query);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    }
  });
});
