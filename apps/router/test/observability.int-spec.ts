import { NestFactory } from '@nestjs/core';
import { ROUTE_ANNOTATIONS } from '@paas/contracts/routes';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { eventually, freePort } from '@paas/platform/testing';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataPlane } from '../src/data-plane/data-plane';
import { openAccessLog, type AccessLog } from '../src/observability/access-log';
import { ObservabilityModule } from '../src/observability/observability.module';
import { RouterMetrics } from '../src/observability/router-metrics';
import { CompositeObserver } from '../src/observability/router-observers';
import { RouterState } from '../src/table/router-state';
import { aRoute, anEndpoints } from '../src/testing/factories';
import { parseExposition, sampleValue } from '../src/testing/prometheus-text';
import { backend, get, type Backend } from './support/router-processes';

/** A backend that answers after `delayMs`. */
async function slowBackend(delayMs: number): Promise<Backend & { server: http.Server }> {
  const server = http.createServer((req, res) => void setTimeout(() => res.end('slow'), delayMs));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name: 'slow',
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * The data plane's requests as Prometheus and the access log see them: a real DataPlane
 * reporting to the metrics and a JSON access log (to a file), the metrics served by the
 * ObservabilityModule on a NestJS Fastify app (as on the admin port), all over real sockets.
 */
describe('router metrics and access log through real sockets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'router-observability-'));
  const accessLogFile = path.join(dir, 'access.log');
  const metrics = new RouterMetrics();
  let accessLog: AccessLog;
  let dataPlane: DataPlane;
  let admin: NestFastifyApplication;
  let port: number;
  let adminPort: number;
  let web: Backend;
  let slow: Backend;
  let deadPort: number;

  beforeAll(async () => {
    accessLog = openAccessLog({ file: accessLogFile });
    web = await backend('web');
    slow = await slowBackend(3_000);
    const dead = await backend('dead');
    deadPort = dead.port;
    await dead.close();

    const state = new RouterState();
    const slowRoute = aRoute({ name: 'slow', annotations: { [ROUTE_ANNOTATIONS.timeout]: '200ms' } });
    state.resyncRoutes([aRoute({ name: 'web' }), aRoute({ name: 'broken' }), slowRoute], Date.now());
    state.applyEndpoints(anEndpoints('web', [web.port]));
    state.applyEndpoints(anEndpoints('broken', [deadPort]));
    state.applyEndpoints(anEndpoints('slow', [slow.port]));
    dataPlane = new DataPlane(state, { observer: new CompositeObserver([metrics, accessLog]) });
    port = await dataPlane.listen(0, '127.0.0.1');

    admin = await NestFactory.create<NestFastifyApplication>(ObservabilityModule.forRoot(metrics), new FastifyAdapter(), { logger: false });
    await admin.listen(0, '127.0.0.1');
    adminPort = (admin.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await admin?.close();
    await dataPlane?.close();
    await accessLog?.close();
    await Promise.all([web?.close(), slow?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts each route by status class, with latency, upstream errors by kind, and unmatched requests apart', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(port, 'web-demo.apps.localhost', `/page/${i}`)).status);
    for (let i = 0; i < 3; i++) statuses.push((await get(port, 'nobody.apps.localhost')).status);
    for (let i = 0; i < 2; i++) statuses.push((await get(port, 'broken-demo.apps.localhost')).status);
    statuses.push((await get(port, 'slow-demo.apps.localhost')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 404, 404, 404, 502, 502, 504]);

    const scrape = await get(adminPort, 'localhost', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(scrape.body);
    const requests = (namespace: string, route: string, code: string) => sampleValue(families, 'router_requests_total', 'router_requests_total', { namespace, route, code });
    const errors = (route: string, kind: string) => sampleValue(families, 'router_upstream_errors_total', 'router_upstream_errors_total', { namespace: 'demo', route, kind });
    const duration = (route: string, suffix: string, le?: string) =>
      sampleValue(families, 'router_request_duration_seconds', `router_request_duration_seconds${suffix}`, { namespace: 'demo', route, ...(le ? { le } : {}) });

    expect(requests('demo', 'web', '2xx')).toBe(6);
    expect(requests('demo', 'web', '5xx')).toBe(0);
    expect(requests('', '', '4xx')).toBe(3);
    expect(requests('demo', 'broken', '5xx')).toBe(2);
    expect(requests('demo', 'slow', '5xx')).toBe(1);
    expect(errors('broken', 'connect_refused')).toBe(2);
    expect(errors('slow', 'timeout')).toBe(1);
    expect(errors('web', 'connect_refused')).toBe(0);
    expect(duration('web', '_count')).toBe(6);
    expect(duration('web', '_bucket', '+Inf')).toBe(6);
    // The slow route timed out after 200 ms (undici's timers are coarse: up to a second more).
    expect(duration('slow', '_bucket', '0.1')).toBe(0);
    expect(duration('slow', '_bucket', '2.5')).toBe(1);
    expect(duration('slow', '_sum')).toBeGreaterThanOrEqual(0.19);

    await accessLog.writer.drain();
    const lines = readFileSync(accessLogFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.status)).toEqual(statuses);
    expect(lines[0]).toMatchObject({ context: 'access', namespace: 'demo', route: 'web', method: 'GET', host: 'web-demo.apps.localhost', path: '/page/0', upstream: `127.0.0.1:${web.port}`, clientIp: '127.0.0.1', tls: false });
    expect(lines[6]).toMatchObject({ namespace: '', route: '', host: 'nobody.apps.localhost', status: 404 });
    expect(lines[9]).toMatchObject({ route: 'broken', upstream: `127.0.0.1:${deadPort}`, upstreamError: 'ECONNREFUSED' });
    expect(lines[11]).toMatchObject({ route: 'slow', upstreamError: 'timeout' });
    expect(lines[11].durationUs).toBeGreaterThanOrEqual(190_000);
  });

  it('is scraped by a real Prometheus server (Debian prometheus 2.42), which answers queries per route', async () => {
    const home = path.join(dir, 'prometheus');
    mkdirSync(home);
    const config = path.join(home, 'prometheus.yml');
    writeFileSync(
      config,
      ['global: { scrape_interval: 1s, scrape_timeout: 1s }', 'scrape_configs:', '  - job_name: router', `    static_configs: [{ targets: ['127.0.0.1:${adminPort}'] }]`, ''].join('\n'),
    );
    const apiPort = await freePort();
    const log = openSync(path.join(home, 'prometheus.log'), 'a');
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(home, 'data')}`, `--web.listen-address=127.0.0.1:${apiPort}`, '--storage.tsdb.retention.time=1h'],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const api = async (query: string) => JSON.parse((await get(apiPort, `127.0.0.1:${apiPort}`, `/api/v1/${query}`)).body);
    const instant = async (expression: string) => {
      const answer = await api(`query?query=${encodeURIComponent(expression)}`);
      if (answer.status !== 'success') throw new Error(JSON.stringify(answer));
      return answer.data.result.map((r: { metric: Record<string, string>; value: [number, string] }) => Number(r.value[1]));
    };
    try {
      const target = await eventually(
        'Prometheus to scrape the router',
        async () => {
          const targets = await api('targets');
          const found = targets.data?.activeTargets?.[0];
          return found?.health === 'up' ? found : undefined;
        },
        20_000,
        200,
      );
      expect(target.lastError).toBe('');
      expect(await instant('router_requests_total{namespace="demo",route="web",code="2xx"}')).toEqual([6]);
      expect(await instant('router_requests_total{namespace="",route="",code="4xx"}')).toEqual([3]);
      expect(await instant('sum by (kind) (router_upstream_errors_total{kind="connect_refused"})')).toEqual([2]);
      // The histogram is one Prometheus understands: the slow route's median falls between the 0.1 s and 2.5 s bounds.
      const [median] = await instant('histogram_quantile(0.5, router_request_duration_seconds_bucket{namespace="demo",route="slow"})');
      expect(median).toBeGreaterThan(0.1);
      expect(median).toBeLessThanOrEqual(2.5);
    } finally {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      if (prometheus.pid && prometheus.exitCode === null) process.kill(prometheus.pid, 'SIGTERM');
      await exited;
    }
  });

  // Fastify runs onResponse only when a response finishes or errors, not when the client went
  // away first: the data plane's onRequestAbort reports such a request (as 499).
  it('counts a request the client gave up on before the answer', async () => {
    const before = sampleValue(parseExposition((await get(adminPort, 'localhost', '/metrics')).body), 'router_request_duration_seconds', 'router_request_duration_seconds_count', {
      namespace: 'demo',
      route: 'slow',
    });
    await expect(get(port, 'slow-demo.apps.localhost', '/', false, 50)).rejects.toThrow('no answer');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = sampleValue(parseExposition((await get(adminPort, 'localhost', '/metrics')).body), 'router_request_duration_seconds', 'router_request_duration_seconds_count', {
      namespace: 'demo',
      route: 'slow',
    });
    expect(after).toBe((before ?? 0) + 1);
  });
});
