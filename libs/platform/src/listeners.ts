import type { Server as HttpServer } from 'node:http';
import net from 'node:net';

/** Set on connections accepted by an admin listener. */
const ADMIN_CONNECTION = Symbol('paas.adminConnection');
/** What an admin port answers; any other path is 404 there. */
const ADMIN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface ForwardOptions {
  port: number;
  host: string;
  reusePort?: boolean;
  /** Connections accepted here may ask only for ADMIN_PATHS. */
  admin?: boolean;
}

/**
 * A listener that hands every connection it accepts to `server`, which serves it as one of
 * its own (the router's TLS front does the same): one application answers on more ports or
 * addresses than Fastify's single `listen` gives it, with the same timeouts and shutdown.
 * Resolves once listening; rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL).
 */
export function forwardConnections(server: HttpServer, options: ForwardOptions): Promise<net.Server> {
  const listener = net.createServer({ noDelay: true }, (socket) => {
    if (options.admin) (socket as net.Socket & { [ADMIN_CONNECTION]?: true })[ADMIN_CONNECTION] = true;
    server.emit('connection', socket);
  });
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ port: options.port, host: options.host, reusePort: options.reusePort ?? false } as net.ListenOptions, () => {
      listener.off('error', reject);
      resolve(listener);
    });
  });
}

/** Whether a request came in through an admin listener and asks for something else than ADMIN_PATHS. */
export function outsideAdminPaths(socket: net.Socket, url: string): boolean {
  if ((socket as net.Socket & { [ADMIN_CONNECTION]?: true })[ADMIN_CONNECTION] !== true) return false;
  const query = url.indexOf('?');
  return !ADMIN_PATHS.has(query === -1 ? url : url.slice(0, query));
}

export function closeListener(listener: net.Server): Promise<void> {
  return new Promise((resolve) => listener.close(() => resolve()));
}
