import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseExposition, sampleValue } from '../src/testing/prometheus-text';
import { ControlClient, get, RouterHarness, RouterProcess, until, type Backend } from './support/router-processes';

/** A backend that holds each answer for `delayMs`. */
async function slowBackend(delayMs: number): Promise<Backend> {
  const server = http.createServer((req, res) => void setTimeout(() => res.end('slow'), delayMs));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { name: 'slow', port, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/**
 * A router process as deployed: its data plane reports to the metrics served on the admin
 * port (`GET /metrics`) and, with ROUTER_ACCESS_LOG=json, to the access log file.
 */
describe('router process metrics on the admin port and access log', () => {
  const harness = new RouterHarness();
  const namespace = 'observed';
  const host = `web-${namespace}.apps.localhost`;
  const accessLogFile = path.join(harness.isolation.home, 'access.log');
  let router: RouterProcess;
  let control: ControlClient;
  let slow: Backend;

  beforeAll(async () => {
    slow = await slowBackend(1_500);
    ({ router, control } = await harness.start({ ROUTER_ACCESS_LOG: 'json', ROUTER_ACCESS_LOG_FILE: accessLogFile }));
  });

  afterAll(async () => {
    await harness.stop();
    await slow?.close();
  });

  it('counts the requests of a route, shows them in flight, and logs each as one JSON line', async () => {
    await control.rpc.request('routes.create', { namespace, body: { metadata: { name: 'web' }, spec: { to: { name: 'web' } } } });
    await until(
      async () => {
        await control.endpoints(namespace, 'web', [slow]);
        return get(router.httpPort, host);
      },
      (a) => a.status === 200,
      'the route to serve',
    );
    const scrape = async () => {
      const answer = await get(router.adminPort, 'localhost', '/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parseExposition(answer.body);
    };
    const labels = { namespace, route: 'web' };
    const fast = (families: Awaited<ReturnType<typeof scrape>>) => sampleValue(families, 'router_request_duration_seconds', 'router_request_duration_seconds_bucket', { ...labels, le: '1' }) ?? 0;
    const start = await scrape();
    const before = sampleValue(start, 'router_requests_total', 'router_requests_total', { ...labels, code: '2xx' }) ?? 0;
    // A 503 answered at once while the route waited for its endpoints counts as fast too.
    const fastBefore = fast(start);

    const inFlight = Promise.all([get(router.httpPort, host), get(router.httpPort, host), get(router.httpPort, host)]);
    await sleep(500);
    expect(sampleValue(await scrape(), 'router_requests_in_flight', 'router_requests_in_flight', labels)).toBe(3);
    expect((await inFlight).map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await get(router.httpPort, `nobody-${namespace}.apps.localhost`)).status).toBe(404);

    const families = await scrape();
    expect(sampleValue(families, 'router_requests_in_flight', 'router_requests_in_flight', labels)).toBe(0);
    expect(sampleValue(families, 'router_requests_total', 'router_requests_total', { ...labels, code: '2xx' })).toBe(before + 3);
    expect(fast(families)).toBe(fastBefore);
    expect(sampleValue(families, 'router_requests_total', 'router_requests_total', { namespace: '', route: '', code: '4xx' })).toBeGreaterThanOrEqual(1);

    // The access log is batched: lines appear within its 100 ms flush.
    await sleep(300);
    const lines = readFileSync(accessLogFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const served = lines.filter((l) => l.host === host && l.status === 200);
    expect(served.length).toBe(before + 3);
    expect(served[served.length - 1]).toMatchObject({ context: 'access', namespace, route: 'web', method: 'GET', path: '/', upstream: `127.0.0.1:${slow.port}`, clientIp: '127.0.0.1', tls: false });
    expect(served[served.length - 1].durationUs).toBeGreaterThanOrEqual(1_400_000);
    expect(lines.some((l) => l.host === `nobody-${namespace}.apps.localhost` && l.status === 404 && l.route === '')).toBe(true);
  });
});
