import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createTestPki, type TestCertificate, type TestPki } from '../../testing/test-pki';
import { loadDefaultCertificate, type CertificatePair } from './default-certificate';
import { TlsFrontend } from './tls-front';
import type { TlsBackend, TlsRoute, TlsRouteLookup } from './tls-route-lookup';

const DOMAIN = 'apps.test';
const HELLO_TIMEOUT_MS = 300;

/** The route table as the front sees it: host → route, replaceable between connections. */
class FakeTable implements TlsRouteLookup {
  readonly routes = new Map<string, TlsRoute>();
  tlsRoute(sni: string): TlsRoute | undefined {
    return this.routes.get(sni);
  }
}

function edge(name: string, certificate?: TestCertificate): TlsRoute {
  return { termination: 'edge', certificate: certificate?.cert, key: certificate?.key, namespace: 'demo', name, pickBackend: () => undefined };
}

/** A passthrough route whose endpoints are taken in turn; `clients` records who asked. */
function passthrough(name: string, backends: TlsBackend[], clients: string[] = []): TlsRoute {
  let next = 0;
  return {
    termination: 'passthrough',
    namespace: 'demo',
    name,
    pickBackend: (clientIp) => {
      clients.push(clientIp);
      return backends.length === 0 ? undefined : backends[next++ % backends.length];
    },
  };
}

interface Answer {
  status: number;
  body: string;
  subject: string;
  altNames: string;
  issuer: string;
  alpn: string | false;
}

/** One HTTPS request to 127.0.0.1 with the given SNI, trusting only `ca`. */
function get(port: number, servername: string | undefined, ca: string): Promise<Answer> {
  const options: https.RequestOptions & tls.ConnectionOptions = {
    host: '127.0.0.1',
    port,
    servername,
    ca,
    agent: false,
    ALPNProtocols: ['http/1.1'],
    path: '/hello',
    headers: { host: servername ?? 'no-sni' },
    // Without a name there is nothing to check the certificate's names against.
    ...(servername ? {} : { checkServerIdentity: () => undefined }),
  };
  return new Promise((resolve, reject) => {
    const request = https.request(options, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const peer = socket.getPeerCertificate();
      const answer = { status: res.statusCode ?? 0, subject: peer.subject.CN, altNames: peer.subjectaltname ?? '', issuer: peer.issuer.CN, alpn: socket.alpnProtocol ?? false };
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ ...answer, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** A TLS connection that is only resolved once the handshake is done. */
function connectTls(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
}

/** Writes `bytes` (if any) on a plain TCP connection and waits for the server to close it. */
function closedAfter(port: number, bytes?: Buffer): Promise<{ received: Buffer; elapsedMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => bytes && socket.write(bytes));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), elapsedMs: Date.now() - started }));
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** A TLS server of its own with its own certificate, echoing what it receives; it remembers the SNI it was asked for. */
async function echoBackend(certificate: TestCertificate): Promise<{ port: number; serverNames: string[]; close: () => Promise<void> }> {
  const serverNames: string[] = [];
  const SNICallback = (name: string, done: (error: null, context: undefined) => void): void => {
    serverNames.push(name);
    done(null, undefined);
  };
  const server = tls.createServer({ ...certificate, SNICallback }, (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, serverNames, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('TlsFrontend', () => {
  let pki: TestPki;
  let home: string;
  let defaultCertificate: CertificatePair;
  let shopCert: TestCertificate;
  let blogCert: TestCertificate;
  let backend: Awaited<ReturnType<typeof echoBackend>>;
  let table: FakeTable;
  let warnings: string[];
  let app: http.Server;
  let front: TlsFrontend;
  let port: number;

  beforeAll(async () => {
    pki = createTestPki();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'router-tls-'));
    defaultCertificate = await loadDefaultCertificate({ dir: home, domain: DOMAIN });
    shopCert = pki.issue(['shop.apps.test']);
    blogCert = pki.issue(['blog.example.com', 'www.blog.example.com']);
    backend = await echoBackend(pki.issue(['secure.apps.test'], 'passthrough backend'));
    // What the data plane does with a decrypted socket: one HTTP server serves it.
    app = http.createServer((req, res) => {
      const socket = req.socket as tls.TLSSocket;
      res.end(`served ${req.headers.host}${req.url} over ${socket.alpnProtocol} to ${socket.remoteAddress} (encrypted: ${socket.encrypted})`);
    });
    warnings = [];
    table = new FakeTable();
    front = new TlsFrontend({
      routes: () => table,
      onDecrypted: (socket) => app.emit('connection', socket),
      defaultCertificate,
      helloTimeoutMs: HELLO_TIMEOUT_MS,
      warn: (message) => warnings.push(message),
    });
    port = await front.listen(0, '127.0.0.1');
  });

  beforeEach(() => {
    table.routes.clear();
    warnings.length = 0;
  });

  afterAll(async () => {
    await front.close();
    app.closeAllConnections();
    await backend.close();
    pki.remove();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("presents an edge route's certificate chosen by SNI and hands the decrypted request on", async () => {
    table.routes.set('shop.apps.test', edge('shop', shopCert));
    table.routes.set('blog.example.com', edge('blog', blogCert));
    const shop = await get(port, 'shop.apps.test', pki.ca);
    expect(shop).toEqual({
      status: 200,
      body: 'served shop.apps.test/hello over http/1.1 to 127.0.0.1 (encrypted: true)',
      subject: 'shop.apps.test',
      altNames: 'DNS:shop.apps.test',
      issuer: 'Router Test CA',
      alpn: 'http/1.1',
    });
    const blog = await get(port, 'blog.example.com', pki.ca);
    expect([blog.status, blog.subject, blog.altNames]).toEqual([200, 'blog.example.com', 'DNS:blog.example.com, DNS:www.blog.example.com']);
    // Asked again (cached context) and in another case: the same certificate.
    expect((await get(port, 'SHOP.apps.test', pki.ca)).subject).toBe('shop.apps.test');
  });

  it('offers only http/1.1 over ALPN', async () => {
    table.routes.set('shop.apps.test', edge('shop', shopCert));
    const socket = await connectTls(port, { servername: 'shop.apps.test', ca: pki.ca, ALPNProtocols: ['h2', 'http/1.1'] });
    expect(socket.alpnProtocol).toBe('http/1.1');
    socket.destroy();
  });

  it('presents the default certificate for an unknown name, no name, and an edge route without a certificate', async () => {
    table.routes.set('plain.apps.test', edge('plain'));
    for (const servername of ['nobody.apps.test', 'plain.apps.test', undefined]) {
      const answer = await get(port, servername, defaultCertificate.cert);
      expect([servername, answer.status, answer.subject, answer.altNames]).toEqual([servername, 200, `*.${DOMAIN}`, `DNS:*.${DOMAIN}, DNS:${DOMAIN}`]);
    }
  });

  it("falls back to the default certificate when a route's certificate does not load, and says so once", async () => {
    table.routes.set('broken.apps.test', { ...edge('broken'), certificate: shopCert.cert, key: blogCert.key });
    for (let i = 0; i < 2; i++) expect((await get(port, 'broken.apps.test', defaultCertificate.cert)).subject).toBe(`*.${DOMAIN}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/route demo\/broken: its TLS certificate or key does not load/);
  });

  it('passes a passthrough connection to an endpoint untouched: the client talks TLS with the backend itself', async () => {
    const clients: string[] = [];
    table.routes.set('secure.apps.test', passthrough('secure', [{ ip: '127.0.0.1', port: backend.port }], clients));
    const socket = await connectTls(port, { servername: 'secure.apps.test', ca: pki.ca });
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subject).toMatchObject({ CN: 'secure.apps.test', O: 'passthrough backend' });
    expect(backend.serverNames.at(-1)).toBe('secure.apps.test');
    expect(clients).toEqual(['127.0.0.1']);
    // A megabyte each way, byte for byte.
    const payload = randomBytes(1024 * 1024);
    const echoed = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let length = 0;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= payload.length) resolve(Buffer.concat(chunks));
      });
    });
    socket.write(payload);
    expect((await echoed).equals(payload)).toBe(true);
    socket.end();
    await closed(socket);
  });

  it('reads the current table on every connection', async () => {
    table.routes.set('shop.apps.test', edge('shop', shopCert));
    expect((await get(port, 'shop.apps.test', pki.ca)).subject).toBe('shop.apps.test');
    table.routes.set('shop.apps.test', passthrough('shop', [{ ip: '127.0.0.1', port: backend.port }]));
    const socket = await connectTls(port, { servername: 'shop.apps.test', ca: pki.ca, checkServerIdentity: () => undefined });
    expect(socket.getPeerCertificate().subject.O).toBe('passthrough backend');
    socket.destroy();
  });

  it('closes a passthrough connection whose route has no ready endpoint, or whose endpoint refuses', async () => {
    table.routes.set('empty.apps.test', passthrough('empty', []));
    await expect(connectTls(port, { servername: 'empty.apps.test', ca: pki.ca })).rejects.toThrow(/disconnected|ECONNRESET|closed/);
    table.routes.set('gone.apps.test', passthrough('gone', [{ ip: '127.0.0.1', port: await freePort() }]));
    await expect(connectTls(port, { servername: 'gone.apps.test', ca: pki.ca })).rejects.toThrow(/disconnected|ECONNRESET|closed/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(front.connections).toBe(0);
  });

  it('closes plain HTTP and garbage at once, and keeps serving', async () => {
    const http1 = await closedAfter(port, Buffer.from('GET / HTTP/1.1\r\nHost: shop.apps.test\r\n\r\n'));
    expect(http1.received.length).toBe(0);
    expect(http1.elapsedMs).toBeLessThan(HELLO_TIMEOUT_MS);
    const garbage = await closedAfter(port, Buffer.from([22, 3, 1, 0x40, 0x01, ...randomBytes(64)]));
    expect(garbage.received.length).toBeLessThanOrEqual(7); // at most a TLS alert from the terminator
    table.routes.set('shop.apps.test', edge('shop', shopCert));
    expect((await get(port, 'shop.apps.test', pki.ca)).status).toBe(200);
  });

  it('closes a client that sends nothing, or half a hello, after the hello timeout', async () => {
    const silent = await closedAfter(port);
    expect(silent.elapsedMs).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 50);
    expect(silent.elapsedMs).toBeLessThan(HELLO_TIMEOUT_MS + 2000);
    const half = await closedAfter(port, Buffer.from([22, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3]));
    expect(half.received.length).toBe(0);
    expect(half.elapsedMs).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 50);
  });

  it('closes every open connection, terminated or passed through, on close()', async () => {
    const other = new TlsFrontend({ routes: () => table, onDecrypted: (socket) => app.emit('connection', socket), defaultCertificate });
    const otherPort = await other.listen(0, '127.0.0.1');
    try {
      table.routes.set('shop.apps.test', edge('shop', shopCert));
      table.routes.set('secure.apps.test', passthrough('secure', [{ ip: '127.0.0.1', port: backend.port }]));
      const terminated = await connectTls(otherPort, { servername: 'shop.apps.test', ca: pki.ca });
      const passed = await connectTls(otherPort, { servername: 'secure.apps.test', ca: pki.ca });
      const silent = net.connect(otherPort, '127.0.0.1');
      silent.on('error', () => undefined);
      await new Promise((resolve) => silent.once('connect', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(other.connections).toBe(3);
      await other.close();
      expect(other.connections).toBe(0);
      await Promise.all([closed(terminated), closed(passed), closed(silent)]);
      await expect(connectTls(otherPort, { servername: 'shop.apps.test', ca: pki.ca })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await other.close();
    }
  });
});
