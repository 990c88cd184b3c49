import type { Route } from '@paas/contracts/routes';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import { DataPlane } from '../src/data-plane/data-plane';
import type { RequestRecord } from '../src/data-plane/request-observer';
import { TlsFrontend } from '../src/data-plane/tls/tls-front';
import { RouterState } from '../src/table/router-state';
import { parseRouteSettings, type RouteSettings } from '../src/routes/route-settings';
import { selfSignedCertificate } from '../src/testing/certificates';
import { aRoute, anEndpoints } from '../src/testing/factories';

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

const certificatePair = ({ certificate, key }: { certificate: string; key: string }) => ({ cert: certificate, key });

/** GET / over TLS to the router's TLS port, with SNI `host`, trusting only `ca`. */
function httpsGet(port: number, host: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, servername: host, ca, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

/** A backend that answers its name, or echoes what the router sent (`/echo`), or answers slowly (`/slow`). */
async function backend(name: string) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url?.startsWith('/slow')) return void setTimeout(() => res.end(name), 1_000);
    if (req.url?.startsWith('/stream')) {
      res.write('first;');
      return void setTimeout(() => res.end('last'), 300);
    }
    if (req.url?.startsWith('/echo')) {
      res.setHeader('connection', 'keep-alive');
      res.setHeader('keep-alive', 'timeout=5');
      return void req.pipe(res);
    }
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { name, port, seen, server, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/**
 * The data plane's features through real sockets: a DataPlane over a RouterState whose
 * routes and endpoints the test sets, in front of real node:http backends. (The table's
 * feeds from NATS are tested in router.int-spec.ts.)
 */
describe('router data plane', () => {
  const settings = new Map<string, Partial<RouteSettings>>();
  const records: RequestRecord[] = [];
  const state = new RouterState(Date.now, (route) => ({ ...parseRouteSettings(route), ...settings.get(route.metadata.name) }));
  const dataPlane = new DataPlane(state, { tlsPort: () => 8443, observer: { observe: (record) => records.push(record) } });
  let port: number;
  let backends: Awaited<ReturnType<typeof backend>>[];
  const agent = new http.Agent({ keepAlive: true });

  const request = (host: string, options: { path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent | false } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: { host, ...options.headers }, agent: options.agent ?? agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  const routes: Route[] = [];
  const serve = (route: Route, routeSettings: Partial<RouteSettings> = {}) => {
    settings.set(route.metadata.name, routeSettings);
    routes.push(route);
    state.resyncRoutes([...routes], Date.now());
    return route.spec.host;
  };
  const endpointsOf = (service: string, ...ends: typeof backends) => state.applyEndpoints(anEndpoints(service, ends.map((b) => b.port), { generation: Date.now() }));
  const tally = (answers: Answer[]) => answers.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.body]: (acc[a.body] ?? 0) + 1 }), {});

  beforeAll(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => backend(name)));
    port = await dataPlane.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    agent.destroy();
    await dataPlane.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('shares traffic among weighted Services, weight 0 taking none', async () => {
    const host = serve(aRoute({ name: 'weighted', spec: { to: { kind: 'Service', name: 'v1', weight: 3 }, alternateBackends: [{ kind: 'Service', name: 'v2', weight: 1 }, { kind: 'Service', name: 'v3', weight: 0 }] } }), { stickyCookie: undefined });
    endpointsOf('v1', backends[0]);
    endpointsOf('v2', backends[1]);
    endpointsOf('v3', backends[2]);
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await request(host));
    expect(tally(answers)).toEqual({ a: 30, b: 10 });
  });

  it('pins a client to its endpoint, and so to one revision, by a cookie', async () => {
    const host = serve(aRoute({ name: 'sticky', spec: { to: { kind: 'Service', name: 'rev1', weight: 50 }, alternateBackends: [{ kind: 'Service', name: 'rev2', weight: 50 }] } }));
    endpointsOf('rev1', backends[0]);
    endpointsOf('rev2', backends[1]);
    const first = await request(host);
    const cookie = String(first.headers['set-cookie']?.[0]).split(';')[0];
    expect(cookie).toMatch(/^[0-9a-f]{16}=[0-9a-f]{16}$/);
    const pinned = await Promise.all(Array.from({ length: 10 }, () => request(host, { headers: { cookie: `other=1; ${cookie}` } })));
    expect(new Set(pinned.map((a) => a.body))).toEqual(new Set([first.body]));
    expect(pinned.every((a) => a.headers['set-cookie'] === undefined)).toBe(true);
    const unpinned = await Promise.all(Array.from({ length: 10 }, () => request(host)));
    expect(new Set(unpinned.map((a) => a.body))).toEqual(new Set(['a', 'b']));
  });

  it('balances leastconn to the idle endpoint and source by client address', async () => {
    const least = serve(aRoute({ name: 'least' }), { balance: 'leastconn', stickyCookie: undefined });
    endpointsOf('least', backends[0], backends[1]);
    const slow = request(least, { path: '/slow', agent: false });
    await sleep(50);
    const whileBusy = [];
    for (let i = 0; i < 4; i++) whileBusy.push(await request(least));
    const busy = (await slow).body;
    expect(whileBusy.every((a) => a.body !== busy)).toBe(true);

    const source = serve(aRoute({ name: 'source' }), { balance: 'source', stickyCookie: undefined });
    endpointsOf('source', backends[0], backends[1], backends[2]);
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(source)));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('answers 504 when the endpoint takes longer than the route timeout', async () => {
    const host = serve(aRoute({ name: 'hasty' }), { timeoutMs: 200, stickyCookie: undefined });
    endpointsOf('hasty', backends[0]);
    const answer = await request(host, { path: '/slow' });
    expect(answer.status).toBe(504);
    expect(answer.body).toContain('did not answer in time');
    expect(records.at(-1)).toMatchObject({ namespace: 'demo', route: 'hasty', status: 504, upstreamError: 'timeout' });
  });

  it('limits requests per client and per window, and requests in flight, with 429', async () => {
    const host = serve(aRoute({ name: 'limited' }), { rateLimit: { rateHttp: 5 }, stickyCookie: undefined });
    endpointsOf('limited', backends[0]);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await request(host)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);

    const concurrent = serve(aRoute({ name: 'concurrent' }), { rateLimit: { concurrentTcp: 1 }, stickyCookie: undefined });
    endpointsOf('concurrent', backends[1]);
    const slow = request(concurrent, { path: '/slow', agent: false });
    await sleep(50);
    expect((await request(concurrent)).status).toBe(429);
    expect((await slow).status).toBe(200);
    expect((await request(concurrent)).status).toBe(200);
  });

  it('lets only allowed addresses in, with 403 for the others', async () => {
    const closed = serve(aRoute({ name: 'closed' }), { ipAllowlist: (ip) => ip.startsWith('10.'), stickyCookie: undefined });
    const open = serve(aRoute({ name: 'open' }), { ipAllowlist: (ip) => ip === '127.0.0.1' || ip === '::ffff:127.0.0.1', stickyCookie: undefined });
    endpointsOf('closed', backends[0]);
    endpointsOf('open', backends[0]);
    expect((await request(closed)).status).toBe(403);
    expect((await request(open)).status).toBe(200);
  });

  it('answers plain HTTP to a TLS route by its insecure policy: 404, a redirect to https, or served', async () => {
    const none = serve(aRoute({ name: 'tls-none', spec: { tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'None' } } }));
    const redirect = serve(aRoute({ name: 'tls-redirect', spec: { tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' } } }));
    const allow = serve(aRoute({ name: 'tls-allow', spec: { tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Allow' } } }));
    for (const name of ['tls-none', 'tls-redirect', 'tls-allow']) endpointsOf(name, backends[0]);
    expect((await request(none)).status).toBe(404);
    const moved = await request(redirect, { path: '/cart?x=1' });
    expect([moved.status, moved.headers.location]).toEqual([302, `https://${redirect}:8443/cart?x=1`]);
    expect((await request(allow)).body).toBe('a');
  });

  it('streams bodies both ways, sets the forwarded headers and drops hop-by-hop ones', async () => {
    const host = serve(aRoute({ name: 'proxying' }), { stickyCookie: undefined });
    endpointsOf('proxying', backends[2]);
    const big = 'x'.repeat(3 * 1024 * 1024);
    const echoed = await request(host, { method: 'POST', path: '/echo', body: big, headers: { connection: 'keep-alive, x-private', 'x-private': 'secret', 'keep-alive': 'timeout=9', te: 'trailers' } });
    expect(echoed.body.length).toBe(big.length);
    expect([echoed.headers['keep-alive'], echoed.headers.connection]).not.toContain('timeout=5');
    const seen = backends[2].seen.at(-1) as http.IncomingHttpHeaders;
    expect(seen['x-private']).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen).toMatchObject({ host, 'x-forwarded-host': host, 'x-forwarded-proto': 'http', 'x-forwarded-port': String(port) });
    expect(seen['x-forwarded-for']).toMatch(/127\.0\.0\.1$/);
    expect(seen.forwarded).toMatch(/for=.*127\.0\.0\.1.*;host=.*;proto=http/);

    const started = Date.now();
    const firstChunkAt = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/stream', headers: { host } }, (res) => res.once('data', () => (resolve(Date.now() - started), res.resume()))).on('error', reject);
    });
    expect(firstChunkAt).toBeLessThan(250);
  });

  it('tunnels a WebSocket to the endpoint and echoes through it', async () => {
    const echo = http.createServer();
    const wss = new WebSocketServer({ server: echo });
    wss.on('connection', (socket, req) => socket.on('message', (data) => socket.send(`echo:${data.toString()} via ${req.headers['x-forwarded-for']}`)));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const host = serve(aRoute({ name: 'live' }));
    state.applyEndpoints(anEndpoints('live', [(echo.address() as AddressInfo).port], { generation: Date.now() }));

    const client = new WebSocket(`ws://127.0.0.1:${port}/socket`, { headers: { host } });
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(data.toString())));
    client.send('hello');
    expect(await reply).toMatch(/^echo:hello via .*127\.0\.0\.1$/);
    client.close();
    wss.close();
    echo.close();

    const refused = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'unknown.apps.localhost' } });
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).once('error', () => resolve(-1)));
    expect(status).toBe(404);
  });

  it('terminates TLS with the route certificate chosen by SNI, sends HSTS and a Secure cookie, and passes TLS through untouched', async () => {
    const front = new TlsFrontend({ routes: () => state.table, onDecrypted: (socket) => dataPlane.acceptTlsConnection(socket), defaultCertificate: certificatePair(selfSignedCertificate(['default.invalid'])) });
    const tlsPort = await front.listen(0, '127.0.0.1');
    try {
      const edgeCert = selfSignedCertificate(['shop.example.test']);
      const edge = serve(aRoute({ name: 'shop', host: 'shop.example.test', spec: { tls: { termination: 'edge', certificate: edgeCert.certificate, key: edgeCert.key, insecureEdgeTerminationPolicy: 'Redirect' } } }), { hsts: 'max-age=31536000' });
      endpointsOf('shop', backends[2]);
      const answer = await httpsGet(tlsPort, edge, edgeCert.certificate);
      expect([answer.status, answer.body, answer.headers['strict-transport-security']]).toEqual([200, 'c', 'max-age=31536000']);
      expect(String(answer.headers['set-cookie'])).toContain('; Secure');
      expect(backends[2].seen.at(-1)).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-port': String(tlsPort) });
      expect(records.at(-1)).toMatchObject({ route: 'shop', tls: true, status: 200 });

      const backendCert = selfSignedCertificate(['vault.example.test']);
      const vault = https.createServer(certificatePair(backendCert), (_req, res) => res.end('from the pod itself'));
      await new Promise<void>((resolve) => vault.listen(0, '127.0.0.1', resolve));
      const passthrough = serve(aRoute({ name: 'vault', host: 'vault.example.test', spec: { tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } } }));
      state.applyEndpoints(anEndpoints('vault', [(vault.address() as AddressInfo).port], { generation: Date.now() }));
      // Trusting only the pod's certificate: the handshake succeeds only if the router did not terminate.
      expect((await httpsGet(tlsPort, passthrough, backendCert.certificate)).body).toBe('from the pod itself');
      vault.close();
    } finally {
      await front.close();
    }
  });

  it('reports every finished request to its observer', async () => {
    const count = records.length;
    await request('nobody.apps.localhost');
    expect(records.length).toBe(count + 1);
    expect(records.at(-1)).toMatchObject({ namespace: '', route: '', status: 404, tls: false, clientIp: expect.stringMatching(/127\.0\.0\.1/) });
  });
});
