import { eventually, freePort } from '@paas/platform/testing';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backend, buildRouter, ControlClient, get, Isolation, NatsProcess, RouterProcess, until, type Backend } from './support/router-processes';

/**
 * The router keeps serving when NATS dies (CF's gorouter once dropped every route on a NATS
 * outage): a router process on a private nats-server, the server killed by pid, requests
 * still answered; then the router restarted while NATS is still down serves from its
 * snapshot; then NATS comes back and the same router takes updates again.
 */
describe('router with NATS killed', () => {
  const isolation = new Isolation();
  const namespace = 'outage';
  const host = `web-${namespace}.apps.localhost`;
  let nats: NatsProcess;
  let control: ControlClient | undefined;
  const routers: RouterProcess[] = [];
  let alpha: Backend;
  let beta: Backend;

  /** `count` requests in a row, each answered 200 by one of `names`; answers the bodies seen. */
  async function servesFrom(router: RouterProcess, names: string[], count: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const answer = await get(router.httpPort, host);
      expect(answer.status).toBe(200);
      expect(names).toContain(answer.body);
      seen.add(answer.body);
      expect(router.running).toBe(true);
      await sleep(20);
    }
    return seen;
  }

  beforeAll(async () => {
    buildRouter();
    [alpha, beta] = await Promise.all([backend('alpha'), backend('beta')]);
    nats = new NatsProcess(await freePort(), path.join(isolation.home, 'jetstream'));
    await nats.start();
  });

  afterAll(async () => {
    await control?.close().catch(() => undefined);
    for (const router of routers) await router.stop(2_000);
    await nats.kill();
    await Promise.all([alpha?.close(), beta?.close()]);
    await isolation.remove();
  });

  it('keeps serving its table with the nats-server killed, and a restarted router serves from its snapshot', async () => {
    const first = new RouterProcess({ home: isolation.home, natsUrl: nats.url, dbPrefix: isolation.dbPrefix });
    routers.push(first);
    await first.start();
    await first.ready();

    control = await ControlClient.connect(nats.url);
    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { to: { name: 'web' } } } });
    // The router's per-replica consumer exists once it is ready; publish until the endpoints are applied.
    await until(
      async () => {
        await control?.endpoints(namespace, 'web', [alpha, beta]);
        return get(first.httpPort, host);
      },
      (a) => a.status === 200,
      'the route to serve',
    );
    expect(await servesFrom(first, ['alpha', 'beta'], 10)).toEqual(new Set(['alpha', 'beta']));

    // The snapshot holds the route and both endpoints before NATS goes.
    const snapshotFile = path.join(isolation.home, 'data', 'router', 'snapshot.json');
    await eventually(
      'the snapshot to hold the route and both endpoints',
      async () => {
        const text = existsSync(snapshotFile) ? readFileSync(snapshotFile, 'utf8') : '';
        return text.includes(host) && text.includes(`"port":${alpha.port}`) && text.includes(`"port":${beta.port}`) ? true : undefined;
      },
      10_000,
      100,
    );

    await control.close();
    control = undefined;
    const natsPid = nats.pid as number;
    await nats.kill('SIGKILL');
    expect(() => process.kill(natsPid, 0)).toThrow();
    await expect(get(nats.port, 'localhost')).rejects.toThrow();

    // Served on, by both endpoints, for several seconds of NATS reconnect attempts.
    const started = Date.now();
    while (Date.now() - started < 3_000) expect(await servesFrom(first, ['alpha', 'beta'], 10)).toEqual(new Set(['alpha', 'beta']));

    // A router that stops while NATS is down still ends, and one started then serves from the snapshot.
    expect(await first.stop()).toBe(true);
    const second = new RouterProcess({ home: isolation.home, natsUrl: nats.url, dbPrefix: isolation.dbPrefix });
    routers.push(second);
    await second.start();
    expect(await servesFrom(second, ['alpha', 'beta'], 10)).toEqual(new Set(['alpha', 'beta']));
    const restarted = Date.now();
    while (Date.now() - restarted < 3_000) await servesFrom(second, ['alpha', 'beta'], 10);
    // Its control plane is still waiting for NATS: the admin port does not answer.
    await expect(get(second.adminPort, 'localhost', '/readyz')).rejects.toThrow();

    // NATS back (same port and store): the same router takes updates again.
    await nats.start();
    await second.ready();
    control = await ControlClient.connect(nats.url);
    await until(
      async () => {
        await control?.endpoints(namespace, 'web', [beta]);
        return get(second.httpPort, host);
      },
      (a) => a.body === 'beta',
      'endpoints published after NATS came back',
    );
    expect(await servesFrom(second, ['beta'], 10)).toEqual(new Set(['beta']));
  });
});
