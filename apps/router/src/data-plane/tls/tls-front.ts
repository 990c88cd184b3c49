import { sharedListenOptions } from '@paas/platform/ports';
import net from 'node:net';
import tls from 'node:tls';
import type { CertificatePair } from './default-certificate';
import { SecureContexts } from './secure-contexts';
import { peekServerName } from './sni';
import type { TlsBackend, TlsRouteLookup } from './tls-route-lookup';

export interface TlsFrontendOptions {
  /** The current route table, asked on every connection (the table is swapped by reference). */
  routes: () => TlsRouteLookup;
  /** Takes each decrypted connection: the data plane's `acceptTlsConnection`. */
  onDecrypted: (socket: tls.TLSSocket) => void;
  /** Presented for an unknown server name, no server name, or a route without its own certificate. */
  defaultCertificate: CertificatePair;
  /** The whole ClientHello must have arrived by then (5 s); else the connection is closed. */
  helloTimeoutMs?: number;
  /** The TLS handshake of a terminated connection must be done by then (10 s). */
  handshakeTimeoutMs?: number;
  /** A passthrough endpoint must accept the connection by then (5 s). */
  connectTimeoutMs?: number;
  warn?: (message: string) => void;
}

/** Destroys the emitter it is attached to (one shared function instead of a closure per socket). */
function destroySelf(this: net.Socket): void {
  this.destroy();
}

/**
 * The router's TLS port. It reads each connection's ClientHello (without consuming it) to
 * learn the server name, then either
 * - passes the bytes untouched to an endpoint of a `passthrough` route (closing the
 *   connection when the route has no ready endpoint), or
 * - terminates TLS itself (an `edge` route, an unknown or absent server name) with the
 *   route's certificate chosen by SNI, or the default one, and hands the decrypted socket to
 *   `onDecrypted` so the same HTTP data plane serves it (ALPN: http/1.1).
 * Bytes that cannot start a TLS handshake, and clients that send no whole hello within the
 * hello timeout, are disconnected. Per connection: one peek, one or two table lookups, a
 * cached SecureContext.
 */
export class TlsFrontend {
  private readonly server: net.Server;
  private readonly terminator: tls.Server;
  private readonly contexts: SecureContexts;
  private readonly open = new Set<net.Socket>();
  private readonly helloTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly warn: (message: string) => void;
  /** Set by close() while it waits for the last connection to close. */
  private drained?: () => void;

  constructor(private readonly options: TlsFrontendOptions) {
    this.helloTimeoutMs = options.helloTimeoutMs ?? 5_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.warn = options.warn ?? (() => undefined);
    this.contexts = new SecureContexts(this.warn);
    this.terminator = tls.createServer({
      cert: options.defaultCertificate.cert,
      key: options.defaultCertificate.key,
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      // A falsy context means the server's own, the default certificate.
      SNICallback: (serverName, done) => done(null, this.contextFor(serverName)),
    });
    this.terminator.on('secureConnection', (socket: tls.TLSSocket) => this.decrypted(socket));
    this.terminator.on('tlsClientError', (_error, socket: tls.TLSSocket) => socket.destroy());
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Listens, sharing the port with the other replicas, and answers the bound port (the given one, or the one picked for 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(sharedListenOptions(port, host), () => {
        this.server.off('error', reject);
        this.server.on('error', (error) => this.warn(`TLS port: ${error.message}`));
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Connections accepted and not yet closed (peeking, passed through or terminated). */
  get connections(): number {
    return this.open.size;
  }

  /** Stops listening and closes every open connection (their backend legs with them). */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = this.open.size === 0 ? undefined : new Promise<void>((resolve) => (this.drained = resolve));
    for (const socket of this.open) socket.destroy();
    await Promise.all([stopped, drained]);
  }

  private accept(socket: net.Socket): void {
    this.open.add(socket);
    socket.on('close', () => {
      this.open.delete(socket);
      if (this.open.size === 0) this.drained?.();
    });
    socket.on('error', destroySelf);
    socket.setTimeout(this.helloTimeoutMs);
    socket.on('timeout', destroySelf);
    let peeked: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      peeked = peeked === undefined ? chunk : Buffer.concat([peeked, chunk]);
      const peek = peekServerName(peeked);
      if (!peek.complete) return;
      socket.off('data', onData);
      socket.off('timeout', destroySelf);
      socket.setTimeout(0);
      socket.pause();
      if (peek.notTls) socket.destroy();
      else this.dispatch(socket, peeked, peek.serverName);
    };
    socket.on('data', onData);
  }

  private dispatch(socket: net.Socket, hello: Buffer, serverName: string | undefined): void {
    try {
      if (serverName !== undefined) {
        const route = this.options.routes().tlsRoute(serverName);
        if (route?.termination === 'passthrough') {
          const backend = route.pickBackend(socket.remoteAddress ?? '');
          if (backend) this.passThrough(socket, hello, backend);
          else socket.destroy();
          return;
        }
      }
      socket.unshift(hello);
      this.terminator.emit('connection', socket);
    } catch (error) {
      this.warn(`TLS connection for ${serverName ?? '(no server name)'} dropped: ${(error as Error).message}`);
      socket.destroy();
    }
  }

  /** Dials the endpoint, replays the hello, then copies bytes both ways until either side ends. */
  private passThrough(client: net.Socket, hello: Buffer, target: TlsBackend): void {
    const upstream = net.connect({ host: target.ip, port: target.port, noDelay: true });
    const teardown = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.setTimeout(this.connectTimeoutMs, teardown);
    upstream.once('connect', () => upstream.setTimeout(0));
    upstream.on('error', teardown);
    upstream.on('close', teardown);
    client.on('close', teardown);
    upstream.write(hello);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private contextFor(serverName: string): tls.SecureContext | undefined {
    try {
      const route = this.options.routes().tlsRoute(serverName.toLowerCase());
      if (route?.termination !== 'edge' || !route.certificate || !route.key) return undefined;
      return this.contexts.contextFor(route.certificate, route.key, `${route.namespace}/${route.name}`);
    } catch (error) {
      this.warn(`TLS route lookup for ${serverName} failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  private decrypted(socket: tls.TLSSocket): void {
    try {
      this.options.onDecrypted(socket);
    } catch (error) {
      this.warn(`a decrypted TLS connection was refused: ${(error as Error).message}`);
      socket.destroy();
    }
  }
}
