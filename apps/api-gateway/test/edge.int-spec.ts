import { ADMIN_USER } from '@paas/contracts/auth';
import { PLURALS } from '@paas/contracts/rpc';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { adminPassword } from '../src/users/admin-bootstrap';
import { startGateway } from './support';

type Gateway = Awaited<ReturnType<typeof startGateway>>;

const ALLOWED_ORIGIN = 'https://console.example.test';
const NAMESPACE = 'edge-fuzz';

/** Every path of the gateway that takes a body to create or change something. */
const WRITE_PATHS: [method: 'post' | 'put', path: string][] = [
  ['post', '/api/v1/namespaces'],
  ['put', `/api/v1/namespaces/${NAMESPACE}`],
  ...PLURALS.flatMap((plural): [('post' | 'put'), string][] => [
    ['post', `/api/v1/namespaces/${NAMESPACE}/${plural}`],
    ['put', `/api/v1/namespaces/${NAMESPACE}/${plural}/x`],
  ]),
  ['post', `/api/v1/namespaces/${NAMESPACE}/apps`],
  ['post', `/api/v1/namespaces/${NAMESPACE}/rolebindings`],
  ['put', `/api/v1/namespaces/${NAMESPACE}/rolebindings/x`],
  ['post', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`],
  ['post', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/x/tokens`],
  ['post', `/api/v1/namespaces/${NAMESPACE}/buildconfigs/x/instantiate`],
  ['put', `/api/v1/namespaces/${NAMESPACE}/deploymentconfigs/x/scale`],
  ['post', '/api/v1/users'],
  ['put', '/api/v1/users/~/password'],
  ['post', '/api/v1/tokens'],
];

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);
const manyKeys = (count: number) => `{${Array.from({ length: count }, (_, i) => `"k${i}":0`).join(',')}}`;

/** The malformed families: what is sent, as what, and the code the edge must answer (undefined: any 4xx). */
const FAMILIES: { name: string; body: string | Buffer; type?: string; code?: number }[] = [
  { name: 'a body over the limit', body: JSON.stringify({ metadata: { name: 'x' }, padding: 'x'.repeat(600 * 1024) }), type: 'application/json', code: 413 },
  { name: 'arrays nested 10,000 deep', body: `{"metadata":{"name":"x"},"spec":${nested(10_000)}}`, type: 'application/json', code: 400 },
  { name: 'objects nested 1,000 deep', body: `{"metadata":{"name":"x"},"spec":${nested(1000, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}')}}`, type: 'application/json', code: 400 },
  { name: 'nested just past the limit', body: `{"a":${nested(32)}}`, type: 'application/json', code: 400 },
  { name: '10,001 keys', body: manyKeys(10_001), type: 'application/json', code: 400 },
  { name: 'malformed JSON', body: '{"metadata":{"name":', type: 'application/json', code: 400 },
  { name: 'not UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), type: 'application/json' },
  { name: 'a __proto__ key', body: '{"__proto__":{"admin":true},"metadata":{"name":"x"}}', type: 'application/json', code: 400 },
  { name: 'an array', body: '[{"metadata":{"name":"x"}}]', type: 'application/json' },
  { name: 'a string', body: '"x"', type: 'application/json' },
  { name: 'a number', body: '1e999', type: 'application/json' },
  { name: 'JSON as text/plain', body: '{"metadata":{"name":"x"}}', type: 'text/plain', code: 415 },
  { name: 'a form', body: 'metadata%5Bname%5D=x', type: 'application/x-www-form-urlencoded', code: 415 },
  { name: 'multipart', body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', type: 'multipart/form-data; boundary=b', code: 415 },
  { name: 'YAML', body: 'metadata:\n  name: x\n', type: 'application/yaml', code: 415 },
  { name: 'a body without a Content-Type', body: '{"metadata":{"name":"x"}}', code: 415 },
];

/**
 * Malformed requests at every write path of an in-process gateway: each is answered at the
 * edge with a 4xx Kubernetes Status, none with a 5xx (no other service runs: what the edge
 * decides needs no owner). Also the security headers, CORS, and a too-large body sent by a
 * client that reads nothing before it has written everything.
 */
describe('api-gateway edge: malformed requests, headers, cross-origin calls', () => {
  let gateway: Gateway;
  let port: number;

  beforeAll(async () => {
    gateway = await startGateway('edge', { ownDatabase: true, env: { PAAS_CORS_ORIGINS: `${ALLOWED_ORIGIN}, https://other.example.test` } });
    port = (gateway.server.address() as AddressInfo).port;
  });
  afterAll(() => gateway?.close());

  it.each(FAMILIES.map((family) => [family.name, family] as const))('answers %s at every write path with a 4xx Status', async (_name, family) => {
    const answers: string[] = [];
    for (const [method, path] of WRITE_PATHS) {
      const call = gateway.admin[method](path);
      if (family.type) call.set('content-type', family.type);
      // As bytes: superagent would serialize a Buffer sent as JSON into {"type":"Buffer",...}.
      const res = await call.serialize((body: unknown) => body as string).send(family.body);
      const ok = res.status >= 400 && res.status < 500 && res.body?.kind === 'Status' && res.body.code === res.status && (family.code === undefined || res.status === family.code);
      if (!ok) answers.push(`${method.toUpperCase()} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    expect(answers).toEqual([]);
  });

  it('says what was wrong', async () => {
    const deep = await gateway.admin.post(`/api/v1/namespaces/${NAMESPACE}/routes`).set('content-type', 'application/json').send(nested(40));
    expect(deep.body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'the request body is refused: JSON nested more than 32 levels deep is not accepted' });
    const text = await gateway.admin.post(`/api/v1/namespaces/${NAMESPACE}/routes`).set('content-type', 'text/plain').send('{}');
    expect(text.body).toMatchObject({ code: 415, reason: 'UnsupportedMediaType', message: "the request body's Content-Type text/plain is not accepted: send application/json" });
    const withCharset = await gateway.admin.post('/api/v1/namespaces').set('content-type', 'application/json; charset=utf-8').send('{"metadata":{"name":"Bad_Name"}}');
    expect(withCharset.status).toBe(422);
    // A form posted where there is no route is a 404, as before (Docker's OAuth token POST falls back to GET on it).
    const noRoute = await gateway.anonymous.post('/auth/token').set('content-type', 'application/x-www-form-urlencoded').send('grant_type=password');
    expect(noRoute.status).toBe(404);
  });

  it('answers a 5 MB body with 413 to a client that writes all of it before reading, and keeps the connection', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'x');
    const head = `POST /api/v1/namespaces/${NAMESPACE}/routes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // reads nothing until the whole request is written, as http.client in Python does
    const writeError = await new Promise<Error | null | undefined>((resolve) => socket.write(Buffer.concat([Buffer.from(head), body]), resolve));
    expect(writeError ?? null).toBeNull();
    const first = await readAnswer(socket);
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
    expect(first).not.toMatch(/connection: close/i);
    // The same connection serves the next request: the refused body was read to its end.
    socket.write('GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await readAnswer(socket)).toMatch(/^HTTP\/1\.1 401 /);
    socket.destroy();
  });

  it('answers an oversized body announced with Expect: 100-continue before the client sends it', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /api/v1/namespaces/${NAMESPACE}/routes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${5 << 20}\r\nExpect: 100-continue\r\n\r\n`);
    const answer = await readAnswer(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    socket.destroy();
  });

  it("lets a Binary build's upload go on past the JSON limit, up to its own (PAAS_BINARY_MAX_BYTES, 100 MiB)", async () => {
    const announce = async (bytes: number) => {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const credentials = Buffer.from(`${ADMIN_USER}:${adminPassword()}`).toString('base64');
      socket.write(`POST /apis/build.openshift.io/v1/namespaces/${NAMESPACE}/buildconfigs/x/instantiatebinary HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${credentials}\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\nExpect: 100-continue\r\n\r\n`);
      const answer = await readAnswer(socket);
      socket.destroy();
      return answer;
    };
    expect(await announce(5 << 20)).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(await announce(101 << 20)).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('puts security headers on every answer', async () => {
    for (const res of [await gateway.admin.get('/api/v1/namespaces'), await gateway.anonymous.get('/api/v1/namespaces'), await gateway.admin.get('/api/v1/nothing-here'), await gateway.anonymous.get('/healthz')]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      expect(res.headers['strict-transport-security']).toBeUndefined(); // plain HTTP
    }
  });

  it('gives cross-origin allowances only to the origins listed', async () => {
    const preflight = (origin: string) =>
      gateway.anonymous.options('/api/v1/namespaces').set({ origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': ALLOWED_ORIGIN, 'access-control-allow-methods': 'GET, POST, PUT, DELETE', 'access-control-allow-headers': 'Authorization, Content-Type' });
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    const unlisted = await preflight('https://evil.example.test');
    expect(unlisted.status).toBe(403);
    expect(unlisted.body).toMatchObject({ kind: 'Status', code: 403, message: expect.stringContaining('PAAS_CORS_ORIGINS') });
    expect(Object.keys(unlisted.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);

    const read = await gateway.admin.get('/api/v1/namespaces').set('origin', ALLOWED_ORIGIN);
    expect([read.status, read.headers['access-control-allow-origin'], read.headers.vary]).toEqual([200, ALLOWED_ORIGIN, 'Origin']);
    const foreignRead = await gateway.admin.get('/api/v1/namespaces').set('origin', 'https://evil.example.test');
    expect(foreignRead.headers['access-control-allow-origin']).toBeUndefined();
    // A write a page can send without a preflight changes nothing.
    const foreignWrite = await gateway.admin.post('/api/v1/namespaces').set('origin', 'https://evil.example.test').send({ metadata: { name: 'edge-csrf' } });
    expect(foreignWrite.status).toBe(403);
    expect((await gateway.admin.get('/api/v1/namespaces/edge-csrf')).status).toBe(404);
    // The gateway's own pages (same origin) are not cross-origin.
    const own = await gateway.as(ADMIN_USER, adminPassword()).post('/api/v1/namespaces').set('origin', `http://127.0.0.1:${port}`).set('host', `127.0.0.1:${port}`).send({ metadata: { name: 'Bad_Name' } });
    expect(own.status).toBe(422);
  });
});

/** One HTTP answer from a raw socket (headers and a body of Content-Length bytes), as text. */
function readAnswer(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.pause();
      resolve(text.slice(0, end + 4 + length));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}
