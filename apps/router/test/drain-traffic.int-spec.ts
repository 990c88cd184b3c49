import type { RouterTraffic } from '@paas/contracts/routes';
import { PresenceWatcher } from '@paas/platform/presence';
import { eventually } from '@paas/platform/testing';
import { backend, ControlClient, get, RouterHarness, RouterProcess, until, type Backend } from './support/router-processes';

/**
 * A router replica's part in a pod's drain (docs/architecture.md, "Drain"): it announces
 * itself, and answers for itself whether it still routes to an address and how many requests
 * it has in flight there, also once the address has left its table.
 */
describe('router replica traffic report', () => {
  const harness = new RouterHarness();
  const namespace = 'drain';
  const host = `web-${namespace}.apps.localhost`;
  let router: RouterProcess;
  let control: ControlClient;
  let slow: Backend;

  beforeAll(async () => {
    slow = await backend('slow', 2_000);
    ({ router, control } = await harness.start());
  });

  afterAll(async () => {
    await harness.stop();
    await slow?.close();
  });

  it('is heard by its presence and says, of an address, whether it routes there and what it has in flight there', async () => {
    const watcher = new PresenceWatcher(control.nats, 'router');
    watcher.start();
    const replicas = await eventually('the router replica to be heard', async () => (watcher.live()?.length === 1 ? watcher.live() : undefined), 10_000);
    watcher.stop();

    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { host, to: { name: 'web' } } } });
    await until(
      async () => {
        await control.endpoints(namespace, 'web', [slow]);
        return get(router.httpPort, host, '/');
      },
      (answer) => answer.status === 200,
      'the route to serve',
    );
    const address = { ip: '127.0.0.1', port: slow.port };
    const traffic = async (): Promise<RouterTraffic['addresses'][number] | undefined> => {
      const answers = await control.rpc.gather('router.traffic', { addresses: [address] }, { expected: 1, timeoutMs: 1_000 });
      expect(answers.map((answer) => [answer.replica, answer.loaded])).toEqual([[replicas?.[0], true]]);
      return answers[0].addresses[0];
    };
    expect(await traffic()).toEqual({ ...address, routed: true, inFlight: 0 });

    const inFlight = get(router.httpPort, host, '/?slow');
    await eventually('the slow request to be in flight', async () => ((await traffic())?.inFlight === 1 ? true : undefined), 2_000, 20);
    await control.endpoints(namespace, 'web', []);
    await eventually('the address to leave the table', async () => ((await traffic())?.routed === false ? true : undefined), 2_000, 20);
    expect(await traffic()).toEqual({ ...address, routed: false, inFlight: 1 });

    expect(await inFlight).toMatchObject({ status: 200, body: 'slow' });
    expect(await traffic()).toEqual({ ...address, routed: false, inFlight: 0 });
  });

  it('refuses a question that is not a list of addresses', async () => {
    await expect(control.rpc.request('router.traffic', { addresses: [{ ip: '', port: 0 }] })).rejects.toMatchObject({ status: { code: 422 } });
  });
});
