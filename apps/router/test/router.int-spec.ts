import { getConnectionToken } from '@nestjs/mongoose';
import { dropIsolatedBus, eventually, isolateBus } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { Route } from '@paas/contracts/routes';
import { EventBus } from '@paas/platform/events';
import { RpcClient } from '@paas/platform/rpc';
import type { Connection } from 'mongoose';
import { connect } from 'nats';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRouter, type StartedRouter } from '../src/bootstrap';
import { loadRouterConfig } from '../src/config';

const REPO = path.resolve(__dirname, '../../..');

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request to 127.0.0.1 with a Host header (`*.localhost` does not resolve in Node here). */
function get(port: number, host: string, urlPath = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `check` accepts an answer (events and RPC replies are asynchronous); returns it. */
function until(ask: () => Promise<Answer>, check: (answer: Answer) => boolean, what: string): Promise<Answer> {
  return eventually(
    what,
    async () => {
      const answer = await ask();
      if (!check(answer)) throw new Error(`last answer: ${JSON.stringify(answer)}`);
      return answer;
    },
    20_000,
    100,
  );
}

/** A tiny application that answers its own name and echoes what the router told it. */
async function backend(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('x-seen-host', req.headers.host ?? '');
    res.setHeader('x-seen-forwarded-for', String(req.headers['x-forwarded-for'] ?? ''));
    res.setHeader('x-seen-forwarded', String(req.headers.forwarded ?? ''));
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A NATS server of the test's own on `port`, with or without JetStream; stopped by `stop`. */
async function natsServer(port: number, jetStreamDir?: string): Promise<{ stop: () => Promise<void> }> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...(jetStreamDir ? ['-js', '-sd', jetStreamDir] : [])], { stdio: 'ignore' });
  await eventually(`nats-server on ${port}`, async () => {
    const probe = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false });
    await probe.close();
    return true;
  }, 10_000, 100);
  return {
    stop: async () => {
      if (server.exitCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    },
  };
}

/** The router keeps answering 200 from its table for `ms` (no exit, no closed data plane). */
async function keepsServing(port: number, host: string, ms: number, process: ChildProcess) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    expect((await get(port, host)).status).toBe(200);
    expect(process.exitCode).toBeNull();
    await sleep(250);
  }
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const admitted = (route: Route) => route.status.ingress[0]?.conditions.find((c) => c.type === 'Admitted');

describe('router against real NATS, the Mongo-compatible server and real sockets', () => {
  const suffix = randomUUID().slice(0, 8);
  const namespace = `rt-${suffix}`;
  const otherNamespace = `rt-other-${suffix}`;
  const home = mkdtempSync(path.join(tmpdir(), 'router-int-'));
  const host = `web-${namespace}.apps.localhost`;
  let router: StartedRouter;
  let rpc: RpcClient;
  let bus: EventBus;
  let dataPort: number;
  const backends: Record<string, Awaited<ReturnType<typeof backend>>> = {};
  let child: ChildProcess | undefined;
  let ownNats: { stop: () => Promise<void> } | undefined;

  const endpoints = (generation: number, names: string[]) =>
    bus.publish('endpoints.changed', {
      namespace,
      name: 'web',
      generation,
      addresses: names.map((name) => ({ ip: '127.0.0.1', port: backends[name].port, pod: name })),
    });

  beforeAll(async () => {
    isolateBus('router');
    // Its own database: the router's resync re-admits every route it lists.
    process.env.PAAS_DB_PREFIX = `test_router_${suffix}`;
    backends.alpha = await backend('alpha');
    backends.beta = await backend('beta');
    const config = loadRouterConfig({ ...process.env, PAAS_HOME: home, ROUTER_HTTP_PORT: '0', ROUTER_TLS_PORT: '0', PORT: '0', ROUTER_RESYNC_SECONDS: '3600' });
    router = await startRouter({ config, logger: false });
    rpc = router.app.get(RpcClient);
    bus = router.app.get(EventBus);
    dataPort = router.runtime.httpPort;
  });

  afterAll(async () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
    await ownNats?.stop();
    await router?.app.get<Connection>(getConnectionToken()).dropDatabase();
    if (router) await dropIsolatedBus(router.app.get(NATS_CONNECTION));
    await router?.app.close();
    await Promise.all(Object.values(backends).map((b) => b.close()));
    rmSync(home, { recursive: true, force: true });
  });

  it('creates Routes over RPC: default host, admitted, dry runs store nothing, bad input is a 422 naming the field', async () => {
    const dry = await rpc.request('routes.create', { namespace, dryRun: true, body: { metadata: { name: 'web' }, spec: { to: { name: 'web' } } } });
    expect(dry.spec.host).toBe(host);
    await expect(rpc.request('routes.get', { namespace, name: 'web' })).rejects.toMatchObject({ status: { code: 404 } });

    const created = await rpc.request('routes.create', { namespace, body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { to: { name: 'web' } } } });
    expect(created.spec).toMatchObject({ host, path: '/', to: { kind: 'Service', name: 'web' } });
    expect(admitted(created)).toMatchObject({ status: 'True' });
    expect((await rpc.request('routes.list', { namespace, labelSelector: 'app=web' })).items.map((r) => r.metadata.name)).toEqual(['web']);

    await expect(rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { to: { name: 'web' } } } })).rejects.toMatchObject({
      status: { code: 409, reason: 'AlreadyExists' },
    });
    const invalid = rpc.request('routes.create', { namespace, body: { metadata: { name: 'Bad_Name' }, spec: { path: 'no-slash', to: { name: 'web' } } } });
    await expect(invalid).rejects.toMatchObject({ status: { code: 422, reason: 'Invalid' } });
    const causes = await invalid.catch((error) => error.status.details.causes.map((c: { field: string }) => c.field));
    expect(causes).toEqual(expect.arrayContaining(['metadata.name', 'spec.path']));
  });

  it('stores but does not admit a route claiming a host+path another namespace owns, and admits it once the owner is gone', async () => {
    await rpc.request('routes.create', { namespace, body: { metadata: { name: 'owner' }, spec: { host: `shared-${suffix}.apps.localhost`, to: { name: 'web' } } } });
    const intruder = await rpc.request('routes.create', {
      namespace: otherNamespace,
      body: { metadata: { name: 'intruder' }, spec: { host: `shared-${suffix}.apps.localhost`, to: { name: 'web' } } },
    });
    expect(admitted(intruder)).toMatchObject({ status: 'False', reason: 'HostAlreadyClaimed' });
    expect(admitted(intruder)?.message).toContain(`owner in namespace ${namespace}`);

    await rpc.request('routes.delete', { namespace, name: 'owner' });
    const promoted = await rpc.request('routes.get', { namespace: otherNamespace, name: 'intruder' });
    expect(admitted(promoted)).toMatchObject({ status: 'True' });
  });

  it('proxies by Host to the ready endpoints, alternating between them, with forwarded headers', async () => {
    await endpoints(1, ['alpha', 'beta']);
    await until(() => get(dataPort, host), (a) => a.status === 200, 'the route to serve');
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get(dataPort, host)).body);
    expect(new Set(bodies)).toEqual(new Set(['alpha', 'beta']));
    expect(bodies[0]).not.toBe(bodies[1]);
    expect(bodies[2]).toBe(bodies[0]);
    expect(bodies[3]).toBe(bodies[1]);

    const answer = await get(dataPort, `${host}:${dataPort}`, '/some/path?x=1');
    expect(answer.headers['x-seen-host']).toBe(`${host}:${dataPort}`);
    expect(answer.headers['x-seen-forwarded-for']).toBe('127.0.0.1');
    expect(answer.headers['x-seen-forwarded']).toContain('for=127.0.0.1');
  });

  it('answers an unknown host with 404 and a short page naming it', async () => {
    const answer = await get(dataPort, `nobody-${suffix}.apps.localhost`);
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toContain('text/html');
    expect(answer.body).toContain(`No route for host nobody-${suffix}.apps.localhost`);
  });

  it('ignores stale endpoint updates and answers 503 when the Service has no ready endpoint', async () => {
    await endpoints(2, []);
    const unavailable = await until(() => get(dataPort, host), (a) => a.status === 503, 'the emptied endpoints');
    expect(unavailable.body).toContain('no ready endpoints for service web');

    await endpoints(3, ['beta']);
    await until(() => get(dataPort, host), (a) => a.status === 200, 'endpoints generation 3');
    await endpoints(1, ['alpha']);
    // Events of one type arrive in order: once a later marker is applied, the stale update was seen.
    await bus.publish('endpoints.changed', { namespace, name: 'marker', generation: 1, addresses: [] });
    const deadline = Date.now() + 20_000;
    while (router.runtime.state.endpointsGeneration(namespace, 'marker') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(router.runtime.state.endpointsGeneration(namespace, 'marker')).toBe(1);
    expect(router.runtime.state.endpointsGeneration(namespace, 'web')).toBe(3);
    expect([(await get(dataPort, host)).body, (await get(dataPort, host)).body]).toEqual(['beta', 'beta']);
  });

  it('retries a request an endpoint refused on another one and leaves the refusing one out; 502 when none is left', async () => {
    const dead = await backend('dead');
    await dead.close();
    backends.dead = { port: dead.port, close: async () => undefined };
    await endpoints(4, ['alpha', 'dead']);
    await until(() => get(dataPort, host), () => router.runtime.state.endpointsGeneration(namespace, 'web') === 4, 'endpoints generation 4');
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(dataPort, host)));
    expect(answers.map((a) => [a.status, a.body])).toEqual(Array(6).fill([200, 'alpha']));
    const deadEndpoint = router.runtime.state.table.match(host, '/')?.balancer.endpoints.find((w) => w.endpoint.port === dead.port)?.endpoint;
    expect(deadEndpoint?.healthy(Date.now())).toBe(false);

    await endpoints(5, ['dead']);
    await until(() => get(dataPort, host), (a) => a.status === 502, 'a route whose only endpoint refuses to answer 502');
  });

  it('writes a snapshot that a fresh router started without NATS serves from, and keeps serving until it can subscribe', async () => {
    await endpoints(6, ['alpha']);
    await until(() => get(dataPort, host), () => router.runtime.state.endpointsGeneration(namespace, 'web') === 6, 'endpoints generation 6');
    await router.runtime.snapshots.flush();
    const snapshotFile = path.join(home, 'data', 'router', 'snapshot.json');
    expect(existsSync(snapshotFile)).toBe(true);
    expect(readFileSync(snapshotFile, 'utf8')).toContain(host);

    execFileSync(path.join(REPO, 'node_modules/.bin/tsc'), ['-b', 'apps/router/tsconfig.app.json'], { cwd: REPO });
    const [port, adminPort, closedNatsPort] = [await freePort(), await freePort(), await freePort()];
    child = spawn(process.execPath, [path.join(REPO, 'apps/router/dist/main.js')], {
      env: { ...process.env, PAAS_HOME: home, ROUTER_HTTP_PORT: String(port), ROUTER_TLS_PORT: '0', PORT: String(adminPort), NATS_URL: `nats://127.0.0.1:${closedNatsPort}`, ZIPKIN_URL: '' },
      stdio: 'ignore',
    });
    const answer = await until(() => get(port, host), (a) => a.status === 200, 'the fresh router to serve');
    expect(answer.body).toBe('alpha');
    await keepsServing(port, host, 3_000, child);
    // Its control plane is not up: the admin port does not answer, so it is not ready.
    await expect(get(adminPort, 'localhost', '/readyz')).rejects.toThrow();

    // NATS without JetStream: the control plane starts but the table feeds cannot subscribe.
    ownNats = await natsServer(closedNatsPort);
    await until(() => get(adminPort, 'localhost', '/readyz').catch(() => ({ status: 0, body: '', headers: {} })), (a) => a.status === 200, 'the admin port to answer');
    await keepsServing(port, host, 3_000, child);

    // JetStream back: the feeds subscribe in the background and the table takes updates again.
    await ownNats.stop();
    const jetStreamDir = mkdtempSync(path.join(tmpdir(), 'router-int-js-'));
    ownNats = await natsServer(closedNatsPort, jetStreamDir);
    const ownBus = await connect({ servers: `nats://127.0.0.1:${closedNatsPort}` });
    try {
      const publisher = new EventBus(ownBus, 'router-int-test');
      let generation = 100;
      const addresses = [{ ip: '127.0.0.1', port: backends.beta.port, pod: 'beta' }];
      // The router's per-replica consumer takes events from the moment it exists: publish until one is seen.
      await until(
        async () => {
          await publisher.publish('endpoints.changed', { namespace, name: 'web', generation: generation++, addresses }).catch(() => undefined);
          return get(port, host);
        },
        (a) => a.body === 'beta',
        'the fresh router to apply endpoints from the new JetStream',
      );
      expect(child.exitCode).toBeNull();
    } finally {
      await ownBus.close();
      rmSync(jetStreamDir, { recursive: true, force: true });
    }
  });
});
